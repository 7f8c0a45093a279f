"""Placing a queued order upstream, exactly once.

The order is claimed (queued -> submitting) and the claim committed before the HTTP call, so a second run
(or a task redelivered after a crash) finds it claimed and does nothing. Only an answer that proves the
provider never got the request sends it back to the queue; one that may hide a placed order sends it to
review, and nothing resends it.

Retries are counted on the order (`submit_attempts`), not by the task: a queued order back for a retry
says when it is due (`next_check_at`), so the sweeper can tell a retry whose task was lost from one still
waiting, and an order sent again by the sweeper still fails after ORDER_SUBMIT_MAX_RETRIES retries.
"""

import enum
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from catalog import protocol, upstream
from catalog.pool import Calls
from catalog.services import provider_client

from .models import Order, Source, Status
from .moves import order_move, orders_note

log = logging.getLogger(__name__)

# What the customer reads on a failed order (`order.error`): stored in English, marked for translation here
# and translated where shown (`{% translate order.error %}`; a text with no translation, such as an
# operator's own reason, shows as written). The provider's own words go to the order's history, for
# operators: they may concern our account there (funds, the API key), which is no customer's business.
UNREACHABLE_REASON = gettext_noop(
    "The provider could not be reached. The charge was refunded to your balance."
)
LINK_REFUSED = gettext_noop("The provider did not accept the link. The charge was refunded to your balance.")
LINK_BUSY = gettext_noop(
    "The provider is still working on another order for this link; order again once it is completed. "
    "The charge was refunded to your balance."
)
QUANTITY_REFUSED = gettext_noop(
    "The provider did not accept the quantity. The charge was refunded to your balance."
)
REFUSED = gettext_noop("The provider could not accept this order. The charge was refunded to your balance.")


class Outcome(enum.Enum):
    SKIPPED = "skipped"  # another run had claimed it, or it was no longer queued
    PLACED = "placed"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"  # queued again, for a retry
    GAVE_UP = "gave up"  # unreachable after its last retry: failed and refunded
    AMBIGUOUS = "ambiguous"


def retry_delay(attempts: int) -> int:
    """Seconds from an order's `attempts`-th failed try (the provider not reached) to its next."""
    return settings.ORDER_SUBMIT_RETRY_BASE * 2 ** max(attempts - 1, 0)


def order_submit(*, order_id: int) -> Outcome:
    """Places a queued order upstream, once; says how it went."""
    order = _claim(order_id)
    if order is None:
        return Outcome.SKIPPED
    try:
        upstream_id = _send(order, provider_client(provider=order.provider))
    except upstream.UpstreamError as exc:
        return _settle_failure(order, exc)
    return _settle_placed(order, upstream_id)


def orders_submit_many(*, order_ids: list[int]) -> dict[int, Outcome]:
    """`order_submit` for many queued orders, up to UPSTREAM_CONCURRENCY `add` calls in flight per provider
    (catalog/pool.py; a provider backing off is not called, and its orders stay queued for a retry).
    Every order is claimed, and the claim committed, before its call goes out."""
    outcomes = dict.fromkeys(order_ids, Outcome.SKIPPED)
    with Calls() as calls:
        for order_id in order_ids:
            order = _claim(order_id)
            if order is not None:
                calls.submit(order.provider, lambda client, order=order: _send(order, client), tag=order)
        while calls.pending():
            for done in calls.wait():
                order = done.tag
                if done.error is not None:
                    outcomes[order.pk] = _settle_failure(order, done.error)
                else:
                    outcomes[order.pk] = _settle_placed(order, done.answer)
    return outcomes


def _claim(order_id: int) -> Order | None:
    """The order, moved queued -> submitting (committed), or None when another run has it or it is gone."""
    order = Order.objects.select_related("service", "provider", "user").filter(pk=order_id).first()
    if order is None or order.status != Status.QUEUED:
        return None
    claimed = order_move(
        order,
        Status.SUBMITTING,
        source=Source.SUBMISSION,
        submitted_at=timezone.now(),
        submit_attempts=order.submit_attempts + 1,
    )
    return order if claimed else None


