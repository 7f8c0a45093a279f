"""Orders: placement, submission upstream, operator actions and the sweeper. Polling is in polling.py.

Every status change goes through `_move`, a compare-and-swap on the status that also writes the history
row; a refund is only ever written in the same transaction as the move that earns it, so whichever worker
wins the move is the only one that refunds.
"""

import enum
import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import pricing, upstream
from catalog.models import Service
from catalog.services import provider_client, service_rate_for
from reseller.params import whole_number
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import InsufficientFunds, Move, wallet_move, wallet_moves

from .models import FINAL, TRANSITIONS, Order, OrderEvent, Status

log = logging.getLogger(__name__)
Source = OrderEvent.Source
MAX_LINK = 2048


class OrderError(Exception):
    """A refused placement or action: nothing was charged or changed. `code` names the reason for the API."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


class Outcome(enum.Enum):
    SKIPPED = "skipped"  # another run had claimed it, or it was no longer queued
    PLACED = "placed"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    AMBIGUOUS = "ambiguous"


# Placement ------------------------------------------------------------------------------------------------


def order_quote(*, user, service: Service, quantity: int) -> tuple[Decimal, Decimal]:
    """(rate, charge) this customer would pay now. Raises OrderError for a total too large to store."""
    rate = service_rate_for(service=service, user=user)
    per = pricing.units_per_rate(service.type)
    try:
        return rate, pricing.order_amount(rate=rate, quantity=quantity, per=per)
    except ValueError:
        raise OrderError("The total is too large for one order.", code="quantity", field="quantity") from None


def order_validate(
    *, service: Service | None, link: str, quantity: int | str | None = None, comments: str = ""
) -> tuple[str, int, str]:
    """Checks an order's fields; returns (link, quantity, comments) cleaned. Raises OrderError."""
    if service is None or not (
        service.is_enabled and service.is_sellable_type and service.provider.is_active
    ):
        raise OrderError("This service is not available.", code="service", field="service")
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
    preview["rate"], _ = order_quote(user=user, service=service, quantity=0)
    if not {"quantity", "comments"} & preview["errors"].keys():
        count, _ = order_quantity(service=service, quantity=quantity, comments=comments)
        try:
            _, preview["total"] = order_quote(user=user, service=service, quantity=count)
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
        raise OrderError("Enter a valid http:// or https:// link.", code="link", field="link")
    if len(link) > MAX_LINK:
        raise OrderError(
            f"The link is too long (at most {MAX_LINK:,} characters).", code="link", field="link"
        )
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise OrderError("Enter a valid http:// or https:// link.", code="link", field="link") from None
    return link


def _clean_quantity(service: Service, quantity, comments: str) -> tuple[int, str]:
    quantity, comments = order_quantity(service=service, quantity=quantity, comments=comments)
    field = "comments" if service.type == "Custom Comments" else "quantity"
    if quantity < service.min_quantity:
        raise OrderError(f"Quantity less than minimal {service.min_quantity}", code="min", field=field)
    if quantity > service.max_quantity:
        raise OrderError(f"Quantity more than maximum {service.max_quantity}", code="max", field=field)
    return quantity, comments


def order_quantity(*, service: Service, quantity: int | str | None, comments: str = "") -> tuple[int, str]:
    """(quantity, comments) as the service type counts them: a Package is one, comments are one per line."""
    if service.type == "Custom Comments":
        if "\x00" in (comments or ""):
            raise OrderError("Comments cannot contain control characters.", code="quantity", field="comments")
        lines = [line.strip() for line in (comments or "").splitlines() if line.strip()]
        return len(lines), "\n".join(lines)
    if service.type == "Package":
        return 1, ""
    return _whole_number(quantity), ""


def _whole_number(value) -> int:
    number = whole_number(value, max_digits=12)
    if number is None:
        raise OrderError("Quantity must be a whole number.", code="quantity", field="quantity")
    return number


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
    per = pricing.units_per_rate(service.type)
    cost = pricing.order_amount(rate=service.cost_rate, quantity=quantity, per=per)
    if charge <= 0:
        raise OrderError("This service has no price yet.", code="service", field="service")
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
            OrderEvent.objects.create(order=order, new_status=Status.QUEUED, source=Source.PLACEMENT)
            wallet_move(
                user=user,
                amount=-charge,
                kind=LedgerEntry.Kind.CHARGE,
                order_id=order.pk,
                note=f"Order {order.pk}",
            )
    except InsufficientFunds as exc:
        raise OrderError(str(exc), code="funds") from None
    except IntegrityError:
        if client_token:  # the same form, submitted twice at once: the other request placed it
            return Order.objects.get(user=user, client_token=client_token)
        raise
    _enqueue_submission(order.pk)
    return order


