"""Following placed orders upstream: one `status` call per 100 orders, bulk writes, refunds exactly once.

A sweep claims a batch by moving its next-check time forward under `SELECT ... FOR UPDATE SKIP LOCKED`, so
overlapping sweeps split the work. Answers are applied with the batch's rows locked and re-read, so two
appliers of the same order (a sweep and an operator's "poll now") cannot both move it or both refund it.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog import pricing, upstream
from catalog.services import provider_client
from reseller.bulk import bulk_update

from .models import ACTIVE, FROM_UPSTREAM, TRANSITIONS, UPSTREAM_FINAL, Order, OrderEvent, Status
from .services import orders_refund

log = logging.getLogger(__name__)
POLLED_FIELDS = [
    "refund",
    "status",
    "start_count",
    "remains",
    "upstream_charge",
    "poll_error",
    "finished_at",
    "next_check_at",
    "updated_at",
]


@dataclass
class PollResult:
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


def orders_poll(*, order_ids: list[int] | None = None, batch_size: int | None = None) -> PollResult:
    """One sweep over the orders due for a check (or exactly `order_ids`, for "poll now")."""
    batch_size = batch_size or settings.ORDER_POLL_BATCH
    result = PollResult()
    while batch := _claim(batch_size, order_ids):
        result.batches += 1
        for provider_orders in by_provider(batch):
            _poll_provider(provider_orders, result)
        if order_ids is not None:
            break
    return result


def _claim(batch_size: int, order_ids: list[int] | None) -> list[Order]:
    due = Order.objects.filter(status__in=ACTIVE).exclude(upstream_id="")
    ids = claim_due(
        due,
        ids=order_ids,
        batch_size=batch_size,
        interval=settings.ORDER_POLL_INTERVAL,
        last_checked_at=timezone.now(),
    )
    return list(Order.objects.filter(pk__in=ids).select_related("provider"))


def claim_due(rows, *, ids: list[int] | None, batch_size: int, interval: int, **also) -> list[int]:
    """Claims up to `batch_size` rows due for a check (or exactly `ids`) by moving their next check
    `interval` seconds on, under SKIP LOCKED, so that overlapping sweeps split the rows between them."""
    now = timezone.now()
    with transaction.atomic():
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        else:
            rows = rows.filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        claimed = list(
            rows.order_by(F("next_check_at").asc(nulls_first=True), "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        if claimed:
            later = now + timedelta(seconds=interval)
            rows.model.objects.filter(pk__in=claimed).update(next_check_at=later, **also)
    return claimed


def by_provider(rows: list, provider_id=lambda row: row.provider_id):
    """The rows grouped by provider, for one batch of calls per provider."""
    groups = defaultdict(list)
    for row in rows:
        groups[provider_id(row)].append(row)
    return groups.values()


def _poll_provider(orders: list[Order], result: PollResult) -> None:
    provider = orders[0].provider
    result.calls += -(-len(orders) // upstream.MAX_IDS)
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
        changed, events, refunds = [], [], []
        for order in fresh.select_for_update(of=("self",)):
            answer = answers.get(order.upstream_id)
            if answer is None:
                continue
            before = (order.status, order.start_count, order.remains, order.upstream_charge, order.poll_error)
            if isinstance(answer, upstream.ItemError):
                order.poll_error = answer.message[:300]
                result.errors += 1
            else:
                result.checked += 1
                refund = _take(order, answer, now, events)
                if refund:
                    refunds.append((order, refund))
            if (
                order.status,
                order.start_count,
                order.remains,
                order.upstream_charge,
                order.poll_error,
            ) != before:
                order.updated_at = now
                changed.append(order)
        result.refunded += orders_refund(refunds=refunds)
        bulk_update(changed, POLLED_FIELDS)
        OrderEvent.objects.bulk_create(events)
    result.changed += len(events)


def _take(order: Order, answer: upstream.OrderStatus, now, events: list) -> object:
    """Applies one answer to the order in memory; returns the refund it earns, if any."""
    order.poll_error = ""
    if answer.start_count is not None:
        order.start_count = answer.start_count
    if answer.remains is not None:
        order.remains = answer.remains
    if answer.charge is not None:
        order.upstream_charge = answer.charge
    new_status = FROM_UPSTREAM[answer.status]
    if new_status == Status.PARTIAL and answer.remains is None:
        # Without remains the refund cannot be known; Partial is final, so wait for a full answer.
        order.poll_error = "Partial without remains: waiting for the provider to say how many"
        return None
    if new_status == order.status:
        return None
    if new_status not in TRANSITIONS[order.status]:
        order.poll_error = f"Unexpected move from {order.status} to {new_status}"
        return None
    events.append(
        OrderEvent(order=order, old_status=order.status, new_status=new_status, source=OrderEvent.Source.POLL)
    )
    order.status = new_status
    if new_status not in UPSTREAM_FINAL:
        return None
    order.finished_at, order.next_check_at = now, None
    if new_status == Status.CANCELED:
        return order.charge
    if new_status == Status.PARTIAL:
        return pricing.partial_refund(charge=order.charge, remains=order.remains, quantity=order.quantity)
    return None
