"""Placing an order: the checks, the quote, and the charge, for the order form, our API and admin alike.

The order is charged and created in one transaction; its submission upstream is queued after commit
(orders/submission.py does it).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from catalog.models import Service
from catalog.pricing import order_amount
from catalog.service_types import Counting
from catalog.services import service_rate_for
from reseller.money import format_money, format_number
from reseller.params import integer
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import InsufficientFunds, wallet_move

from .errors import OrderError, interpolate_lazy
from .models import Order
from .moves import order_created
from .queue import order_submission_enqueue

MAX_LINK = 2048
# Numbers and amounts in messages, formatted when shown, in the language active then.
lazy_number = lazy(format_number, str)
lazy_money = lazy(format_money, str)
BAD_LINK = _("Enter a valid http:// or https:// link.")


def order_quote(*, user, service: Service, quantity: int) -> tuple[Decimal, Decimal]:
    """(rate, charge) this customer would pay now. Raises OrderError for a total too large to store."""
    rate = service_rate_for(service=service, user=user)
    try:
        return rate, order_amount(rate=rate, quantity=quantity, per=service.type_rule.per)
    except ValueError:
        raise OrderError(
            _("The total is too large for one order."), code="quantity", field="quantity"
        ) from None


def order_validate(
    *, service: Service | None, link: str, quantity: int | str | None = None, comments: str = ""
) -> tuple[str, int, str]:
    """Checks an order's fields; returns (link, quantity, comments) cleaned. Raises OrderError."""
    if service is None or not (
        service.is_enabled and service.is_sellable_type and service.provider.is_active
    ):
        raise OrderError(_("This service is not available."), code="service", field="service")
    link = _clean_link(link)
    quantity, comments = _clean_quantity(service, quantity, comments)
    return link, quantity, comments


def order_preview(*, user, service: Service, link: str, quantity, comments: str = "") -> dict:
    """What the order form shows as the customer types: the rate, each field's problem, and, once the
    quantity is valid, the total and the balance after it."""
    preview = {"service": service, "balance": wallet_balance(user=user)}
    preview["errors"] = order_problems(service=service, link=link, quantity=quantity, comments=comments)
    if not link:
        preview["errors"].pop("link", None)  # no complaint about a link not typed yet
    preview["rate"] = order_quote(user=user, service=service, quantity=0)[0]
    if not {"quantity", "comments"} & preview["errors"].keys():
        count = order_quantity(service=service, quantity=quantity, comments=comments)[0]
        try:
            preview["total"] = order_quote(user=user, service=service, quantity=count)[1]
        except OrderError as exc:
            preview["errors"][exc.field] = exc.message
        else:
            preview["balance_after"] = preview["balance"] - preview["total"]
    return preview


def order_problems(*, service: Service, link: str, quantity, comments: str = "") -> dict[str, str]:
    """Every field's problem at once (the order form shows them as the customer types)."""
    problems = {}
    for field, check in (
        ("link", lambda: _clean_link(link)),
        ("quantity", lambda: _clean_quantity(service, quantity, comments)),
    ):
        try:
            check()
        except OrderError as exc:
            problems[exc.field or field] = exc.message
    return problems


def _clean_link(link: str) -> str:
    link = (link or "").strip()
    if any(ord(character) < 32 or ord(character) == 127 for character in link):
        raise OrderError(BAD_LINK, code="link", field="link")
    if len(link) > MAX_LINK:
        message = _("The link is too long (at most %(max)s characters).")
        raise OrderError(interpolate_lazy(message, {"max": lazy_number(MAX_LINK)}), code="link", field="link")
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise OrderError(BAD_LINK, code="link", field="link") from None
    return link


