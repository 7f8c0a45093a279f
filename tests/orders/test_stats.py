"""The catalog's average completion time, measured from our own Completed orders."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import override

from catalog.models import Service
from catalog.templatetags.catalog_tags import completion
from orders.models import Order, Status
from orders.stats import service_completion_refresh
from tests.factories import OrderFactory, ServiceFactory, UserFactory
from tests.helpers import reload

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def finished(service, took, *, ago=timedelta(hours=1), status=Status.COMPLETED, submitted=True):
    """An order of `service` that took `took` from submission (else placement) and ended `ago` before NOW."""
    order = OrderFactory(service=service, user=UserFactory())
    end = NOW - ago
    Order.objects.filter(pk=order.pk).update(
        status=status,
        created_at=end - took - timedelta(minutes=5),  # placing took five minutes more than the provider
        submitted_at=end - took if submitted else None,
        finished_at=end,
    )
    return order


def test_it_averages_the_time_from_submission_to_completion():
    service = ServiceFactory()
    for minutes in (10, 20, 45):
        finished(service, timedelta(minutes=minutes))

    assert service_completion_refresh(now=NOW) == 1

    service = reload(service)
    assert (service.completion_seconds, service.completion_sample) == (25 * 60, 3)
    assert service.completion_time == timedelta(minutes=25)


def test_an_order_never_submitted_is_timed_from_its_placement():
    service = ServiceFactory()
    finished(service, timedelta(minutes=10))
    finished(service, timedelta(minutes=10))
    finished(service, timedelta(minutes=25), submitted=False)  # 25 + the 5 minutes of placing: 30

    service_completion_refresh(now=NOW)

    assert reload(service).completion_seconds == round((10 + 10 + 30) * 60 / 3)


def test_it_counts_only_recent_completed_orders_of_each_service():
    service, other = ServiceFactory(), ServiceFactory()
    for hours in (1, 2, 3):
        finished(service, timedelta(hours=hours))
    finished(service, timedelta(days=4), status=Status.PARTIAL)
    finished(service, timedelta(days=4), status=Status.CANCELED)
    finished(service, timedelta(days=4), ago=timedelta(days=7, minutes=1))  # before the last 7 days
    finished(other, timedelta(seconds=30))
    running = finished(service, timedelta(days=4), status=Status.IN_PROGRESS)
    Order.objects.filter(pk=running.pk).update(finished_at=None)

    service_completion_refresh(days=7, now=NOW)

    assert (reload(service).completion_seconds, reload(service).completion_sample) == (2 * 3600, 3)
    assert (reload(other).completion_seconds, reload(other).completion_sample) == (30, 1)


def test_a_service_without_recent_completions_loses_its_figure():
    stale = ServiceFactory()
    Service.objects.filter(pk=stale.pk).update(completion_seconds=600, completion_sample=9)
    finished(stale, timedelta(minutes=10), ago=timedelta(days=40))
    untouched = ServiceFactory()

    assert service_completion_refresh(days=30, now=NOW) == 1

    assert (reload(stale).completion_seconds, reload(stale).completion_sample) == (None, 0)
    assert reload(stale).completion_time is None
    assert (reload(untouched).completion_seconds, reload(untouched).completion_sample) == (None, 0)


def test_it_writes_only_what_changed():
    service = ServiceFactory()
    for _ in range(3):
        finished(service, timedelta(minutes=10))

    assert service_completion_refresh(now=NOW) == 1
    assert service_completion_refresh(now=NOW) == 0


def test_it_measures_everything_in_one_aggregate_query(django_assert_max_num_queries):
    services = [ServiceFactory() for _ in range(5)]
    for service in services:
        for minutes in (1, 2, 3):
            finished(service, timedelta(minutes=minutes))

    # the aggregate, the services to compare with, the bulk update
    with django_assert_max_num_queries(3):
        assert service_completion_refresh(now=NOW) == 5


def test_below_the_minimum_sample_no_time_is_shown():
    service = ServiceFactory()
    finished(service, timedelta(minutes=10))
    finished(service, timedelta(minutes=20))

    service_completion_refresh(now=NOW)

    service = reload(service)
    assert (service.completion_seconds, service.completion_sample) == (15 * 60, 2)
    assert service.completion_time is None
    with override_settings(SERVICE_COMPLETION_MIN_SAMPLE=2):
        assert service.completion_time == timedelta(minutes=15)


def test_the_days_default_to_the_setting():
    service = ServiceFactory()
    for _ in range(3):
        finished(service, timedelta(minutes=10), ago=timedelta(days=3))

    with override_settings(SERVICE_COMPLETION_DAYS=2):
        service_completion_refresh()
    assert reload(service).completion_sample == 0

    with override_settings(SERVICE_COMPLETION_DAYS=4):
        service_completion_refresh()
    assert reload(service).completion_sample == 3


def test_the_beat_task_refreshes_them():
    from orders.tasks import services_completion_refresh

    service = ServiceFactory()
    for minutes in (1, 2, 3):
        finished(service, timedelta(minutes=minutes), ago=timedelta(seconds=10))

    services_completion_refresh()  # what beat's worker runs

    assert reload(service).completion_time == timedelta(minutes=2)


def test_the_beat_schedule_runs_it_hourly():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["refresh-service-completion-times"]
    assert entry["task"] == "orders.tasks.services_completion_refresh"
    assert str(entry["schedule"].minute) == "{27}"


@pytest.mark.parametrize(
    ("took", "shown"),
    [
        (timedelta(seconds=0), "under a minute"),
        (timedelta(seconds=59), "under a minute"),
        (timedelta(seconds=90), "about 2 min"),
        (timedelta(minutes=1), "about 1 min"),
        (timedelta(minutes=40), "about 40 min"),
        (timedelta(minutes=59, seconds=40), "about 1 h"),
        (timedelta(hours=2, minutes=14), "about 2 h 15 min"),
        (timedelta(hours=2, minutes=15), "about 2 h 15 min"),
        (timedelta(hours=5), "about 5 h"),
        (timedelta(hours=23, minutes=58), "about 1 day"),
        (timedelta(days=3, hours=2), "about 3 days"),
        (None, ""),
    ],
)
def test_the_completion_filter_says_it_briefly(took, shown):
    with override("en"):
        assert completion(took) == shown
