"""Cancellations: we ask the provider; the refund comes only when polling sees Canceled or Partial."""

import logging
from collections import defaultdict

from django.utils import timezone

from catalog import upstream
from catalog.services import provider_client

from .models import ACTIVE, Order, OrderEvent
from .services import OrderError

log = logging.getLogger(__name__)


def cancel_problem(*, order: Order) -> str | None:
    if not order.service.cancel:
        return "This service cannot be canceled."
    if order.status not in ACTIVE:
        return "Only orders in progress at the provider can be canceled."
    return None


def orders_cancel(*, user, orders: list[Order]) -> dict[int, bool | OrderError]:
    """Asks the providers to cancel the customer's orders (at most 100 per call): per order, True when the
    provider accepted, else why not. Accepted orders are checked again at the next polling sweep."""
    results: dict[int, bool | OrderError] = {}
    by_provider = defaultdict(list)
    for order in orders:
        problem = "Incorrect order ID" if order.user_id != user.pk else cancel_problem(order=order)
        if problem:
            results[order.pk] = OrderError(problem, code="cancel")
        else:
            by_provider[order.provider_id].append(order)
    for group in by_provider.values():
        results.update(_cancel_upstream(group))
    return results


def _cancel_upstream(orders: list[Order]) -> dict[int, bool | OrderError]:
    by_upstream = {order.upstream_id: order for order in orders}
    try:
        answers = provider_client(provider=orders[0].provider).cancel(list(by_upstream))
    except upstream.UpstreamError as exc:
        # The whole call failed: its reason concerns our account there (a key, a balance), not this order.
        log.warning("cancel of %d orders failed upstream: %s", len(orders), exc)
        reason = "The cancel could not be confirmed by the provider; try again later."
        return {order.pk: OrderError(reason, code="cancel") for order in orders}
    results, accepted = {}, []
    for upstream_id, order in by_upstream.items():
        answer = answers.get(upstream_id)
        if answer is True:
            results[order.pk] = True
            accepted.append(order)
        else:
            results[order.pk] = OrderError(getattr(answer, "message", "The provider refused."), code="cancel")
    Order.objects.filter(pk__in=[o.pk for o in accepted]).update(next_check_at=timezone.now())
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=o,
            old_status=o.status,
            new_status=o.status,
            source=OrderEvent.Source.CUSTOMER,
            note="Cancel requested",
        )
        for o in accepted
    )
    return results
