"""Refills: a customer asks a completed order to be topped up; we ask the provider and follow the answer.

Submission has the orders' safety: refills are claimed (queued -> submitting) and the claim committed
before the HTTP call; an ambiguous answer sends them to review and nothing resends them. Every status
change is a move (orders/moves.py), with a history row.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from catalog import protocol, upstream
from catalog.pool import Calls
from catalog.services import provider_client
from reseller.accounts.notifications import REFILL_COMPLETED, customers_notify
from reseller.db import bulk_update, claim_batches, due_now, group_by

from .errors import OrderError
from .models import (
    POLLED_REFILL,
    REFILL_FROM_UPSTREAM,
    REFILL_TRANSITIONS,
    Order,
    Refill,
    RefillStatus,
    Source,
    Status,
)
from .moves import Move, refills_created, refills_move
from .queue import refills_submission_enqueue

log = logging.getLogger(__name__)
ALREADY_OPEN = _("A refill of this order is already under way.")
# What a customer reads of a refill the provider refused (its own words go to the history, the operator's).
REFILL_REFUSED = gettext_noop("The provider refused this refill request.")


# Requests -------------------------------------------------------------------------------------------------


def refill_problem(*, order: Order, now=None) -> str | None:
    """Why this order cannot be refilled now, or None. (Open refills are also refused by a constraint.)"""
    if not order.service.refill:
        return _("This service has no refill.")
    if order.status != Status.COMPLETED:
        return _("Only completed orders can be refilled.")
    days = order.service.refill_days if order.service.refill_days is not None else settings.REFILL_WINDOW_DAYS
    if order.finished_at and order.finished_at + timedelta(days=days) < (now or timezone.now()):
        return ngettext(
            "The refill window (%(days)d day after completion) has passed.",
            "The refill window (%(days)d days after completion) has passed.",
            days,
        ) % {"days": days}
    if any(refill.is_open for refill in order.refills.all()):
        return ALREADY_OPEN
    return None


def refill_request(*, user, order: Order, by=None) -> Refill:
    """Creates a refill of the customer's order and queues its submission. Raises OrderError. `by`: the
    staff member asking for it on the customer's behalf (a support ticket), named in its history."""
    result = refill_request_many(user=user, orders=[order], by=by)[order.pk]
    if isinstance(result, OrderError):
        raise result
    return result


def refill_request_many(*, user, orders: list[Order], by=None) -> dict[int, Refill | OrderError]:
    """Refills each eligible order (one submission task for all of them); per order, the refill or why not.
    The customer's own rules hold when staff ask (`by`); the history then names them."""
    results: dict[int, Refill | OrderError] = {}
    for order in orders:
        problem = protocol.INCORRECT_ORDER_ID if order.user_id != user.pk else refill_problem(order=order)
        if problem:
            results[order.pk] = OrderError(problem, code="refill")
            continue
        try:
            with transaction.atomic():
                results[order.pk] = Refill.objects.create(order=order, user=user)
        except IntegrityError:
            results[order.pk] = OrderError(ALREADY_OPEN, code="refill")
    created = [refill for refill in results.values() if isinstance(refill, Refill)]
    if created:
        source = Source.OPERATOR if by is not None else Source.CUSTOMER
        refills_created(refills=created, by=by or user, source=source)
        refills_submission_enqueue(refill_ids=[refill.pk for refill in created])
    return results


# Submission -----------------------------------------------------------------------------------------------


def refills_submit(*, refill_ids: list[int]) -> bool:
    """Asks the providers for the queued refills among `refill_ids`, at most 100 per call.

    Returns True when some provider was unreachable (those refills are queued again, for a retry).
    """
    unreachable = False
    for refills in group_by(_claim_queued(refill_ids), lambda refill: refill.order.provider_id):
        client = provider_client(provider=refills[0].order.provider)
        by_order = {refill.order.upstream_id: refill for refill in refills}
        try:
            if len(refills) == 1:
                answers = {refills[0].order.upstream_id: client.refill(refills[0].order.upstream_id)}
            else:
                answers = client.refills(list(by_order))
        except upstream.Rejected as exc:
            _finish_submission(refills, RefillStatus.FAILED, error=REFILL_REFUSED, note=str(exc))
        except upstream.Unreachable as exc:
            _finish_submission(refills, RefillStatus.QUEUED, note=f"Provider unreachable, will retry: {exc}")
            unreachable = True
        except upstream.Ambiguous as exc:
            log.warning("refills %s need review: %s", [r.pk for r in refills], exc)
            _finish_submission(
                refills, RefillStatus.NEEDS_REVIEW, note=f"The provider's answer was lost ({exc})"
            )
        else:
            _store_refill_ids(by_order, answers)
    return unreachable


def refills_fail_unreachable(*, refill_ids: list[int]) -> int:
    """After the last retry: the provider never got these requests."""
    reason = gettext_noop("The provider could not be reached.")
    queued = Refill.objects.filter(pk__in=refill_ids, status=RefillStatus.QUEUED)
    moves = [
        Move(refill, RefillStatus.FAILED, Source.SUBMISSION, reason, changes={"error": reason})
        for refill in queued
    ]
    return len(refills_move(moves))


