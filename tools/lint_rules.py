"""Rules of the architecture that imports alone cannot show; `make lint` runs this after import-linter.

- status: a state machine's status is written only by its one move function (orders/moves.py for orders
  and refills, payments/moves.py for deposits and bank transfers): no `.update(status=...)`,
  `obj.status = ...`, `"status"` in a bulk update's fields or `status=` at creation anywhere else.
- history: history rows (OrderEvent, RefillEvent, DepositHistory) are written only there too.
- refund: only orders/refunds.py (and the wallet itself) asks the wallet for a refund.
- protocol: the protocol's words (error texts, status and service type names) are written only in
  catalog/protocol.py; everything else uses its names. A TextChoices label may read the same.

Standard library only. Usage: python tools/lint_rules.py [PATH ...] (default: the apps of this checkout).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("reseller", "catalog", "orders", "payments", "cockpit", "support", "affiliates")
STATUS_WRITERS = {"orders/moves.py", "payments/moves.py", "support/moves.py", "affiliates/payouts.py"}
# The provider's and the gateways' side: their statuses are not our state machines.
NOT_OURS = {"catalog/simulator.py", "payments/fakes.py"}
HISTORY_MODELS = {"OrderEvent", "RefillEvent", "DepositHistory", "TicketEvent", "PayoutEvent"}
HISTORY_WRITERS = {"orders/moves.py", "payments/moves.py", "support/moves.py", "affiliates/payouts.py"}
REFUNDERS = {"orders/refunds.py"}
REFUNDER_PACKAGES = ("reseller/wallet/",)
# They name refunds without asking for one: the dashboard's figures sum them, and its benchmark writes
# history rows into a database of its own.
REFUND_READERS = {"cockpit/figures.py", "cockpit/management/commands/bench_dashboard.py"}
PROTOCOL = "catalog/protocol.py"
CREATORS = {"create", "get_or_create", "update_or_create", "update"}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def protocol_words(root: Path = ROOT) -> tuple[set[str], tuple[str, ...]]:
    """The texts only catalog/protocol.py may write, and the prefixes of its formatted messages."""
    spec = importlib.util.spec_from_file_location("_protocol", root / PROTOCOL)
    protocol = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(protocol)
    words = {
        value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }
    for enum in (
        protocol.OrderStatus,
        protocol.RefillStatus,
        protocol.SubscriptionStatus,
        protocol.ServiceType,
    ):
        words |= {member.value for member in enum}
    prefixes = (protocol.quantity_below_min(0)[:-1], protocol.quantity_above_max(0)[:-1])
    return words, prefixes


class _Checker(ast.NodeVisitor):
    def __init__(self, relative: str, words: set[str], prefixes: tuple[str, ...]):
        self.relative, self.words, self.prefixes = relative, words, prefixes
        self.problems: list[Problem] = []
        self.labels: set[int] = set()  # ids of constants that are TextChoices labels
        self.lists: dict[str, list[str]] = {}  # module-level names bound to lists of strings

    def report(self, node: ast.AST, rule: str, message: str) -> None:
        self.problems.append(Problem(self.relative, getattr(node, "lineno", 0), rule, message))

    # status and history ------------------------------------------------------------------------------

    @property
    def writes_status(self) -> bool:
        return self.relative in STATUS_WRITERS | NOT_OURS

    def visit_Module(self, node: ast.Module) -> None:
        for statement in node.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.List | ast.Tuple):
                strings = [e.value for e in statement.value.elts if isinstance(e, ast.Constant)]
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self.lists[target.id] = [s for s in strings if isinstance(s, str)]
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for statement in node.body:
            value = getattr(statement, "value", None)
            if isinstance(statement, ast.Assign) and isinstance(value, ast.Tuple) and len(value.elts) == 2:
                label = value.elts[1]
                if isinstance(label, ast.Call) and len(label.args) == 1:  # a translated label: _("Pending")
                    label = label.args[0]
                if isinstance(label, ast.Constant) and isinstance(label.value, str):
                    self.labels.add(id(label))
        self.generic_visit(node)

    def _assigned(self, targets) -> None:
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Attribute) and node.attr == "status" and not self.writes_status:
                    self.report(node, "status", "a status is set outside its move function")

    def visit_Assign(self, node: ast.Assign) -> None:
        self._assigned(node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned([node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._assigned([node.target])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _called(node)
        if not self.writes_status:
            if name in CREATORS and any(k.arg == "status" for k in node.keywords):
                self.report(node, "status", f"`{name}(status=...)` outside the move function")
            if name == "bulk_update" and "status" in self._fields_of(node):
                self.report(node, "status", "a bulk update writes `status` outside the move function")
            if name == "setattr" and len(node.args) > 1 and _constant(node.args[1]) == "status":
                self.report(node, "status", "a status is set outside its move function")
        if self.relative not in HISTORY_WRITERS and _names_history(node):
            self.report(node, "history", "a history row is written outside the move function")
        if not self._refunds() and any(
            k.arg == "kind" and _constant(k.value) == "refund" for k in node.keywords
        ):
            self.report(node, "refund", "a refund is asked of the wallet outside orders/refunds.py")
        self.generic_visit(node)

    def _fields_of(self, node: ast.Call) -> list[str]:
        fields = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "fields"), None)
        )
        if isinstance(fields, ast.Name):
            return self.lists.get(fields.id, [])
        if isinstance(fields, ast.List | ast.Tuple):
            return [
                s for e in ast.walk(fields) if isinstance(e, ast.Constant) and isinstance(s := e.value, str)
            ]
        return []

    # refunds -----------------------------------------------------------------------------------------

    def _refunds(self) -> bool:
        return self.relative in REFUNDERS | REFUND_READERS or self.relative.startswith(REFUNDER_PACKAGES)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "REFUND" and not self._refunds():
            self.report(node, "refund", "a refund is asked of the wallet outside orders/refunds.py")
        self.generic_visit(node)

    # protocol words ----------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        if self.relative == PROTOCOL or not isinstance(node.value, str) or id(node) in self.labels:
            return
        if node.value in self.words or node.value.startswith(self.prefixes):
            self.report(node, "protocol", f"{node.value!r} is the protocol's: use catalog.protocol")


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _constant(node: ast.AST):
    return node.value if isinstance(node, ast.Constant) else None


def _names_history(node: ast.Call) -> bool:
    """`OrderEvent(...)`, `OrderEvent.objects.create(...)`, `order.events.create(...)` and the like."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in HISTORY_MODELS
    if isinstance(func, ast.Attribute) and func.attr in {"create", "bulk_create", "get_or_create"}:
        names = {n.id for n in ast.walk(func.value) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(func.value) if isinstance(n, ast.Attribute)}
        return bool(names & (HISTORY_MODELS | {"events"}))
    return False


def check_file(path: Path, root: Path = ROOT, words=None) -> list[Problem]:
    words, prefixes = words or protocol_words(root)
    relative = _relative(path, root)
    checker = _Checker(relative, words, prefixes)
    checker.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return checker.problems


def _relative(path: Path, root: Path) -> str:
    """The path as the rules name it ("orders/moves.py"), from the first app folder on."""
    path = path.resolve()
    if path.is_relative_to(root.resolve()):
        return path.relative_to(root.resolve()).as_posix()
    parts = path.parts
    start = next((i for i, part in enumerate(parts) if part in APPS), len(parts) - 1)
    return "/".join(parts[start:])


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and not path.name.startswith("settings")
    )


def check(root: Path = ROOT, paths: list[Path] | None = None) -> list[Problem]:
    words = protocol_words(root)
    return sorted(problem for path in (paths or sources(root)) for problem in check_file(path, root, words))


def main(argv: list[str]) -> int:
    problems = check(ROOT, [Path(arg) for arg in argv] or None)
    for problem in problems:
        print(problem)
    print(
        f"lint_rules: {len(problems)} problem(s)" if problems else "lint_rules: the architecture rules hold"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