def _enqueue_submission(order_id: int) -> None:
    from .tasks import order_submit  # tasks import this module

    transaction.on_commit(lambda: order_submit.delay(order_id))


# Moves ----------------------------------------------------------------------------------------------------


def _move(order: Order, new_status: str, *, source: str, note: str = "", by=None, **fields) -> bool:
    """Compare-and-swap from the status the order had when loaded; True if this call made the move."""
    if new_status not in TRANSITIONS[order.status]:
        raise OrderError(
            f"An order cannot go from {order.get_status_display()} to {Status(new_status).label}."
        )
    now = timezone.now()
    if new_status in FINAL:
        fields.setdefault("finished_at", now)
        fields.setdefault("next_check_at", None)
    moved = Order.objects.filter(pk=order.pk, status=order.status).update(
        status=new_status, updated_at=now, **fields
    )
    if not moved:
        return False
    OrderEvent.objects.create(
        order=order,
        old_status=order.status,
        new_status=new_status,
        source=source,
        note=note[:500],
        created_by=by,
    )
    order.status = new_status
    for name, value in fields.items():
        setattr(order, name, value)
    return True


def orders_refund(*, refunds: list[tuple[Order, Decimal]]) -> int:
    """Refunds many finished orders at once (a polling batch); call inside the transaction of their moves,
    with the orders locked. Sets `order.refund` on each; the caller saves the orders. Returns the count.

    An order that already shows a refund is skipped: a replayed answer must not pay twice.
    """
    due = [(order, amount) for order, amount in refunds if amount > 0 and not order.refund]
    moves = [
        Move(
            user=order.user,
            amount=amount,
            kind=LedgerEntry.Kind.REFUND,
            order_id=order.pk,
            note=f"Order {order.pk} {order.get_status_display().lower()}: {_undelivered(order)} undelivered",
        )
        for order, amount in due
    ]
    wallet_moves(moves=moves)
    for order, amount in due:
        order.refund = amount
    return len(due)


def _undelivered(order: Order) -> int:
    return order.remains if order.status == Status.PARTIAL else order.quantity


def _fail(order: Order, *, reason: str, source: str, by=None) -> bool:
    """Fails an order that never reached the provider, refunding all of it."""
    with transaction.atomic():
        if not _move(order, Status.FAILED, source=source, note=reason, by=by, error=reason[:500]):
            return False
        orders_refund(refunds=[(order, order.charge)])
        Order.objects.filter(pk=order.pk).update(refund=order.refund)
    return True


# Submission -----------------------------------------------------------------------------------------------


def order_submit(*, order_id: int) -> Outcome:
    """Places a queued order upstream, once. Safe to run twice: the claim is committed before the HTTP call,
    so a second run (or a redelivered task after a crash) finds the order claimed and does nothing."""
    order = Order.objects.select_related("service", "provider", "user").get(pk=order_id)
    if order.status != Status.QUEUED:
        return Outcome.SKIPPED
    with transaction.atomic():
        claimed = _move(
            order,
            Status.SUBMITTING,
            source=Source.SUBMISSION,
            submitted_at=timezone.now(),
            submit_attempts=order.submit_attempts + 1,
        )
    if not claimed:
        return Outcome.SKIPPED
    try:
        upstream_id = provider_client(provider=order.provider).add(
            service=order.service.upstream_id, **_add_fields(order)
        )
    except upstream.Rejected as exc:
        _fail(order, reason=str(exc), source=Source.SUBMISSION)
        return Outcome.REJECTED
    except upstream.Unreachable as exc:
        with transaction.atomic():
            _move(
                order,
                Status.QUEUED,
                source=Source.SUBMISSION,
                note=f"Provider unreachable, will retry: {exc}",
            )
        return Outcome.UNREACHABLE
    except upstream.Ambiguous as exc:
        _to_review(order, f"The provider's answer was lost ({exc}); the order may exist upstream.")
        return Outcome.AMBIGUOUS
    try:
        with transaction.atomic():
            moved = _move(
                order,
                Status.PENDING,
                source=Source.SUBMISSION,
                note=f"Upstream order {upstream_id}",
                upstream_id=upstream_id,
                next_check_at=timezone.now() + timedelta(seconds=settings.ORDER_POLL_INTERVAL),
            )
    except IntegrityError:
        _to_review(order, f"The provider answered order id {upstream_id}, which another order already has.")
        return Outcome.AMBIGUOUS
    if not moved:
        _keep_lost_upstream_id(order, upstream_id)
        return Outcome.AMBIGUOUS
    return Outcome.PLACED