def _claim_queued(refill_ids: list[int]) -> list[Refill]:
    with transaction.atomic():
        queued = Refill.objects.filter(pk__in=refill_ids, status=RefillStatus.QUEUED)
        now = timezone.now()
        claims = [
            Move(refill, RefillStatus.SUBMITTING, Source.SUBMISSION, changes={"submitted_at": now})
            for refill in queued.select_for_update(skip_locked=True)
        ]
        claimed = [move.row.pk for move in refills_move(claims)]
    return list(Refill.objects.filter(pk__in=claimed).select_related("order__provider"))


def _finish_submission(refills: list[Refill], to: str, *, error: str = "", note: str = "") -> None:
    moves = [
        Move(refill, to, Source.SUBMISSION, note or error, changes={"error": error[:500]})
        for refill in refills
    ]
    refills_move(moves)


def _store_refill_ids(by_order: dict[str, Refill], answers: dict) -> None:
    next_check_at = timezone.now() + timedelta(seconds=settings.REFILL_FIRST_CHECK_AFTER)
    moves = []
    for upstream_order_id, refill in by_order.items():
        answer = answers.get(upstream_order_id, upstream.ItemError(upstream.NO_ANSWER))
        if isinstance(answer, upstream.ItemError):
            changes = {"error": REFILL_REFUSED}
            moves.append(
                Move(refill, RefillStatus.FAILED, Source.SUBMISSION, answer.message[:500], changes=changes)
            )
        else:
            changes = {"upstream_id": answer, "next_check_at": next_check_at, "error": ""}
            moves.append(
                Move(
                    refill,
                    RefillStatus.PENDING,
                    Source.SUBMISSION,
                    f"Upstream refill {answer}",
                    changes=changes,
                )
            )
    refills_move(moves)


# Polling --------------------------------------------------------------------------------------------------


@dataclass
class RefillPollResult:
    due: int = 0
    checked: int = 0
    changed: int = 0
    errors: int = 0
    calls: int = 0

    def __str__(self):
        return (
            f"{self.checked} refills checked, {self.changed} changed, {self.errors} errors, "
            f"{self.calls} status calls"
        )


def refills_poll(
    *, refill_ids: list[int] | None = None, batch_size: int = 1000, every: bool = False
) -> RefillPollResult:
    """One sweep over the open refills due for a check; exactly `refill_ids`; or, with `every`, all open
    refills whether due or not (`due` then says how many were)."""
    result = RefillPollResult()
    if every:
        result.due = _polled().filter(due_now()).count()
        refill_ids = list(_polled().values_list("pk", flat=True))
    batches = claim_batches(
        _polled(), ids=refill_ids, batch_size=batch_size, interval=settings.REFILL_POLL_INTERVAL
    )
    with Calls() as calls:  # up to UPSTREAM_CONCURRENCY calls in flight per provider (catalog/pool.py)
        for ids in batches:
            batch = Refill.objects.filter(pk__in=ids).select_related("order__provider")
            for refills in group_by(batch, lambda refill: refill.order.provider_id):
                for chunk in protocol.chunks(refills):
                    result.calls += 1
                    upstream_ids = [refill.upstream_id for refill in chunk]
                    calls.submit(
                        chunk[0].order.provider,
                        lambda client, ids=upstream_ids: client.refill_statuses(ids),
                        tag=chunk,
                    )
            while calls.pending():
                for done in calls.wait():
                    _apply_answers(done.tag, done.answer, done.error, result)
    return result


def _polled():
    return Refill.objects.filter(status__in=POLLED_REFILL).exclude(upstream_id="")


def _apply_answers(refills: list[Refill], answers: dict | None, error, result: RefillPollResult) -> None:
    """One call's answers (or its error) applied to its refills."""
    if error is not None:
        result.errors += len(refills)
        Refill.objects.filter(pk__in=[r.pk for r in refills]).update(poll_error=str(error)[:300])
        return
    now, moves, updated = timezone.now(), [], []
    for refill in refills:
        answer = answers.get(refill.upstream_id)
        if isinstance(answer, upstream.ItemError) or answer is None:
            poll_error, to = (answer.message[:300] if answer else "No answer"), None
            result.errors += 1
        else:
            result.checked += 1
            poll_error, to = "", REFILL_FROM_UPSTREAM[answer.status]
            if to != refill.status and to not in REFILL_TRANSITIONS[refill.status]:
                poll_error, to = f"Unexpected move from {refill.status} to {to}", None
        if to is not None and to != refill.status:
            moves.append(Move(refill, to, Source.POLL, changes={"poll_error": poll_error}))
        elif refill.poll_error != poll_error:
            refill.poll_error, refill.updated_at = poll_error, now
            updated.append(refill)
    # A move is a compare-and-swap, so an operator's "mark rejected" meanwhile is never undone.
    made = refills_move(moves)
    result.changed += len(made)
    notices = []
    for move in made:  # only the moves this sweep made: a second sweep finds nothing left to move
        if move.to == RefillStatus.COMPLETED:
            refill = move.row
            context = {
                "order_id": refill.order_id,
                "order_public_id": refill.order.public_id,
                "refill_id": refill.pk,
            }
            notices.append((refill.user_id, REFILL_COMPLETED, context))
    customers_notify(notices=notices)
    bulk_update(updated, ["poll_error", "updated_at"])
