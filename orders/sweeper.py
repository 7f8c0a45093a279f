"""The sweeper (beat, every ORDER_SWEEP_EVERY seconds): what a lost task or a dead worker left behind.

A submission stuck in `submitting` may have reached the provider before its worker stopped, so it goes to
review, never back to the queue; a queued order whose task was lost is queued again (its submission is
claim-guarded, so a second task for it does nothing). A queued order is due when placed, or when its retry
is (`next_check_at`); one still queued ORDER_REQUEUE_AFTER seconds later lost its task: the process that
was to send it died, the broker lost it, or a worker died holding it.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from reseller.enqueue import enqueue_after_commit

from .models import Order, Refill, RefillStatus, Source, Status
from .moves import Move, orders_move, refills_move
from .queue import SUBMIT_ORDERS

REQUEUE_PER_TASK = 200

ORDER_STUCK = "Submission never finished (the worker may have stopped after sending); check upstream."
REFILL_STUCK = "The request may not have reached the provider; check there before asking again."


def orders_sweep() -> tuple[int, int]:
    """Stuck submissions to review, lost queued orders re-queued; returns (sent to review, re-queued)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.ORDER_SUBMIT_STUCK_AFTER)
    stuck = Order.objects.filter(status=Status.SUBMITTING, submitted_at__lt=stuck_before)
    reviewed = orders_move(
        [
            Move(
                order,
                Status.NEEDS_REVIEW,
                Source.SWEEPER,
                ORDER_STUCK,
                changes={"review_reason": ORDER_STUCK},
            )
            for order in stuck
        ]
    )
    lost_before = now - timedelta(seconds=settings.ORDER_REQUEUE_AFTER)
    queued = Order.objects.filter(status=Status.QUEUED).alias(due=Coalesce("next_check_at", "updated_at"))
    lost = list(queued.filter(due__lt=lost_before).values_list("pk", flat=True))
    # One task for them all: after an outage there may be hundreds, sent UPSTREAM_CONCURRENCY at a time.
    for start in range(0, len(lost), REQUEUE_PER_TASK):
        enqueue_after_commit(SUBMIT_ORDERS, lost[start : start + REQUEUE_PER_TASK])
    return len(reviewed), len(lost)


def refills_sweep() -> int:
    """Refills stuck in submitting go to review (never resent); returns how many."""
    stuck_before = timezone.now() - timedelta(seconds=settings.REFILL_SUBMIT_STUCK_AFTER)
    stuck = Refill.objects.filter(status=RefillStatus.SUBMITTING, submitted_at__lt=stuck_before)
    moves = [
        Move(refill, RefillStatus.NEEDS_REVIEW, Source.SWEEPER, REFILL_STUCK)  # the operator's note
        for refill in stuck
    ]
    return len(refills_move(moves))
