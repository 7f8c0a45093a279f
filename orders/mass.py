"""Mass orders: many orders typed one per line, checked together and placed in one transaction.

A line is `service | link | quantity` or `service | quantity | link` (protocol, part 3): which field is
the link tells the two apart. Checking changes nothing; placing charges every valid line at once, or none
when the balance does not cover them all, and a second submission of the same page places nothing more.
"""

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog.models import Service
from catalog.service_types import LINK, QUANTITY
from reseller.params import whole_number
from reseller.wallet.selectors import wallet_balance

from .errors import OrderError, interpolate_lazy
from .models import MassOrder, Status
from .placement import Placement, lazy_money, lazy_number, order_create, order_quote, order_validate
from .selectors import sellable_services

SEPARATOR = re.compile(r"\s*\|\s*")
# The fields a line can carry: services of other types need the order form.
LINE_FIELDS = {LINK, QUANTITY}
BAD_LINE = _("Write the line as service | link | quantity (or service | quantity | link).")


@dataclass
class Line:
    """One line as checked: its service and price, or its problem."""

    number: int
    text: str
    service: Service | None = None
    quantity: int | None = None
    charge: Decimal | None = None
    problem: str | Promise | None = None
    placement: Placement | None = field(default=None, repr=False)
    order_id: int | None = None


@dataclass
class MassCheck:
    lines: list[Line]
    balance: Decimal
    problem: str | Promise | None = None  # the whole submission's (too many lines, none at all)

    @property
    def valid(self) -> list[Line]:
        return [line for line in self.lines if line.problem is None]

    @property
    def invalid(self) -> list[Line]:
        return [line for line in self.lines if line.problem is not None]

    @property
    def total(self) -> Decimal:
        return sum((line.charge for line in self.valid), Decimal(0))

    @property
    def covered(self) -> bool:
        return self.total <= self.balance

    @property
    def placeable(self) -> bool:
        return self.problem is None and bool(self.valid) and self.covered


def mass_fingerprint(text: str) -> str:
    """What a Check saw: "Place" places these lines only if they are still the ones checked."""
    lines = [row.strip() for row in (text or "").splitlines() if row.strip()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def mass_check(*, user, text: str) -> MassCheck:
    """Every line's service, price and problem, and the total against the balance. Changes nothing."""
    rows = [(number, row.strip()) for number, row in enumerate((text or "").splitlines(), 1) if row.strip()]
    check = MassCheck(lines=[], balance=wallet_balance(user=user))
    if "\x00" in (text or ""):
        check.problem = _("Remove the control characters from the lines.")
        return check
    most = settings.MASS_ORDER_MAX_LINES
    if len(rows) > most:
        message = _("At most %(max)s lines at once; this has %(count)s.")
        values = {"max": lazy_number(most), "count": lazy_number(len(rows))}
        check.problem = interpolate_lazy(message, values)
        return check
    if not rows:
        check.problem = _("Write one order per line.")
        return check
    services = _services(rows)
    check.lines = [_check_line(user, number, row, services) for number, row in rows]
    return check


def mass_place(*, user, text: str, client_token: str, checked: str | None = None) -> MassOrder:
    """Places every valid line in one transaction: all of them, or none when the balance does not cover
    them. The same page submitted twice (`client_token`) returns the first mass order; `checked` (the page's
    `mass_fingerprint` of its last Check) must match the lines, so what is charged is what was checked.
    Raises OrderError (nothing charged) when nothing can be placed."""
    client_token = (client_token or "")[:64]
    if not client_token:
        raise OrderError(_("Reload the page and try again."), code="token")
    if placed := MassOrder.objects.filter(user=user, client_token=client_token).first():
        return placed
    if checked is not None and checked != mass_fingerprint(text):
        raise OrderError(
            _("The lines changed since they were checked: check them, then place them."), code="changed"
        )
    check = mass_check(user=user, text=text)
    if check.problem is not None:
        raise OrderError(check.problem, code="lines")
    if not check.valid:
        raise OrderError(_("No line can be placed: correct the lines marked below."), code="lines")
    try:
        with transaction.atomic():
            mass = MassOrder.objects.create(user=user, client_token=client_token, total=check.total)
            for line in check.valid:
                order = order_create(
                    user=user, service=line.service, placement=line.placement, mass_order=mass
                )
                line.order_id = order.pk
            mass.lines = [_stored(line) for line in check.lines]
            mass.save(update_fields=["lines"])
    except IntegrityError:  # the same page, submitted twice at once: the other request placed it
        return MassOrder.objects.get(user=user, client_token=client_token)
    except OrderError as exc:
        if exc.code != "funds":
            raise
        message = _("Insufficient funds: the balance is %(balance)s and these orders cost %(total)s.")
        values = {"balance": lazy_money(wallet_balance(user=user)), "total": lazy_money(check.total)}
        raise OrderError(interpolate_lazy(message, values), code="funds") from None
    return mass


def _services(rows) -> dict[int, Service]:
    """The sellable services the lines name, in one query."""
    ids = {whole_number(SEPARATOR.split(row, maxsplit=2)[0]) for _, row in rows} - {None}
    return {service.pk: service for service in sellable_services().filter(pk__in=ids)}


def _check_line(user, number: int, row: str, services: dict[int, Service]) -> Line:
    line = Line(number=number, text=row)
    parts = SEPARATOR.split(row)
    if len(parts) != 3:
        line.problem = BAD_LINE
        return line
    service_id, first, second = parts
    link, quantity = (
        (second, first) if _looks_like_link(second) and not _looks_like_link(first) else (first, second)
    )
    line.service = services.get(whole_number(service_id))
    if line.service is None:
        line.problem = _("There is no service %(id)s for sale.") % {"id": service_id[:20]}
        return line
    if not set(line.service.type_rule.fields) <= LINE_FIELDS:
        line.problem = _("This service needs more than a link and a quantity: order it on the order form.")
        return line
    if QUANTITY not in line.service.type_rule.fields and whole_number(quantity) != 1:
        line.problem = _("A package is one per line: write 1 as its quantity.")
        return line
    try:
        line.placement = order_validate(service=line.service, link=link, quantity=quantity)
        line.quantity = line.placement.quantity
        line.charge = order_quote(user=user, service=line.service, quantity=line.quantity)[1]
    except OrderError as exc:
        line.problem = exc.message
    else:
        if line.charge <= 0:
            line.problem = _("This service has no price yet.")
    return line


def _looks_like_link(text: str) -> bool:
    return bool(re.match(r"https?://", text.strip(), re.IGNORECASE))


def _stored(line: Line) -> dict:
    """A line as the mass order keeps it: the order placed, or the problem (in the language it was shown)."""
    stored = {"line": line.number, "text": line.text[:500].replace("\x00", "")}
    if line.problem is None:
        stored["order"] = line.order_id
    else:
        stored["error"] = str(line.problem)
    return stored


def mass_progress(*, mass: MassOrder) -> dict:
    """How far its orders are (how many the provider has, or refused, of how many), and each line with
    its order, or its problem."""
    orders = {order.pk: order for order in mass.orders.prefetch_related("refills")}
    waiting = sum(1 for order in orders.values() if order.status in (Status.QUEUED, Status.SUBMITTING))
    count = len(orders)
    return {
        "rows": [(line, orders.get(line.get("order"))) for line in mass.lines],
        "count": count,
        "done": count - waiting,
        "percent": (count - waiting) * 100 // count if count else 100,
        "finished": waiting == 0,
    }