def _send(order: Order, client: upstream.Client) -> str:
    """The `add` call (no database here: it may run in a pool's thread); the upstream order id."""
    return client.add(service=order.service.upstream_id, **_add_fields(order))


def _settle_failure(order: Order, exc: upstream.UpstreamError) -> Outcome:
    if isinstance(exc, upstream.Rejected):
        log.warning("order %s refused by the provider: %s", order.pk, exc)
        order_move(
            order, Status.FAILED, source=Source.SUBMISSION, note=str(exc), error=refusal_reason(exc.message)
        )
        return Outcome.REJECTED
    if isinstance(exc, upstream.Unreachable):  # never sent (a throttle, or a provider backing off, too)
        if order.submit_attempts > settings.ORDER_SUBMIT_MAX_RETRIES:
            note = f"Provider unreachable after {order.submit_attempts} tries: {exc}"
            order_move(
                order,
                Status.FAILED,
                source=Source.SUBMISSION,
                note=note,
                error=UNREACHABLE_REASON,
            )
            return Outcome.GAVE_UP
        due = timezone.now() + timedelta(seconds=retry_delay(order.submit_attempts))
        note = f"Provider unreachable, will retry: {exc}"
        order_move(order, Status.QUEUED, source=Source.SUBMISSION, note=note, next_check_at=due)
        return Outcome.UNREACHABLE
    _to_review(order, f"The provider's answer was lost ({exc}); the order may exist upstream.")
    return Outcome.AMBIGUOUS


def _settle_placed(order: Order, upstream_id: str) -> Outcome:
    try:
        with transaction.atomic():
            moved = order_move(
                order,
                Status.PENDING,
                source=Source.SUBMISSION,
                note=f"Upstream order {upstream_id}",
                upstream_id=upstream_id,
                next_check_at=timezone.now() + timedelta(seconds=settings.ORDER_FIRST_CHECK_AFTER),
            )
    except IntegrityError:
        _to_review(order, f"The provider answered order id {upstream_id}, which another order already has.")
        return Outcome.AMBIGUOUS
    if not moved:
        _keep_lost_upstream_id(order, upstream_id)
        return Outcome.AMBIGUOUS
    return Outcome.PLACED


def order_retry_countdown(*, order_id: int) -> float:
    """Seconds until a queued order's retry is due (0 if it is due, or is no longer waiting for one)."""
    due = Order.objects.filter(pk=order_id, status=Status.QUEUED).values_list("next_check_at", flat=True)
    due = due.first()
    return max((due - timezone.now()).total_seconds(), 0) if due else 0


def refusal_reason(upstream_error: str) -> str:
    """The customer's reason for the provider's refusal of an order (its error text)."""
    if protocol.error_is(upstream_error, protocol.INCORRECT_LINK):
        return LINK_REFUSED
    if protocol.error_is(upstream_error, protocol.ACTIVE_ORDER_WITH_LINK):
        return LINK_BUSY
    if protocol.is_quantity_limit_error(upstream_error):
        return QUANTITY_REFUSED
    return REFUSED


def _add_fields(order: Order) -> dict:
    """The fields `add` sends, as placement checked them for the order's type (orders/placement.py)."""
    return dict(order.upstream_fields)


def _to_review(order: Order, reason: str) -> None:
    order_move(order, Status.NEEDS_REVIEW, source=Source.SUBMISSION, note=reason, review_reason=reason[:500])
    log.warning("order %s needs review: %s", order.pk, reason)


def _keep_lost_upstream_id(order: Order, upstream_id: str) -> None:
    """The order left `submitting` while its `add` was in flight (the sweeper gave up on it): the provider
    has it anyway. Its id must not be lost, or we pay for an order nobody follows."""
    current = Order.objects.get(pk=order.pk)
    with translation.override("en"):  # history notes are the operator's, in one language
        note = f"Upstream order {upstream_id} was placed while the order was {current.get_status_display()}."
    log.error("order %s: %s", order.pk, note)
    with transaction.atomic():
        Order.objects.filter(pk=order.pk, upstream_id="").update(upstream_id=upstream_id)
        orders_note(orders=[current], note=note, source=Source.SUBMISSION)
