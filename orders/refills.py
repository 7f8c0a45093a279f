"""Refills: a customer asks a completed order to be topped up; we ask the provider and follow the answer.

Submission has the orders' safety: refills are claimed (queued -> submitting) and the claim committed
before the HTTP call; an ambiguous answer sends them to review and nothing resends them.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import upstream
from catalog.services import provider_client
from reseller.bulk import bulk_update

from .models import OPEN_REFILL, POLLED_REFILL, REFILL_FROM_UPSTREAM, Order, Refill, RefillStatus, Status
from .polling import by_provider, claim_due
from .services import OrderError

log = logging.getLogger(__name__)


# Requests -------------------------------------------------------------------------------------------------


def refill_problem(*, order: Order, now=None) -> str | None:
    """Why this order cannot be refilled now, or None. (Open refills are also refused by a constraint.)"""
    if not order.service.refill:
        return "This service has no refill."
    if order.status != Status.COMPLETED:
        return "Only completed orders can be refilled."
    days = order.service.refill_days if order.service.refill_days is not None else settings.REFILL_WINDOW_DAYS
    if order.finished_at and order.finished_at + timedelta(days=days) < (now or timezone.now()):
        return f"The refill window ({days} days after completion) has passed."
    if any(refill.is_open for refill in order.refills.all()):
        return "A refill of this order is already under way."
    return None


def refill_request(*, user, order: Order) -> Refill:
    """Creates a refill of the customer's order and queues its submission. Raises OrderError."""
    result = refill_request_many(user=user, orders=[order])[order.pk]
    if isinstance(result, OrderError):
        raise result
    return result


def refill_request_many(*, user, orders: list[Order]) -> dict[int, Refill | OrderError]:
    """Refills each eligible order (one submission task for all of them); per order, the refill or why not."""
    results: dict[int, Refill | OrderError] = {}
    for order in orders:
        problem = "Incorrect order ID" if order.user_id != user.pk else refill_problem(order=order)
        if problem:
            results[order.pk] = OrderError(problem, code="refill")
            continue
        try:
            with transaction.atomic():
                results[order.pk] = Refill.objects.create(order=order, user=user)
        except IntegrityError:
            results[order.pk] = OrderError("A refill of this order is already under way.", code="refill")
    created = [r.pk for r in results.values() if isinstance(r, Refill)]
    if created:
        from .tasks import refills_submit  # tasks import this module

        transaction.on_commit(lambda: refills_submit.delay(created))
    return results


# Submission -----------------------------------------------------------------------------------------------


def refills_submit(*, refill_ids: list[int]) -> bool:
    """Asks the providers for the queued refills among `refill_ids`, at most 100 per call.

    Returns True when some provider was unreachable (those refills are queued again, for a retry).
    """
    unreachable = False
    for refills in _by_provider(_claim_queued(refill_ids)):
        client = provider_client(provider=refills[0].order.provider)
        by_order = {refill.order.upstream_id: refill for refill in refills}
        try:
            if len(refills) == 1:
                answers = {refills[0].order.upstream_id: client.refill(refills[0].order.upstream_id)}
            else:
                answers = client.refills(list(by_order))
        except upstream.Rejected as exc:
            _finish_submission(refills, status=RefillStatus.FAILED, error=str(exc))
        except upstream.Unreachable:
            _finish_submission(refills, status=RefillStatus.QUEUED)
            unreachable = True
        except upstream.Ambiguous as exc:
            log.warning("refills %s need review: %s", [r.pk for r in refills], exc)
            _finish_submission(refills, status=RefillStatus.NEEDS_REVIEW, error="")
        else:
            _store_refill_ids(by_order, answers)
    return unreachable


