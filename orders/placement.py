"""Placing an order of any type: the checks, the quote, and the charge, for the order form, our API, admin
and mass orders alike.

The fields each type takes, and how they are counted, come from the table in catalog/service_types.py;
this module checks them and names the field of every problem. The order is charged and created in one
transaction; its submission upstream is queued after commit (orders/submission.py does it).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from catalog import protocol
from catalog.models import Service
from catalog.pricing import order_amount
from catalog.service_types import FIELDS, INTERVAL, RUNS, Counting, Field, Kind
from catalog.services import service_rate_for
from reseller.money import format_money, format_number
from reseller.params import integer
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import InsufficientFunds, OrderingPaused, wallet_move

from .errors import OrderError, interpolate_lazy
from .fields import choices, label, maximum
from .models import Order
from .moves import order_created
from .queue import order_submission_enqueue

MAX_LINK = 2048
MAX_LINE = 200  # a one-line field (a username, a hashtag)
MAX_TEXT = 200_000  # all the lines of a list field together
# Numbers and amounts in messages, formatted when shown, in the language active then.
lazy_number = lazy(format_number, str)
lazy_money = lazy(format_money, str)
BAD_LINK = _("Enter a valid http:// or https:// link.")
REQUIRED = _("%(field)s: this field is required.")
TOO_LONG = _("%(field)s: at most %(max)s characters.")
AT_LEAST = _("%(field)s: at least %(min)s.")
AT_MOST = _("%(field)s: at most %(max)s.")
NOT_A_NUMBER = _("%(field)s: enter a whole number.")


def order_quote(*, user, service: Service, quantity: int) -> tuple[Decimal, Decimal]:
    """(rate, charge) this customer would pay now. Raises OrderError for a total too large to store."""
    rate = service_rate_for(service=service, user=user)
    try:
        return rate, order_amount(rate=rate, quantity=quantity, per=service.type_rule.per)
    except ValueError:
        raise OrderError(
            _("The total is too large for one order."), code="quantity", field=service.type_rule.count_field
        ) from None


@dataclass
class Placement:
    """An order's fields, checked: what it is charged for and what `add` sends."""

    link: str
    quantity: int  # the units charged: runs x quantity per run, posts x the most per post
    comments: str
    upstream_fields: dict[str, str]
    runs: int | None = None
    interval: int | None = None


# Fields whose problem leaves the count, so the total, unknown.
COUNTED_BY = {"quantity", "min", "max", "posts", "runs", "interval"}


def order_validate(*, service: Service | None, **data) -> Placement:
    """Checks an order's fields (raw, as typed or sent: link, quantity, comments, usernames, runs, ...)
    against its service's type. Raises OrderError for the first problem, in the form's order."""
    if service is None or not (
        service.is_enabled and service.is_sellable_type and service.provider.is_active
    ):
        raise OrderError(_("This service is not available."), code="service", field="service")
    placement, problems, _count_known = _check(service, data)
    if problems:
        raise next(iter(problems.values()))
    return placement


def order_problems(*, service: Service, data: Mapping) -> dict[str, str | Promise]:
    """Every field's problem at once (the order form shows them as the customer types)."""
    return {field: exc.message for field, exc in _check(service, data)[1].items()}


def order_preview(*, user, service: Service, data: Mapping) -> dict:
    """What the order form shows as the customer types: the rate, each field's problem (none yet for a
    field not typed, but the count's), and, once the count is valid, the total and the balance after it."""
    preview = {"service": service, "balance": wallet_balance(user=user)}
    _, problems, count = _check(service, data)
    count_field = service.type_rule.count_field
    preview["errors"] = {
        field: exc.message
        for field, exc in problems.items()
        if field in (count_field, *_asked_with(data)) or str(data.get(field) or "").strip()
    }
    preview["rate"] = order_quote(user=user, service=service, quantity=0)[0]
    preview["count"] = count
    if count is not None:
        try:
            preview["total"] = order_quote(user=user, service=service, quantity=count)[1]
        except OrderError as exc:
            preview["errors"][exc.field] = exc.message
        else:
            preview["balance_after"] = preview["balance"] - preview["total"]
    return preview