def _keep_lost_upstream_id(order: Order, upstream_id: str) -> None:
    """The order left `submitting` while its `add` was in flight (the sweeper gave up on it): the provider
    has it anyway. Its id must not be lost, or we pay for an order nobody follows."""
    current = Order.objects.get(pk=order.pk)
    note = f"Upstream order {upstream_id} was placed while the order was {current.get_status_display()}."
    log.error("order %s: %s", order.pk, note)
    with transaction.atomic():
        Order.objects.filter(pk=order.pk, upstream_id="").update(upstream_id=upstream_id)
        OrderEvent.objects.create(
            order=order,
            old_status=current.status,
            new_status=current.status,
            source=Source.SUBMISSION,
            note=note,
        )


def _add_fields(order: Order) -> dict:
    if order.service.type == "Package":
        return {"link": order.link}
    if order.service.type == "Custom Comments":
        return {"link": order.link, "comments": order.comments}
    return {"link": order.link, "quantity": order.quantity}


def _to_review(order: Order, reason: str) -> None:
    with transaction.atomic():
        _move(order, Status.NEEDS_REVIEW, source=Source.SUBMISSION, note=reason, review_reason=reason[:500])
    log.warning("order %s needs review: %s", order.pk, reason)


def order_fail_unreachable(*, order_id: int) -> bool:
    """After the last retry: the provider never got the order, so fail it and refund everything."""
    order = Order.objects.select_related("user").get(pk=order_id)
    if order.status != Status.QUEUED:
        return False
    return _fail(
        order,
        reason="The provider could not be reached. Your balance was refunded.",
        source=Source.SUBMISSION,
    )


# Operators ------------------------------------------------------------------------------------------------


def order_resubmit(*, order: Order, by) -> None:
    """An operator's explicit decision that the order does not exist upstream: submit it again."""
    if order.status != Status.NEEDS_REVIEW:
        raise OrderError("Only orders that need review can be resubmitted.")
    with transaction.atomic():
        if not _move(
            order,
            Status.QUEUED,
            source=Source.OPERATOR,
            note="Resubmitted by an operator",
            by=by,
            review_reason="",
        ):
            raise OrderError("The order changed meanwhile; reload and try again.")
    _enqueue_submission(order.pk)


def order_set_upstream_id(*, order: Order, upstream_id: str, by) -> None:
    """An operator found the order upstream: record its id and let polling take over. Only for orders in
    review: one still submitting may be placed by its worker any moment."""
    try:
        upstream_id = upstream.parse_id(upstream_id)
    except ValueError:
        raise OrderError("Enter the provider's order id (digits).") from None
    if order.status != Status.NEEDS_REVIEW:
        raise OrderError("Only orders that need review can be given an upstream id.")
    try:
        with transaction.atomic():
            moved = _move(
                order,
                Status.PENDING,
                source=Source.OPERATOR,
                note=f"Upstream order {upstream_id}",
                by=by,
                upstream_id=upstream_id,
                review_reason="",
                next_check_at=timezone.now(),
            )
    except IntegrityError:
        raise OrderError(f"Another order already has upstream id {upstream_id}.") from None
    if not moved:
        raise OrderError("The order changed meanwhile; reload and try again.")


def order_fail_and_refund(*, order: Order, reason: str, by) -> None:
    if order.status not in (Status.QUEUED, Status.NEEDS_REVIEW):
        raise OrderError(
            "Only queued orders and orders in review (never placed upstream) can be failed here."
        )
    if not _fail(order, reason=reason or "Failed by an operator.", source=Source.OPERATOR, by=by):
        raise OrderError("The order changed meanwhile; reload and try again.")


# Sweeper --------------------------------------------------------------------------------------------------


def orders_sweep() -> tuple[int, int]:
    """Moves orders stuck in submitting to review and re-queues queued orders whose task was lost.

    Returns (sent to review, re-queued).
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.ORDER_SUBMIT_STUCK_AFTER)
    reviewed = 0
    for order in Order.objects.filter(status=Status.SUBMITTING, submitted_at__lt=stuck_before):
        with transaction.atomic():
            reason = "Submission never finished (the worker may have stopped after sending); check upstream."
            reviewed += _move(
                order, Status.NEEDS_REVIEW, source=Source.SWEEPER, note=reason, review_reason=reason
            )
    lost_before = now - timedelta(seconds=settings.ORDER_REQUEUE_AFTER)
    lost = list(
        Order.objects.filter(status=Status.QUEUED, updated_at__lt=lost_before).values_list("pk", flat=True)
    )
    for order_id in lost:
        _enqueue_submission(order_id)
    return reviewed, len(lost)
