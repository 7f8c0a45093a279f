"""A real Celery worker on the configured broker (Redis in CI, the filesystem broker locally)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from catalog.models import Provider
from catalog.tasks import providers_refresh_balances
from reseller.celery import app as celery_app


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_a_queued_task_through_the_broker(provider, simulator):
    import celery.contrib.testing.tasks  # noqa: F401  (start_worker expects its ping task registered)

    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        providers_refresh_balances.delay()
        deadline = time.monotonic() + 30
        while Provider.objects.get(pk=provider.pk).balance is None and time.monotonic() < deadline:
            time.sleep(0.2)

    assert Provider.objects.get(pk=provider.pk).balance == simulator.simulator.balance