def _asked_with(data: Mapping) -> tuple[str, ...]:
    """Fields a typed one makes required: runs ask for an interval."""
    return ("interval",) if str(data.get("runs") or "").strip() else ()


def _check(service: Service, data: Mapping) -> tuple[Placement | None, dict[str, OrderError], int | None]:
    """The placement the fields make (None if any is bad), every field's problem (by field, in the form's
    order), and the count when the fields it depends on are good."""
    values, problems = _values(service, data)
    count = dripfeed = None
    if not problems.keys() & (COUNTED_BY | {service.type_rule.count_from}):
        try:
            count, dripfeed = _count(service, values, data)
        except OrderError as exc:
            problems.setdefault(exc.field, exc)
    if problems:
        return None, problems, count
    sent = {name: value for name, value in values.items() if value != ""}
    if dripfeed:
        sent.update(runs=str(dripfeed[0]), interval=str(dripfeed[1]))
    placement = Placement(
        link=values.get("link", ""),
        quantity=count,
        comments=values.get("comments", ""),
        upstream_fields=sent,
        runs=dripfeed[0] if dripfeed else None,
        interval=dripfeed[1] if dripfeed else None,
    )
    return placement, problems, count


def _values(service: Service, data: Mapping) -> tuple[dict[str, str], dict[str, OrderError]]:
    """Each of the type's fields cleaned (as sent upstream), and the problems of those that are not."""
    values, problems = {}, {}
    for field in service.type_rule.fields:
        try:
            values[field.name] = _clean(field, data.get(field.name), service)
        except OrderError as exc:
            problems.setdefault(exc.field or field.name, exc)
    return values, problems


def _count(service: Service, values: dict, data: Mapping) -> tuple[int, tuple[int, int] | None]:
    """The units charged for, and the drip-feed's (runs, interval) if it is one. Raises OrderError."""
    rule = service.type_rule
    dripfeed = _dripfeed(service, data)
    if rule.counting is Counting.ONE:
        return 1, None
    if rule.counting is Counting.LINES:
        count = len(values[rule.count_from].splitlines())
        _within_limits(service, count, rule.count_from)
        return count, None
    if rule.counting is Counting.POSTS:
        low, high = int(values["min"]), int(values["max"])
        if low > high:
            message = _("Maximum per post: it cannot be below the minimum per post.")
            raise OrderError(message, code="min_max", field="max")
        old_posts = values.get("old_posts")
        if old_posts and int(old_posts) > int(values["posts"]):
            message = _("Old posts: at most as many as the posts.")
            raise OrderError(message, code="old_posts", field="old_posts")
        return int(values["posts"]) * high, None
    quantity = int(values["quantity"])
    return quantity * (dripfeed[0] if dripfeed else 1), dripfeed


def _dripfeed(service: Service, data: Mapping) -> tuple[int, int] | None:
    """(runs, interval) when the order asks for runs (2 or more); None for one delivery. Raises
    OrderError when the service offers no drip-feed or either is bad."""
    runs = str(data.get("runs") or "").strip()
    if runs in ("", "0", "1"):
        return None
    if not service.offers_dripfeed:
        message = _("Drip-feed is not available for this service.")
        raise OrderError(message, code="dripfeed", field="runs")
    # Both are required together (part 3).
    runs_field, interval_field = (replace(field, required=True) for field in (RUNS, INTERVAL))
    return int(_clean(runs_field, runs, service)), int(_clean(interval_field, data.get("interval"), service))


