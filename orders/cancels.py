"""Cancellations: we ask the provider; the refund comes only when polling sees Canceled or Partial."""

import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog import protocol, upstream
from catalog.services import provider_client
from reseller.db import group_by

from .errors import OrderError
from .models import CANCEL_REFUSED_NOTE, CANCEL_REQUESTED_NOTE, Order, Source, Status
from .moves import orders_note

log = logging.getLogger(__name__)


def cancel_problem(*, order: Order) -> str | None:
    """Why this order cannot be canceled now, or None. Providers cancel only what they have not started
    (protocol, part 2), so only Pending orders, once: a refusal is not asked again."""
    if not order.service.cancel:
        return _("This service cannot be canceled.")
    if order.cancel_refusal:
        return _("The provider refused to cancel this order.")
    if order.cancel_requested_at is not None:
        return _("A cancel was already requested; the refund follows once the provider confirms it.")
    if order.status != Status.PENDING:
        return _("Only orders still pending at the provider can be canceled.")
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
        reason = _("The cancel could not be confirmed by the provider; try again later.")
        return {order.pk: OrderError(reason, code="cancel") for order in orders}
    results, accepted, refused = {}, [], {}
    for upstream_id, order in by_upstream.items():
        answer = answers.get(upstream_id)
        if answer is True:
            results[order.pk] = True
            accepted.append(order)
        else:
            # The provider's words go to the history (the operator's), a plain reason to the customer.
            refused[order.pk] = getattr(answer, "message", "") or "refused"
            results[order.pk] = OrderError(_("The provider refused to cancel this order."), code="cancel")
    now = timezone.now()
    # Checked again at the next sweep: the refund comes when the provider says Canceled (or Partial).
    Order.objects.filter(pk__in=[o.pk for o in accepted]).update(next_check_at=now, cancel_requested_at=now)
    for pk, reason in refused.items():
        Order.objects.filter(pk=pk).update(cancel_refusal=reason[:300])
    orders_note(orders=accepted, note=CANCEL_REQUESTED_NOTE, source=Source.CUSTOMER)
    for order in orders:
        if order.pk in refused:
            note = f"{CANCEL_REFUSED_NOTE}: {refused[order.pk]}"
            orders_note(orders=[order], note=note, source=Source.CUSTOMER)
    return results
