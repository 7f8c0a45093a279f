"""Following placed orders upstream: one `status` call per 100 orders, bulk writes, refunds exactly once.

A sweep claims a batch by moving its next-check time forward under `SELECT ... FOR UPDATE SKIP LOCKED`, so
overlapping sweeps split the work. Answers are applied with the batch's rows locked and re-read; status
changes are moves (orders/moves.py), so of two appliers of the same answer (a sweep and an operator's
"poll now") one moves the order and refunds it, and the other finds it moved.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import protocol, upstream
from catalog.services import provider_client
from reseller.db import bulk_update, claim_batches, due_now, group_by

from .models import (
    ACTIVE,
    FROM_UPSTREAM,
    SHARE_REFUNDED,
    SUBSCRIPTION_FROM_UPSTREAM,
    TRANSITIONS,
    Order,
    Source,
    Status,
)
from .moves import Move, orders_move

log = logging.getLogger(__name__)
# What an answer changes besides the status (a move writes these with it).
ANSWER_FIELDS = [
    "start_count",
    "remains",
    "upstream_charge",
    "poll_error",
    "runs_done",
    "posts_done",
    "child_orders",
]


@dataclass
class PollResult:
    due: int = 0
    checked: int = 0
    changed: int = 0
    refunded: int = 0
    errors: int = 0
    calls: int = 0
    batches: int = 0

    def __str__(self):
        return (
            f"{self.checked} orders checked, {self.changed} changed, {self.refunded} refunded, "
            f"{self.errors} errors, {self.calls} status calls"
        )


def orders_poll(
    *, order_ids: list[int] | None = None, batch_size: int | None = None, every: bool = False
) -> PollResult:
    """One sweep over the orders due for a check; exactly `order_ids` for "poll now"; with `every`, all
    open orders whether due or not (`due` then says how many were)."""
    result = PollResult()
    if every:
        result.due = _polled().filter(due_now()).count()
        order_ids = list(_polled().values_list("pk", flat=True))
    batches = claim_batches(
        _polled(),
        ids=order_ids,
        batch_size=batch_size or settings.ORDER_POLL_BATCH,
        interval=settings.ORDER_POLL_INTERVAL,
        last_checked_at=timezone.now(),
    )
    for ids in batches:
        result.batches += 1
        batch = Order.objects.filter(pk__in=ids).select_related("provider")
        for provider_orders in group_by(batch, lambda order: order.provider_id):
            _poll_provider(provider_orders, result)
    return result


def _polled():
    return Order.objects.filter(status__in=ACTIVE).exclude(upstream_id="")


def _poll_provider(orders: list[Order], result: PollResult) -> None:
    provider = orders[0].provider
    result.calls += -(-len(orders) // protocol.MAX_IDS)
    try:
        answers = provider_client(provider=provider).statuses([o.upstream_id for o in orders])
    except upstream.UpstreamError as exc:
        log.warning("provider %s: status of %d orders failed: %s", provider.name, len(orders), exc)
        result.errors += len(orders)
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(poll_error=str(exc)[:300])
        return
    _apply(orders, answers, result)


def _apply(orders: list[Order], answers: dict, result: PollResult) -> None:
    now = timezone.now()
    with transaction.atomic():
        fresh = Order.objects.filter(pk__in=[o.pk for o in orders], status__in=ACTIVE).select_related("user")
        moves, updated = [], []
        for order in fresh.select_for_update(of=("self",)):
            answer = answers.get(order.upstream_id)
            if answer is None:
                continue
            if isinstance(answer, upstream.ItemError):
                result.errors += 1
                changes, to = {"poll_error": answer.message[:300]}, None
            else:
                result.checked += 1
                changes, to = _read(order, answer)
            if to is not None:
                moves.append(Move(order, to, Source.POLL, changes=changes))
            elif any(getattr(order, name) != value for name, value in changes.items()):
                for name, value in changes.items():
                    setattr(order, name, value)
                order.updated_at = now
                updated.append(order)
        made = orders_move(moves)
        bulk_update(updated, [*ANSWER_FIELDS, "updated_at"])
    result.changed += len(made)
    result.refunded += sum(1 for move in made if move.row.refund)


def _read(order: Order, answer: upstream.OrderStatus) -> tuple[dict, str | None]:
    """What one answer changes on the order, and the status it moves to (None: it stays)."""
    remains = _remains(order, answer)
    changes = {
        "start_count": answer.start_count if answer.start_count is not None else order.start_count,
        "remains": remains if remains is not None else order.remains,
        "upstream_charge": answer.charge if answer.charge is not None else order.upstream_charge,
        "poll_error": "",
        "runs_done": _at_most(answer.runs, order.runs, order.runs_done),
        "posts_done": _at_most(answer.posts, order.posts, order.posts_done),
        "child_orders": list(answer.children) or order.child_orders,
    }
    to = (SUBSCRIPTION_FROM_UPSTREAM if order.is_subscription else FROM_UPSTREAM).get(answer.status)
    if to is None:
        changes["poll_error"] = f"Unexpected status {answer.status} for this order"
        return changes, None
    if to == Status.COMPLETED and order.is_subscription and remains is None:
        # Completed without saying how many: the posts last said served, else every post.
        served = order.posts_done if order.posts_done is not None else order.posts
        changes["remains"] = (order.posts - served) * order.per_post
    elif remains is None and to in SHARE_REFUNDED:
        # The refund cannot be known without what remains; the status is final, so wait for a full answer.
        changes["poll_error"] = (
            f"{to.name.capitalize()} without remains: waiting for the provider to say how many"
        )
        return changes, None
    if to == order.status:
        return changes, None
    if to not in TRANSITIONS[order.status]:
        changes["poll_error"] = f"Unexpected move from {order.status} to {to}"
        return changes, None
    return changes, to


def _at_most(count: int | None, most: int | None, known: int | None) -> int | None:
    """A count of runs done or posts served, never above what was ordered; the known one if none."""
    if count is None:
        return known
    return min(count, most) if most is not None else count


def _remains(order: Order, answer: upstream.OrderStatus) -> int | None:
    """What the answer says is undelivered, in the order's units: a subscription's unserved posts and a
    drip-feed's runs not done count in full (part 3's shapes), else the answer's own `remains`."""
    if order.is_subscription and answer.posts is not None:
        return max(order.posts - answer.posts, 0) * order.per_post
    if order.is_dripfeed and answer.remains is None and answer.runs is not None:
        return max(order.runs - answer.runs, 0) * order.per_run
    return answer.remains