def _clean(field: Field, raw, service: Service) -> str:
    """One field's value as sent upstream ("" for an optional one left empty). Raises OrderError."""
    text = "" if raw is None else str(raw)
    if "\x00" in text or (field.kind is not Kind.LINES and any(ord(c) < 32 or ord(c) == 127 for c in text)):
        if field.name == "link":
            raise OrderError(BAD_LINK, code="link", field="link")
        if field.name == "comments":
            raise OrderError(
                _("Comments cannot contain control characters."), code="quantity", field="comments"
            )
        code = "quantity" if field.kind is Kind.COUNT else None  # no limit's text from our API
        raise _problem(field, _("%(field)s: remove the control characters."), code=code)
    text = text.strip()
    if field.kind is Kind.URL:
        return _clean_url(field, text)
    if field.kind is Kind.COUNT:
        return str(_clean_count(field, text, service))
    if not text and not (field.required and field.kind is Kind.CHOICE):  # a choice says what to choose
        if field.kind is Kind.LINES and service.type_rule.count_from == field.name:
            _within_limits(service, 0, field.name)  # "enter the comments": the count's own message
        if field.required:
            raise _problem(
                field, _("%(field)s: enter one per line.") if field.kind is Kind.LINES else REQUIRED
            )
        return ""
    if field.kind is Kind.LINES:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if sum(map(len, lines)) > MAX_TEXT:
            raise _problem(field, TOO_LONG, max=lazy_number(MAX_TEXT))
        return "\n".join(lines)
    if field.kind is Kind.TEXT:
        if len(text) > MAX_LINE:
            raise _problem(field, TOO_LONG, max=lazy_number(MAX_LINE))
        return text
    if field.kind is Kind.DATE:
        return _clean_date(field, text)
    number = integer(text)
    if field.kind is Kind.CHOICE:
        offered = choices(field)
        if number not in offered:
            listed = ", ".join(map(str, offered))
            raise _problem(field, _("%(field)s: choose one of %(choices)s."), choices=listed)
        return str(number)
    if number is None:
        raise _problem(field, NOT_A_NUMBER)
    if number < field.minimum:
        raise _problem(field, AT_LEAST, min=lazy_number(field.minimum))
    if (most := maximum(field)) is not None and number > most:
        raise _problem(field, AT_MOST, max=lazy_number(most))
    return str(number)


def _problem(field: Field, message, *, code: str | None = None, **values) -> OrderError:
    """A field's problem, its message naming the field (the API shows it as it is)."""
    message = interpolate_lazy(message, {"field": label(field.name), **values})
    return OrderError(message, code=code or field.name, field=field.name)


def _clean_url(field: Field, link: str) -> str:
    if field.name == "link":
        bad = OrderError(BAD_LINK, code="link", field="link")
    elif not link and not field.required:
        return ""
    else:
        bad = _problem(field, _("%(field)s: enter a valid http:// or https:// link."))
    if len(link) > MAX_LINK:
        message = _("The link is too long (at most %(max)s characters).")
        values = {"max": lazy_number(MAX_LINK)}
        raise OrderError(interpolate_lazy(message, values), code=bad.code, field=field.name)
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise bad from None
    return link


