"""`make lint` keeps the architecture: undoing any of its rules (an upward import, a cycle, a second writer
of a status, the protocol's words written twice) makes it fail. Each case below undoes one in a copy of
the code and runs the same checks `make lint` runs."""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools import lint_rules

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_this_checkout_keeps_every_rule():
    assert lint_rules.check() == []


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the apps and the lint configuration, to break."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copy(ROOT / "pyproject.toml", root)
    for app in lint_rules.APPS:
        shutil.copytree(ROOT / app, root / app, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def lint_imports(root: Path, contract: str | None = None) -> subprocess.CompletedProcess:
    """lint-imports on the copy: every contract, or only the one with this id."""
    only = ["--contract", contract] if contract else []
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml", *only],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)},
        timeout=120,
    )


def test_the_import_contracts_hold_on_the_copy(checkout):
    result = lint_imports(checkout)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module, the line added to it, the id of the contract that must break)
UPWARD = [
    ("catalog/pricing.py", "from reseller.wallet.models import LedgerEntry", "apps"),
    ("reseller/wallet/views.py", "from orders.selectors import order_list_for_user", "apps"),
    ("reseller/accounts/admin.py", "from catalog.models import Provider", "apps"),
    ("orders/models.py", "from reseller.api.models import IdempotencyKey", "apps"),
    ("orders/placement.py", "def later():\n    from .tasks import order_submit", "orders"),
    ("orders/placement.py", "def later():\n    from .tasks import order_submit", "tasks"),
    ("orders/polling.py", "def later():\n    from .refills import refills_poll", "orders"),
    ("orders/moves.py", "from .polling import orders_poll", "orders"),
    ("orders/refunds.py", "from .moves import order_move", "orders"),
    ("catalog/upstream.py", "from .services import provider_client", "catalog"),
    ("reseller/wallet/models.py", "from .services import wallet_move", "wallet"),
    ("reseller/accounts/models.py", "from .services import api_key_rotate", "accounts"),
    ("reseller/api/models.py", "from .actions import ACTIONS", "api"),
    ("catalog/simulator.py", "import django", "stdlib-only"),
    ("catalog/protocol.py", "import requests", "stdlib-only"),
    ("reseller/api/actions.py", "from orders.tasks import order_submit", "tasks"),
]


@pytest.mark.parametrize(
    ("module", "line", "contract"), UPWARD, ids=[f"{c}: {m}: {line}" for m, line, c in UPWARD]
)
def test_an_import_against_the_layers_breaks_its_contract(checkout, module, line, contract):
    assert lint_imports(checkout, contract).returncode == 0, "the contract holds before"
    path = checkout / module
    original = path.read_text()
    path.write_text(original + "\n\n" + line + "  # noqa\n")
    try:
        result = lint_imports(checkout, contract)
    finally:
        path.write_text(original)

    assert result.returncode == 1, result.stdout
    assert "1 broken" in result.stdout


def test_a_cycle_between_two_modules_breaks_a_contract_even_inside_functions(checkout):
    edits = {
        "reseller/wallet/selectors.py": "def later():\n    from reseller.wallet import context_processors",
        "reseller/wallet/context_processors.py": "def later():\n    from reseller.wallet import selectors",
    }
    originals = {module: (checkout / module).read_text() for module in edits}
    for module, line in edits.items():
        (checkout / module).write_text(originals[module] + "\n\n" + line + "  # noqa\n")
    try:
        result = lint_imports(checkout, "no-cycles")
    finally:
        for module, text in originals.items():
            (checkout / module).write_text(text)

    assert result.returncode == 1 and "1 broken" in result.stdout


def test_a_new_module_must_find_its_place_in_a_layer(checkout):
    (checkout / "orders/helpers.py").write_text("X = 1\n")
    try:
        result = lint_imports(checkout, "orders")
    finally:
        (checkout / "orders/helpers.py").unlink()

    assert result.returncode == 1 and "orders.helpers" in result.stdout


# The rules imports cannot show (tools/lint_rules.py) ---------------------------------------------------


