"""Cancellations: we ask the provider; the refund comes only when polling sees Canceled or Partial."""

import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog import protocol, upstream
from catalog.services import provider_client
from reseller.db import group_by

from .errors import OrderError
from .models import CANCEL_REFUSED_NOTE, CANCEL_REQUESTED_NOTE, Order, OrderCheck, Source, Status
from .moves import orders_note

log = logging.getLogger(__name__)
ORDER_CANCELABLE = frozenset({Status.PENDING})
SUBSCRIPTION_CANCELABLE = frozenset({Status.PENDING, Status.ACTIVE, Status.PAUSED})


ALREADY_REQUESTED = _("A cancel was already requested; the refund follows once the provider confirms it.")
TRY_LATER = _("The cancel could not be confirmed by the provider; try again later.")
REFUSED = _("The provider refused to cancel this order.")


def cancel_problem(*, order: Order) -> str | None:
    """Why this order cannot be canceled now, or None. Providers cancel only what they have not started
    (protocol, part 2), so only Pending orders, and subscriptions while they serve posts; once: a refusal
    is not asked again."""
    if not order.service.cancel:
        return _("This service cannot be canceled.")
    if order.cancel_refusal:
        return REFUSED
    if order.cancel_requested_at is not None:
        return ALREADY_REQUESTED
    if order.status in (Status.QUEUED, Status.SUBMITTING):
        return _("The order is still on its way to the provider; try again in a minute.")
    if order.status not in _cancelable(order):
        if order.is_subscription:
            return _("Only active or paused subscriptions can be canceled.")
        return _("Only orders still pending at the provider can be canceled.")
    return None


def _cancelable(order: Order) -> frozenset[str]:
    """The statuses an order can be canceled in: a subscription while it serves posts (the unserved
    ones are refunded), any other order only while pending."""
    return SUBSCRIPTION_CANCELABLE if order.is_subscription else ORDER_CANCELABLE


def orders_cancel(*, user, orders: list[Order], by=None) -> dict[int, bool | OrderError]:
    """Asks the providers to cancel the customer's orders (at most 100 per call): per order, True when the
    provider accepted, else why not. Accepted orders are checked again at the next polling sweep.

    Each order is claimed first (its request time set where it is still unset), so two requests at once
    (a double click, the web and the API) ask the provider once; a claim is let go when the provider's
    answer says nothing, so the customer may try again. `by`: the staff member asking on the customer's
    behalf (a support ticket), named in the history; the customer's rules hold all the same."""
    results: dict[int, bool | OrderError] = {}
    claimed = []
    for order in orders:
        problem = protocol.INCORRECT_ORDER_ID if order.user_id != user.pk else cancel_problem(order=order)
        if problem:
            results[order.pk] = OrderError(problem, code="cancel")
        elif not _claim(order):
            results[order.pk] = OrderError(ALREADY_REQUESTED, code="cancel")
        else:
            claimed.append(order)
    for group in group_by(claimed, lambda order: order.provider_id):
        results.update(_cancel_upstream(group, by=by))
    return results


def _claim(order: Order) -> bool:
    unclaimed = Order.objects.filter(
        pk=order.pk, status__in=_cancelable(order), cancel_requested_at__isnull=True, cancel_refusal=""
    )
    return unclaimed.update(cancel_requested_at=timezone.now()) == 1


def _cancel_upstream(orders: list[Order], *, by=None) -> dict[int, bool | OrderError]:
    source = Source.OPERATOR if by is not None else Source.CUSTOMER
    by_upstream = {order.upstream_id: order for order in orders}
    try:
        answers = provider_client(provider=orders[0].provider).cancel(list(by_upstream))
    except upstream.UpstreamError as exc:
        # The whole call failed: its reason concerns our account there (a key, a balance), not this order.
        log.warning("cancel of %d orders failed upstream: %s", len(orders), exc)
        Order.objects.filter(pk__in=[order.pk for order in orders]).update(cancel_requested_at=None)
        return {order.pk: OrderError(TRY_LATER, code="cancel") for order in orders}
    results, accepted, unanswered = {}, [], []
    for upstream_id, order in by_upstream.items():
        answer = answers.get(upstream_id, upstream.ItemError(upstream.NO_ANSWER))
        if answer is True:
            results[order.pk] = True
            accepted.append(order)
        elif answer.message == upstream.NO_ANSWER:
            results[order.pk] = OrderError(TRY_LATER, code="cancel")
            unanswered.append(order.pk)
        else:
            # The provider's words go to the history (the operator's), a plain reason to the customer.
            results[order.pk] = OrderError(REFUSED, code="cancel")
            reason = answer.message or "refused"
            Order.objects.filter(pk=order.pk).update(cancel_refusal=reason[:300], cancel_requested_at=None)
            orders_note(orders=[order], note=f"{CANCEL_REFUSED_NOTE}: {reason}", source=source, by=by)
    Order.objects.filter(pk__in=unanswered).update(cancel_requested_at=None)
    # Checked again at the next sweep: the refund comes when the provider says Canceled (or Partial).
    OrderCheck.objects.filter(pk__in=[o.pk for o in accepted]).update(next_check_at=timezone.now())
    orders_note(orders=accepted, note=CANCEL_REQUESTED_NOTE, source=source, by=by)
    return results