def _clean_date(field: Field, text: str) -> str:
    """A day after today, typed as dd/mm/yyyy or picked (yyyy-mm-dd); sent as d/m/Y."""
    for pattern in (protocol.EXPIRY_FORMAT, "%Y-%m-%d"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if day > timezone.localdate():
            return day.strftime(protocol.EXPIRY_FORMAT)
        break
    raise _problem(field, _("%(field)s: enter a day after today, as dd/mm/yyyy."))


def _clean_count(field: Field, text: str, service: Service) -> int:
    """A count within the service's limits. Codes: "min" and "max" (our API answers the protocol's
    texts with the limit), "quantity" for what is no count at all (a negative number too: the customer
    is told the minimum, the API answers "Incorrect request")."""
    number = integer(text)
    if number is None:
        if field.name == "quantity":
            raise OrderError(_("Enter the quantity as a whole number."), code="quantity", field="quantity")
        raise _problem(field, NOT_A_NUMBER, code="quantity")
    _within_limits(service, number, field.name)
    return number


def _within_limits(service: Service, count: int, field: str) -> None:
    """The count (of a field, or of its lines) within the service's min and max."""
    low, high = service.min_quantity, service.max_quantity
    if field == "comments" and count == 0:
        raise OrderError(_("Enter the comments, one per line."), code="comments", field=field)
    if count < low:
        raise OrderError(_limit(field, "min", low), code="min" if count >= 0 else "quantity", field=field)
    if count > high:
        raise OrderError(_limit(field, "max", high), code="max", field=field)


def _limit(field: str, bound: str, limit: int) -> Promise:
    values = {bound: lazy_number(limit)}
    if field == "comments":
        message = (
            ngettext_lazy(
                "Enter at least %(min)s comment, one per line.",
                "Enter at least %(min)s comments, one per line.",
                limit,
            )
            if bound == "min"
            else ngettext_lazy(
                "Enter at most %(max)s comment, one per line.",
                "Enter at most %(max)s comments, one per line.",
                limit,
            )
        )
    elif field == "quantity":
        message = (
            _("The quantity must be at least %(min)s.")
            if bound == "min"
            else _("The quantity can be at most %(max)s.")
        )
    elif FIELDS[field].kind is Kind.LINES:
        message = (
            _("%(field)s: at least %(min)s, one per line.")
            if bound == "min"
            else _("%(field)s: at most %(max)s, one per line.")
        )
    else:
        message = AT_LEAST if bound == "min" else AT_MOST
    return interpolate_lazy(message, {"field": label(field), **values})


def order_place(*, user, service: Service | None, client_token: str = "", **data) -> Order:
    """Charges the customer and creates the order in one transaction; submission is queued after commit.

    `data` holds the order's fields as typed or sent (link, quantity, comments, usernames, runs, ...;
    those its type does not take are ignored). A `client_token` (the order form sends one per form shown)
    makes a repeated submission return the order it already placed instead of charging again. Raises
    OrderError (nothing charged or created) for bad input or insufficient funds.
    """
    client_token = (client_token or "")[:64]
    if client_token and (placed := Order.objects.filter(user=user, client_token=client_token).first()):
        return placed
    placement = order_validate(service=service, **data)
    try:
        with transaction.atomic():
            order = order_create(user=user, service=service, placement=placement, client_token=client_token)
    except IntegrityError:
        if client_token:  # the same form, submitted twice at once: the other request placed it
            return Order.objects.get(user=user, client_token=client_token)
        raise
    return order


def order_create(*, user, service: Service, placement: Placement, client_token: str = "", **extra) -> Order:
    """Creates and charges one checked order, in the caller's transaction, and queues its submission for
    when that commits. Raises OrderError for insufficient funds or a service without a price (the caller's
    transaction should then roll back: the charge and the order go together)."""
    rate, charge = order_quote(user=user, service=service, quantity=placement.quantity)
    cost = order_amount(rate=service.cost_rate, quantity=placement.quantity, per=service.type_rule.per)
    if charge <= 0:
        raise OrderError(_("This service has no price yet."), code="service", field="service")
    order = Order.objects.create(
        user=user,
        service=service,
        provider=service.provider,
        link=placement.link,
        quantity=placement.quantity,
        comments=placement.comments,
        service_type=service.type,
        upstream_fields=placement.upstream_fields,
        runs=placement.runs,
        interval=placement.interval,
        rate=rate,
        cost_rate=service.cost_rate,
        charge=charge,
        cost=cost,
        exchange_rate=service.provider.exchange_rate,
        client_token=client_token,
        **extra,
    )
    order_created(order=order)
    try:
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
    except OrderingPaused as exc:
        message = _(
            "Ordering is paused: %(owed)s is owed after a payment was reversed. Add funds to pay it, or "
            "contact support."
        )
        raise OrderError(interpolate_lazy(message, {"owed": lazy_money(exc.owed)}), code="paused") from None
    order_submission_enqueue(order_id=order.pk)
    return order
