"""What operators decide about orders and refills in review (admin's forms and actions).

An operator only touches an order in review or still queued: one being submitted may be placed by its
worker any moment, and one at the provider is the provider's to finish.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog import protocol

from .errors import OrderError
from .models import OPEN_REFILL, Order, Refill, RefillStatus, Source, Status
from .moves import order_move, refill_move
from .queue import order_submission_enqueue

CHANGED_MEANWHILE = "The order changed meanwhile; reload and try again."
# Reasons an operator's failure shows the customer (stored in English, translated where shown).
COULD_NOT_BE_PLACED = gettext_noop("The order could not be placed.")
COULD_NOT_BE_PLACED_REFUNDED = gettext_noop("The order could not be placed. Your balance was refunded.")
FAILED_BY_OPERATOR = gettext_noop("Failed by an operator.")


def order_resubmit(*, order: Order, by) -> None:
    """An operator's explicit decision that the order does not exist upstream: submit it again."""
    if order.status != Status.NEEDS_REVIEW:
        raise OrderError("Only orders that need review can be resubmitted.")
    note = "Resubmitted by an operator"
    if not order_move(order, Status.QUEUED, source=Source.OPERATOR, note=note, by=by, review_reason=""):
        raise OrderError(CHANGED_MEANWHILE)
    order_submission_enqueue(order_id=order.pk)


def order_set_upstream_id(*, order: Order, upstream_id: str, by) -> None:
    """An operator found the order upstream: record its id and let polling take over."""
    try:
        upstream_id = protocol.parse_id(upstream_id)
    except ValueError:
        raise OrderError("Enter the provider's order id (digits).") from None
    if order.status != Status.NEEDS_REVIEW:
        raise OrderError("Only orders that need review can be given an upstream id.")
    try:
        with transaction.atomic():  # a refused id must not break the caller's transaction
            moved = order_move(
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
        raise OrderError(CHANGED_MEANWHILE)


def order_fail_and_refund(*, order: Order, reason: str, by) -> None:
    """Fails an order that never reached the provider; the move refunds all of it."""
    if order.status not in (Status.QUEUED, Status.NEEDS_REVIEW):
        raise OrderError(
            "Only queued orders and orders in review (never placed upstream) can be failed here."
        )
    reason = reason or FAILED_BY_OPERATOR
    if not order_move(order, Status.FAILED, source=Source.OPERATOR, note=reason, by=by, error=reason[:500]):
        raise OrderError(CHANGED_MEANWHILE)


def refill_set_upstream_id(*, refill: Refill, upstream_id: str, by=None) -> None:
    """An operator found a refill in review at the provider: record its id and let polling follow it."""
    try:
        upstream_id = protocol.parse_id(upstream_id)
    except ValueError:
        raise OrderError("Enter the provider's refill id (digits).") from None
    refill = Refill.objects.get(pk=refill.pk)
    moved = refill.status == RefillStatus.NEEDS_REVIEW and refill_move(
        refill,
        RefillStatus.PENDING,
        source=Source.OPERATOR,
        note=f"Upstream refill {upstream_id}",
        by=by,
        upstream_id=upstream_id,
        error="",
        next_check_at=None,
    )
    if not moved:
        raise OrderError("Only refills that need review can be given an upstream id.")


def refill_mark_rejected(*, refill: Refill, reason: str = "Rejected by an operator.", by=None) -> bool:
    """Closes a refill the provider will not do (or that was lost); never one being submitted right now."""
    refill = Refill.objects.get(pk=refill.pk)  # as it is now, not as the operator's page showed it
    if refill.status not in OPEN_REFILL - {RefillStatus.SUBMITTING}:
        return False
    return refill_move(
        refill, RefillStatus.REJECTED, source=Source.OPERATOR, note=reason, by=by, error=reason[:500]
    )
