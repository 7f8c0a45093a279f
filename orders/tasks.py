"""Celery tasks: thin. Each takes ids, calls a service and decides retries; beat runs the sweeps."""

import logging

from celery import shared_task
from django.conf import settings

from reseller.heartbeats import POLL, heartbeat

from . import polling, refills, stats, submission, sweeper

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=None)  # the order counts its tries, and fails after the last one
def order_submit(self, order_id: int):
    """Places one order upstream. Retries only when the provider was provably not reached, when the order
    says its retry is due."""
    outcome = submission.order_submit(order_id=order_id)
    if outcome is submission.Outcome.UNREACHABLE:
        raise self.retry(countdown=submission.order_retry_countdown(order_id=order_id))
    return outcome.value


@shared_task
def orders_submit(order_ids: list[int]):
    """Places many queued orders at once (the sweeper's re-queued ones); those whose provider was not
    reached go on with a task each, and its retries."""
    outcomes = submission.orders_submit_many(order_ids=order_ids)
    for order_id, outcome in outcomes.items():
        if outcome is submission.Outcome.UNREACHABLE:
            countdown = submission.order_retry_countdown(order_id=order_id)
            order_submit.apply_async((order_id,), countdown=countdown)
    return {str(order_id): outcome.value for order_id, outcome in outcomes.items()}


@shared_task
def orders_poll():
    """Beat: hands the orders due for a check to `orders_poll_provider` tasks, for any worker to take;
    `/healthz` reads when a sweep last ran."""
    tasks = polling.orders_poll_fan_out()
    heartbeat(POLL)
    if tasks:
        log.info("poll: %d tasks for %d providers", sum(tasks.values()), len(tasks))


@shared_task
def orders_poll_provider(provider_id: int):
    """One worker's share of a sweep: this provider's due orders, until none is left to claim."""
    result = polling.orders_poll(provider_ids=[provider_id])
    heartbeat(POLL)
    if result.checked or result.errors:
        log.info("poll of provider %s: %s", provider_id, result)


@shared_task
def orders_sweep():
    """Beat: stuck submissions to review, lost queued orders re-queued, followed orders without checks
    given them."""
    reviewed, requeued = sweeper.orders_sweep()
    refills_reviewed = sweeper.refills_sweep()
    if mended := polling.orders_checks_mend():
        log.warning("sweep: %d followed orders had no status checks; they are due now", mended)
    if reviewed or requeued or refills_reviewed:
        log.warning(
            "sweep: %d orders sent to review, %d re-queued; %d refills sent to review",
            reviewed,
            requeued,
            refills_reviewed,
        )


@shared_task(bind=True, max_retries=settings.ORDER_SUBMIT_MAX_RETRIES)
def refills_submit(self, refill_ids: list[int]):
    """Asks the provider for these refills. Retries only when the provider was provably not reached."""
    if refills.refills_submit(refill_ids=refill_ids):
        if self.request.retries >= self.max_retries:
            refills.refills_fail_unreachable(refill_ids=refill_ids)
        else:
            raise self.retry(countdown=settings.ORDER_SUBMIT_RETRY_BASE * 2**self.request.retries)


@shared_task
def refills_poll():
    """Beat: one sweep over the open refills due for a check."""
    result = refills.refills_poll()
    if result.checked or result.errors:
        log.info("refill poll: %s", result)


@shared_task
def services_completion_refresh():
    """Beat, hourly: the catalog's average completion times from our recent Completed orders."""
    changed = stats.service_completion_refresh()
    if changed:
        log.info("completion times: %d services changed", changed)