def _clean_quantity(service: Service, quantity, comments: str) -> tuple[int, str]:
    """The count within the service's limits. Codes: "min" and "max" (our API answers the protocol's
    texts with the limit), "comments" when there are none, "quantity" for what is no count at all (a
    negative number too: the customer is told the minimum, the API answers "Incorrect request")."""
    quantity, comments = order_quantity(service=service, quantity=quantity, comments=comments)
    low, high = service.min_quantity, service.max_quantity
    lines = service.type_rule.counting is Counting.LINES
    field = service.type_rule.count_field
    if lines and quantity == 0:
        raise OrderError(_("Enter the comments, one per line."), code="comments", field=field)
    if quantity < low:
        message = (
            ngettext_lazy(
                "Enter at least %(min)s comment, one per line.",
                "Enter at least %(min)s comments, one per line.",
                low,
            )
            if lines
            else _("The quantity must be at least %(min)s.")
        )
        code = "min" if quantity >= 0 else "quantity"
        raise OrderError(interpolate_lazy(message, {"min": lazy_number(low)}), code=code, field=field)
    if quantity > high:
        message = (
            ngettext_lazy(
                "Enter at most %(max)s comment, one per line.",
                "Enter at most %(max)s comments, one per line.",
                high,
            )
            if lines
            else _("The quantity can be at most %(max)s.")
        )
        raise OrderError(interpolate_lazy(message, {"max": lazy_number(high)}), code="max", field=field)
    return quantity, comments


def order_quantity(*, service: Service, quantity: int | str | None, comments: str = "") -> tuple[int, str]:
    """(quantity, comments) as the service's type counts them: given, one per line, or one package. A
    given quantity may be out of bounds (negative, huge): _clean_quantity says so. Raises OrderError."""
    counting = service.type_rule.counting
    if counting is Counting.LINES:
        if "\x00" in (comments or ""):
            message = _("Comments cannot contain control characters.")
            raise OrderError(message, code="quantity", field="comments")
        lines = [line.strip() for line in (comments or "").splitlines() if line.strip()]
        return len(lines), "\n".join(lines)
    if counting is Counting.ONE:
        return 1, ""
    number = integer(quantity)
    if number is None:
        raise OrderError(_("Enter the quantity as a whole number."), code="quantity", field="quantity")
    return number, ""


def order_place(
    *,
    user,
    service: Service | None,
    link: str,
    quantity: int | str | None = None,
    comments: str = "",
    client_token: str = "",
) -> Order:
    """Charges the customer and creates the order in one transaction; submission is queued after commit.

    A `client_token` (the order form sends one per form shown) makes a repeated submission return the
    order it already placed instead of charging again. Raises OrderError (nothing charged or created) for
    bad input or insufficient funds.
    """
    client_token = (client_token or "")[:64]
    if client_token and (placed := Order.objects.filter(user=user, client_token=client_token).first()):
        return placed
    link, quantity, comments = order_validate(
        service=service, link=link, quantity=quantity, comments=comments
    )
    rate, charge = order_quote(user=user, service=service, quantity=quantity)
    cost = order_amount(rate=service.cost_rate, quantity=quantity, per=service.type_rule.per)
    if charge <= 0:
        raise OrderError(_("This service has no price yet."), code="service", field="service")
    try:
        with transaction.atomic():
            order = Order.objects.create(
                user=user,
                service=service,
                provider=service.provider,
                link=link,
                quantity=quantity,
                comments=comments,
                rate=rate,
                cost_rate=service.cost_rate,
                charge=charge,
                cost=cost,
                exchange_rate=service.provider.exchange_rate,
                client_token=client_token,
            )
            order_created(order=order)
            wallet_move(
                user=user,
                amount=-charge,
                kind=LedgerEntry.Kind.CHARGE,
                order_id=order.pk,
                note=f"Order {order.pk}",
            )
    except InsufficientFunds as exc:
        message = _("Insufficient funds: the balance is %(balance)s and this order costs %(charge)s.")
        values = {"balance": lazy_money(exc.balance), "charge": lazy_money(-exc.amount)}
        raise OrderError(interpolate_lazy(message, values), code="funds") from None
    except IntegrityError:
        if client_token:  # the same form, submitted twice at once: the other request placed it
            return Order.objects.get(user=user, client_token=client_token)
        raise
    order_submission_enqueue(order_id=order.pk)
    return order
