"""Alerts (cockpit/alerts.py): each condition fires once, reminds at most once an hour while it lasts and
recovers once; a provider answering errors is judged on the calls since the last check; the admin shows
what fires on every page. Time is passed as `now=`: nothing sleeps."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Provider, UpstreamCallCount
from cockpit import alerts
from cockpit.alerts import alerts_check
from cockpit.models import Alert
from orders.models import Order, Status
from payments.models import BankTransfer
from tests.factories import OrderFactory, ProviderFactory, StaffFactory
from tests.helpers import meet_before, run_together

T0 = timezone.now().replace(microsecond=0)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(seconds=settings.ALERT_EVERY)


@pytest.fixture(autouse=True)
def staff(db):
    """Who the emails go to."""
    return StaffFactory(username="operator", email="operator@example.com")


@pytest.fixture
def check(django_capture_on_commit_callbacks, eager_celery, mailoutbox):
    """One check at `now`: the emails leave after commit, through the (eager) Celery task, into the
    outbox. Returns the subjects of the emails it sent."""

    def run(now):
        start = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            sent = alerts_check(now=now)
        subjects = [
            message.subject.removeprefix(f"[{settings.PANEL_NAME}] ") for message in mailoutbox[start:]
        ]
        assert subjects == [email.subject for email in sent]
        return subjects

    return run


# Each condition: how to make it fire and how to make it stop.


@dataclass
class Case:
    title: str
    key: str
    fire: object
    stop: object


def in_review(now):
    order = OrderFactory(status=Status.NEEDS_REVIEW)
    OrderFactory(status=Status.NEEDS_REVIEW, service=order.service)
    return Case(
        "Orders in review",
        "in_review",
        fire=lambda: Order.objects.filter(service=order.service).update(status=Status.NEEDS_REVIEW),
        stop=lambda: Order.objects.filter(service=order.service).update(status=Status.PENDING),
    )


def stuck(now):
    order = OrderFactory(status=Status.PENDING, status_changed_at=now - timedelta(hours=25))
    return Case(
        "Stuck orders",
        "stuck",
        fire=lambda: Order.objects.filter(pk=order.pk).update(status_changed_at=now - timedelta(hours=25)),
        stop=lambda: Order.objects.filter(pk=order.pk).update(status_changed_at=now),
    )


def unmatched_transfers(now):
    BankTransfer.objects.create(sepay_id=1, amount=Decimal(50000), content="no code", payload={})
    waiting = BankTransfer.objects.filter(sepay_id=1)
    return Case(
        "Unmatched bank transfers",
        "unmatched_transfers",
        fire=lambda: waiting.update(status=BankTransfer.Status.WAITING),
        stop=lambda: waiting.update(status=BankTransfer.Status.IGNORED),
    )


def low_balance(now):
    provider = ProviderFactory(name="Acme", balance=Decimal("1.5"), low_balance=Decimal(5))
    rows = Provider.objects.filter(pk=provider.pk)
    return Case(
        "Low balance at Acme",
        f"low_balance:{provider.pk}",
        fire=lambda: rows.update(balance=Decimal("1.5")),
        stop=lambda: rows.update(balance=Decimal(50)),
    )


def sync_failing(now):
    provider = ProviderFactory(
        name="Acme", last_sync_ok=False, last_sync_message="HTTP 500 from the provider"
    )
    rows = Provider.objects.filter(pk=provider.pk)
    return Case(
        "Sync failing at Acme",
        f"sync_failing:{provider.pk}",
        fire=lambda: rows.update(last_sync_ok=False),
        stop=lambda: rows.update(last_sync_ok=True),
    )


CASES = [in_review, stuck, unmatched_transfers, low_balance, sync_failing]


@pytest.fixture(params=CASES, ids=[case.__name__ for case in CASES])
def case(request, db):
    return request.param(T0)


def test_nothing_wrong_sends_nothing(check):
    ProviderFactory(balance=Decimal(100))

    assert check(T0) == []
    assert not Alert.objects.filter(firing=True).exists()


def test_it_fires_once_reminds_after_an_hour_and_recovers_once(case, check, mailoutbox):
    [subject] = check(T0)
    assert subject.startswith(f"{case.title}: ")
    body = mailoutbox[-1].body
    assert f"{settings.PANEL_URL}{alerts.alert_link(case.key)}" in body
    assert mailoutbox[-1].to == ["operator@example.com"]
    alert = Alert.objects.get(key=case.key)
    assert (alert.firing, alert.since, alert.notified_at) == (True, T0, T0)

    assert check(T0 + MINUTE) == []
    assert check(T0 + HOUR - MINUTE) == [], "at most one email an hour"
    [reminder] = check(T0 + HOUR)
    assert reminder.startswith(f"Still: {case.title}: ")
    assert check(T0 + HOUR + MINUTE) == []

    case.stop()
    assert check(T0 + HOUR + 2 * MINUTE) == [f"Recovered: {case.title}"]
    assert check(T0 + HOUR + 3 * MINUTE) == []
    assert check(T0 + 3 * HOUR) == [], "no reminder of what recovered"
    alert = Alert.objects.get(key=case.key)
    assert (alert.firing, alert.resolved_at) == (False, T0 + HOUR + 2 * MINUTE)


def test_flapping_within_the_hour_sends_no_second_firing_email(case, check):
    assert check(T0) == [f"{case.title}: {Alert.objects.get(key=case.key).detail.splitlines()[0]}"]
    case.stop()
    assert check(T0 + 5 * MINUTE) == [f"Recovered: {case.title}"]

    case.fire()
    assert check(T0 + 10 * MINUTE) == [], "told less than an hour ago"
    assert Alert.objects.get(key=case.key).firing, "the admin shows it all the same"
    case.stop()
    assert check(T0 + 15 * MINUTE) == [], "staff never heard of this firing: no recovery either"
    case.fire()
    assert check(T0 + 20 * MINUTE) == []

    [subject] = check(T0 + HOUR)
    assert subject.startswith(f"{case.title}: "), "a firing they have not heard of yet: not a reminder"
    case.stop()
    assert check(T0 + HOUR + MINUTE) == [f"Recovered: {case.title}"]


def test_the_emails_link_to_admin_pages_that_open(case, check, staff_client):
    check(T0)

    response = staff_client.get(alerts.alert_link(case.key))

    assert response.status_code == 200
    assert "?e=1" not in response.get("Location", "")


def test_the_subjects_say_how_many_and_which_provider(check):
    OrderFactory.create_batch(3, status=Status.NEEDS_REVIEW)
    ProviderFactory(name="Acme", balance=Decimal("1.5"), low_balance=Decimal(5))

    subjects = check(T0)

    assert "Orders in review: 3 orders" in subjects
    assert "Low balance at Acme: $1.50 left" in subjects


def test_a_deactivated_or_deleted_providers_alerts_recover(check):
    acme = ProviderFactory(name="Acme", balance=Decimal(1), low_balance=Decimal(5), last_sync_ok=False)
    zeta = ProviderFactory(name="Zeta", balance=Decimal(1), low_balance=Decimal(5))
    assert sorted(check(T0)) == [
        "Low balance at Acme: $1.00 left",
        "Low balance at Zeta: $1.00 left",
        "Sync failing at Acme: the last sync failed",
    ]

    Provider.objects.filter(pk=acme.pk).update(is_active=False)
    zeta.delete()

    assert sorted(check(T0 + MINUTE)) == [
        "Recovered: Low balance at Acme",
        "Recovered: Low balance at Zeta",
        "Recovered: Sync failing at Acme",
    ]
    assert not Alert.objects.filter(firing=True).exists()
    assert check(T0 + 2 * HOUR) == []


# A provider answering errors: judged on the calls made since the last check.


def calls(provider, **outcomes):
    """More calls counted, as the upstream client counts them (catalog.models.UpstreamCallCount)."""
    for outcome, count in outcomes.items():
        row, _ = UpstreamCallCount.objects.get_or_create(provider=provider, action="status", outcome=outcome)
        UpstreamCallCount.objects.filter(pk=row.pk).update(calls=row.calls + count)


def test_a_provider_answering_errors_fires_on_the_calls_since_the_last_check(check):
    acme = ProviderFactory(name="Acme")
    calls(acme, ok=1000, rejected=200)  # before the panel watched: the starting point, not an interval
    assert check(T0) == []

    calls(acme, ok=2, unreachable=5, rejected=1)
    [subject] = check(T0 + MINUTE)
    assert subject == "Acme answering errors: 6 of 8 calls failed since the last check"
    assert Alert.objects.get(key=f"provider_errors:{acme.pk}").firing

    assert check(T0 + 2 * MINUTE) == [], "no calls: unchanged, still firing"
    assert Alert.objects.get(key=f"provider_errors:{acme.pk}").firing
    calls(acme, unreachable=10)
    assert check(T0 + 3 * MINUTE) == [], "still failing, told a minute ago"

    calls(acme, ok=20, unreachable=4)
    assert check(T0 + 4 * MINUTE) == ["Recovered: Acme answering errors"]


@pytest.mark.parametrize(
    "outcomes",
    [{"rejected": 4}, {"ok": 7, "ambiguous": 6}],
    ids=["fewer than ALERT_PROVIDER_ERRORS", "fewer than half the calls"],
)
def test_a_few_errors_are_not_a_provider_answering_errors(check, outcomes):
    acme = ProviderFactory(name="Acme")
    check(T0)

    calls(acme, **outcomes)

    assert check(T0 + MINUTE) == []
    assert not Alert.objects.get(key=f"provider_errors:{acme.pk}").firing


def test_counts_that_went_down_start_again_from_there(check):
    acme = ProviderFactory(name="Acme")
    calls(acme, ok=10, rejected=10)
    check(T0)

    UpstreamCallCount.objects.filter(provider=acme).delete()
    calls(acme, rejected=8)
    assert check(T0 + MINUTE) == [], "not an interval: the counts were reset"
    calls(acme, rejected=8)
    assert check(T0 + 2 * MINUTE) == ["Acme answering errors: 8 of 8 calls failed since the last check"]


# The admin: a strip of what fires on every page, and the alerts' own read-only pages.


def test_the_admin_shows_what_fires_on_every_page_until_it_recovers(check, staff_client):
    OrderFactory(status=Status.NEEDS_REVIEW)
    ProviderFactory(name="Acme", balance=Decimal(1), low_balance=Decimal(5))
    check(T0)

    for page in ["/admin/", "/admin/orders/order/", "/admin/catalog/provider/add/"]:
        html = staff_client.get(page).content.decode()
        assert 'id="firing-alerts"' in html, page
        assert "Orders in review</a>" in html and "Low balance at Acme</a>" in html
        assert 'href="/admin/orders/order/?status__exact=needs_review"' in html

    Order.objects.update(status=Status.PENDING)
    Provider.objects.update(balance=Decimal(100))
    check(T0 + MINUTE)

    assert 'id="firing-alerts"' not in staff_client.get("/admin/").content.decode()


def test_the_banner_costs_one_query(check, staff_client):
    OrderFactory(status=Status.NEEDS_REVIEW)
    check(T0)

    with CaptureQueriesContext(connection) as queries:
        staff_client.get("/admin/catalog/category/")

    banner = [query for query in queries if '"cockpit_alert"."title"' in query["sql"]]
    assert len(banner) == 1, "one query per request, however many templates ask"


def test_the_alerts_admin_lists_the_firing_first_and_changes_nothing(check, staff_client):
    ProviderFactory(name="Acme", balance=Decimal(1), low_balance=Decimal(5), last_sync_ok=False)
    check(T0)
    Provider.objects.update(last_sync_ok=True)
    check(T0 + MINUTE)

    html = staff_client.get("/admin/cockpit/alert/").content.decode()
    assert html.index("Low balance at Acme") < html.index("Sync failing at Acme")
    assert "$1.00 left" in html
    assert "Acme answering errors" not in html, "never fired: only its call counts are kept"
    firing = staff_client.get("/admin/cockpit/alert/", {"firing__exact": "1"}).content.decode()
    assert "Low balance at Acme" in firing and "Sync failing at Acme" not in firing
    alert = Alert.objects.get(title="Low balance at Acme")
    assert staff_client.get(f"/admin/cockpit/alert/{alert.pk}/change/").status_code == 200
    assert staff_client.get("/admin/cockpit/alert/add/").status_code == 403
    staff_client.post(f"/admin/cockpit/alert/{alert.pk}/change/", {"title": "Nothing"})
    assert Alert.objects.get(pk=alert.pk).title == "Low balance at Acme"


# The task and its schedule


def test_beat_checks_the_alerts_every_minute(eager_celery, mailoutbox, django_capture_on_commit_callbacks):
    from reseller.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["check-alerts"]
    assert (
        entry["task"] == "cockpit.tasks.alerts_check"
        and entry["schedule"] == settings.ALERT_CHECK_EVERY == 60
    )
    OrderFactory(status=Status.NEEDS_REVIEW)

    with django_capture_on_commit_callbacks(execute=True):
        app.tasks["cockpit.tasks.alerts_check"].delay()

    assert [message.subject for message in mailoutbox] == [
        f"[{settings.PANEL_NAME}] Orders in review: 1 order"
    ]


# Two checks at once


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_email_once(eager_celery, mailoutbox, monkeypatch):
    """Both checks read the alert as not firing and decide to email before either writes: only the lock
    on the row (the decision made again under it) keeps the second from emailing too."""
    OrderFactory(status=Status.NEEDS_REVIEW)
    monkeypatch.setattr(
        alerts,
        "_apply",
        meet_before(2, alerts._apply, when=lambda condition, now: condition.key == "in_review"),
    )

    results = run_together(2, lambda i: alerts_check(now=T0))

    assert sorted(len(result) for result in results) == [0, 1], results
    assert [message.subject for message in mailoutbox] == [
        f"[{settings.PANEL_NAME}] Orders in review: 1 order"
    ]
    assert Alert.objects.get(key="in_review").notified_at == T0