def _claim_queued(refill_ids: list[int]) -> list[Refill]:
    with transaction.atomic():
        ids = list(
            Refill.objects.filter(pk__in=refill_ids, status=RefillStatus.QUEUED)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Refill.objects.filter(pk__in=ids).update(status=RefillStatus.SUBMITTING, submitted_at=timezone.now())
    return list(Refill.objects.filter(pk__in=ids).select_related("order__provider"))


def _by_provider(refills: list[Refill]):
    return by_provider(refills, provider_id=lambda refill: refill.order.provider_id)


def _finish_submission(refills: list[Refill], *, status: str, error: str = "") -> None:
    changes = {"status": status, "error": error[:500], "updated_at": timezone.now()}
    if status == RefillStatus.FAILED:
        changes["finished_at"] = changes["updated_at"]
    Refill.objects.filter(pk__in=[r.pk for r in refills], status=RefillStatus.SUBMITTING).update(**changes)


def _store_refill_ids(by_order: dict[str, Refill], answers: dict) -> None:
    now = timezone.now()
    for upstream_order_id, refill in by_order.items():
        answer = answers.get(upstream_order_id, upstream.ItemError("No answer for this order"))
        if isinstance(answer, upstream.ItemError):
            refill.status, refill.error, refill.finished_at = RefillStatus.FAILED, answer.message[:500], now
        else:
            refill.status, refill.upstream_id = RefillStatus.PENDING, answer
            refill.next_check_at = now + timedelta(seconds=settings.REFILL_POLL_INTERVAL)
        refill.updated_at = now
    bulk_update(
        list(by_order.values()),
        ["status", "error", "upstream_id", "next_check_at", "finished_at", "updated_at"],
    )


def refills_sweep() -> int:
    """Refills stuck in submitting (the worker stopped after sending, perhaps) go to review: never resent."""
    stuck_before = timezone.now() - timedelta(seconds=settings.ORDER_SUBMIT_STUCK_AFTER)
    return Refill.objects.filter(status=RefillStatus.SUBMITTING, submitted_at__lt=stuck_before).update(
        status=RefillStatus.NEEDS_REVIEW,
        error="The request may not have reached the provider; check there before asking again.",
        updated_at=timezone.now(),
    )


def refills_fail_unreachable(*, refill_ids: list[int]) -> int:
    """After the last retry: the provider never got these requests."""
    return Refill.objects.filter(pk__in=refill_ids, status=RefillStatus.QUEUED).update(
        status=RefillStatus.FAILED, error="The provider could not be reached.", finished_at=timezone.now()
    )


# Polling --------------------------------------------------------------------------------------------------


@dataclass
class RefillPollResult:
    checked: int = 0
    changed: int = 0
    errors: int = 0
    calls: int = 0

    def __str__(self):
        return (
            f"{self.checked} refills checked, {self.changed} changed, {self.errors} errors, "
            f"{self.calls} status calls"
        )


def refills_poll(*, refill_ids: list[int] | None = None, batch_size: int = 1000) -> RefillPollResult:
    """One sweep over the open refills due for a check (or exactly `refill_ids`)."""
    result = RefillPollResult()
    while batch := _claim_due(refill_ids, batch_size):
        for refills in _by_provider(batch):
            _poll_provider(refills, result)
        if refill_ids is not None:
            break
    return result


def _claim_due(refill_ids: list[int] | None, batch_size: int) -> list[Refill]:
    due = Refill.objects.filter(status__in=POLLED_REFILL).exclude(upstream_id="")
    ids = claim_due(due, ids=refill_ids, batch_size=batch_size, interval=settings.REFILL_POLL_INTERVAL)
    return list(Refill.objects.filter(pk__in=ids).select_related("order__provider"))


def _poll_provider(refills: list[Refill], result: RefillPollResult) -> None:
    result.calls += -(-len(refills) // upstream.MAX_IDS)
    try:
        answers = provider_client(provider=refills[0].order.provider).refill_statuses(
            [r.upstream_id for r in refills]
        )
    except upstream.UpstreamError as exc:
        result.errors += len(refills)
        Refill.objects.filter(pk__in=[r.pk for r in refills]).update(poll_error=str(exc)[:300])
        return
    now, changed, moved = timezone.now(), [], set()
    for refill in refills:
        answer = answers.get(refill.upstream_id)
        before = (refill.status, refill.poll_error)
        if isinstance(answer, upstream.ItemError) or answer is None:
            refill.poll_error = answer.message[:300] if answer else "No answer"
            result.errors += 1
        else:
            result.checked += 1
            refill.poll_error = ""
            refill.status = REFILL_FROM_UPSTREAM[answer.status]
            if refill.status in (RefillStatus.COMPLETED, RefillStatus.REJECTED):
                refill.finished_at, refill.next_check_at = now, None
        if refill.status != before[0]:
            moved.add(refill.pk)
        if (refill.status, refill.poll_error) != before:
            refill.updated_at = now
            changed.append(refill)
    # Only refills still open are written, so an operator's "mark rejected" meanwhile is never undone.
    with transaction.atomic():
        still_open = set(
            Refill.objects.filter(pk__in=[r.pk for r in changed], status__in=POLLED_REFILL)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        writes = [refill for refill in changed if refill.pk in still_open]
        bulk_update(writes, ["status", "poll_error", "finished_at", "next_check_at", "updated_at"])
    result.changed += sum(1 for refill in writes if refill.pk in moved)


# Operators ------------------------------------------------------------------------------------------------


def refill_set_upstream_id(*, refill: Refill, upstream_id: str) -> None:
    """An operator found a refill in review at the provider: record its id and let polling follow it."""
    try:
        upstream_id = upstream.parse_id(upstream_id)
    except ValueError:
        raise OrderError("Enter the provider's refill id (digits).") from None
    moved = Refill.objects.filter(pk=refill.pk, status=RefillStatus.NEEDS_REVIEW).update(
        status=RefillStatus.PENDING,
        upstream_id=upstream_id,
        error="",
        next_check_at=None,
        updated_at=timezone.now(),
    )
    if not moved:
        raise OrderError("Only refills that need review can be given an upstream id.")


def refill_mark_rejected(*, refill: Refill, reason: str = "Rejected by an operator.") -> bool:
    """Closes a refill the provider will not do (or that was lost); never one being submitted right now."""
    now = timezone.now()
    closable = OPEN_REFILL - {RefillStatus.SUBMITTING}
    return bool(
        Refill.objects.filter(pk=refill.pk, status__in=list(closable)).update(
            status=RefillStatus.REJECTED, error=reason[:500], finished_at=now, updated_at=now
        )
    )