@pytest.fixture
def root(tmp_path):
    """A tree with the protocol module, for snippets to be checked in it."""
    (tmp_path / "catalog").mkdir()
    shutil.copy(ROOT / "catalog/protocol.py", tmp_path / "catalog/protocol.py")
    return tmp_path


def problems(root, module, code):
    path = root / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return [(problem.line, problem.rule) for problem in lint_rules.check_file(path, root)]


BROKEN_RULES = [
    ("orders/polling.py", "order.status = new_status", "status"),
    ("orders/polling.py", "order.status, order.remains = to, 5", "status"),
    ("orders/refills.py", 'Refill.objects.filter(pk=1).update(status="failed")', "status"),
    ("orders/placement.py", 'Order.objects.create(user=user, status="pending")', "status"),
    ("orders/polling.py", 'bulk_update(rows, ["status", "poll_error"])', "status"),
    ("orders/polling.py", 'FIELDS = ["status", "remains"]\nbulk_update(rows, FIELDS)', "status"),
    ("orders/polling.py", 'setattr(order, "status", "completed")', "status"),
    ("orders/cancels.py", "OrderEvent.objects.bulk_create(events)", "history"),
    ("orders/refills.py", 'RefillEvent(refill=refill, new_status="pending")', "history"),
    ("orders/operators.py", 'order.events.create(new_status="queued")', "history"),
    ("orders/submission.py", "wallet_move(user=u, amount=a, kind=LedgerEntry.Kind.REFUND)", "refund"),
    ("orders/polling.py", 'wallet_move(user=u, amount=a, kind="refund")', "refund"),
    ("reseller/api/actions.py", 'raise ApiError("Incorrect order ID")', "protocol"),
    ("orders/placement.py", 'if service.type == "Custom Comments":\n    pass', "protocol"),
    ("catalog/upstream.py", 'MISSING = "Refill not found"', "protocol"),
    ("orders/placement.py", 'message = f"Quantity less than minimal {low}"', "protocol"),
    ("catalog/pricing.py", 'per = 1 if kind == "Package" else 1000', "protocol"),
]


@pytest.mark.parametrize(("module", "code", "rule"), BROKEN_RULES, ids=[c for _, c, _ in BROKEN_RULES])
def test_breaking_a_rule_is_reported_where_it_happens(root, module, code, rule):
    found = problems(root, module, code)

    assert rule in {found_rule for _, found_rule in found}, found


def test_the_one_writer_may_write_statuses_and_history(root):
    code = """
        row.status = move.to
        bulk_update(rows, ["status", "updated_at"], only_if=("status", expected))
        OrderEvent.objects.bulk_create(events)
    """

    assert problems(root, "orders/moves.py", code) == []


def test_refunds_are_asked_for_in_one_place_and_the_wallet_knows_its_kinds(root):
    asks = "wallet_moves(moves=[Move(user=u, amount=a, kind=LedgerEntry.Kind.REFUND)])"

    assert problems(root, "orders/refunds.py", asks) == []
    assert problems(root, "reseller/wallet/selectors.py", "Kind.REFUND") == []


def test_a_label_that_reads_like_a_protocol_word_is_no_problem(root):
    code = """
        class Status(models.TextChoices):
            PENDING = "pending", "Pending"
            COMPLETED = "completed", _("Completed")
    """

    assert problems(root, "orders/models.py", code) == []


def test_a_translated_protocol_word_outside_a_label_is_a_problem(root):
    assert len(problems(root, "orders/views.py", 'text = _("Completed")')) == 1


def test_the_protocol_module_may_write_its_own_words(root):
    assert problems(root, "catalog/protocol.py", (ROOT / "catalog/protocol.py").read_text()) == []


def test_the_command_exits_1_and_names_each_problem(root):
    bad = root / "orders" / "polling.py"
    bad.parent.mkdir()
    bad.write_text("order.status = 'x'\n")

    result = subprocess.run(
        [sys.executable, str(ROOT / "tools/lint_rules.py"), str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )

    assert result.returncode == 1
    assert "polling.py:1: status: a status is set outside its move function" in result.stdout
