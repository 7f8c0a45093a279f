"""Cancellations: we ask the provider; the refund comes only when polling sees Canceled or Partial."""

import logging

from django.utils import timezone

from catalog import protocol, upstream
from catalog.services import provider_client
from reseller.db import group_by

from .errors import OrderError
from .models import ACTIVE, Order, Source
from .moves import orders_note

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
    cancelable = []
    for order in orders:
        problem = protocol.INCORRECT_ORDER_ID if order.user_id != user.pk else cancel_problem(order=order)
        if problem:
            results[order.pk] = OrderError(problem, code="cancel")
        else:
            cancelable.append(order)
    for group in group_by(cancelable, lambda order: order.provider_id):
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
    # Checked again at the next sweep: the refund comes when the provider says Canceled (or Partial).
    Order.objects.filter(pk__in=[o.pk for o in accepted]).update(next_check_at=timezone.now())
    orders_note(orders=accepted, note="Cancel requested", source=Source.CUSTOMER)
    return results
