"""`/metrics`: closed to strangers; with the token or from an allowed address, the panel's figures in
Prometheus's text format, read from the database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from catalog import upstream
from catalog.services import provider_refresh_balance
from orders.models import Order, Status
from payments.manual import deposit_manual
from payments.models import Deposit, Method
from reseller.heartbeats import BEAT, heartbeat
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def scrape(client, **headers):
    return client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, **headers)


def samples(response):
    """{(name, (label, value), ...): value} of every sample."""
    assert response.status_code == 200, response.content
    text = response.content.decode()
    return {
        (sample.name, *sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# Who may scrape --------------------------------------------------------------------------------------------


def test_without_a_token_it_asks_for_one(client, token):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response.json() == {"error": "A valid bearer token is required."}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_refused(client, token):
    response = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 401
    assert TOKEN not in response.content.decode()


def test_a_token_the_wrong_way_round_is_refused(client, token):
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401


def test_with_no_token_set_no_token_opens_it(client, settings):
    settings.METRICS_TOKEN = ""

    for header in ("Bearer ", "Bearer x", f"Bearer {TOKEN}"):
        response = client.get("/metrics", headers={"Authorization": header})
        assert (response.status_code, response.json()) == (403, {"error": "Forbidden."})


def test_an_address_not_listed_is_refused(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.168.1.5"]

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.6").status_code == 403


def test_the_right_token_opens_it(client, token):
    response = scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST  # what generate_latest writes
    assert TOKEN not in response.content.decode()


def test_an_allowed_address_or_network_opens_it(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.168.1.5", "::1"]

    for address in ("10.20.30.40", "192.168.1.5", "::1"):
        assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200, address


def test_behind_a_proxy_the_client_is_the_address_it_forwards(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1  # as settings.py derives it

    allowed = client.get("/metrics", REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1")
    spoofed = client.get("/metrics", REMOTE_ADDR="172.16.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.9")
    proxy_itself = client.get("/metrics", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert (allowed.status_code, spoofed.status_code, proxy_itself.status_code) == (200, 403, 403)


# What it says ---------------------------------------------------------------------------------------------


def test_orders_are_counted_by_status(client, token):
    OrderFactory.create_batch(2, status=Status.PENDING)
    OrderFactory(status=Status.COMPLETED)

    figures = samples(scrape(client))

    assert figures["reseller_orders", ("status", "pending")] == 2
    assert figures["reseller_orders", ("status", "completed")] == 1
    assert figures["reseller_orders", ("status", "needs_review")] == 0


def test_poll_lag_is_the_age_of_the_most_overdue_check(client, token):
    now = timezone.now()
    OrderFactory(status=Status.IN_PROGRESS, upstream_id="1", next_check_at=now - timedelta(seconds=90))
    OrderFactory(status=Status.PENDING, upstream_id="2", next_check_at=now - timedelta(seconds=30))
    OrderFactory(status=Status.PENDING, upstream_id="3", next_check_at=now + timedelta(hours=1))
    OrderFactory(status=Status.COMPLETED, upstream_id="4", next_check_at=now - timedelta(hours=5))  # final

    figures = samples(scrape(client))

    assert 90 <= figures[("reseller_poll_lag_seconds",)] < 100
    assert figures[("reseller_refill_poll_lag_seconds",)] == 0


def test_no_overdue_check_is_no_lag(client, token):
    OrderFactory(status=Status.PENDING, upstream_id="1", next_check_at=timezone.now() + timedelta(minutes=1))

    assert samples(scrape(client))[("reseller_poll_lag_seconds",)] == 0


def test_upstream_calls_and_errors_are_counted_by_provider(client, token, synced, simulator):
    provider_refresh_balance(provider=synced)
    simulator.simulator.inject("error", action="balance")
    with pytest.raises(upstream.Rejected):
        provider_refresh_balance(provider=synced)

    figures = samples(scrape(client))

    def key(name, **labels):
        return (name, *sorted({"provider": "Simulator", **labels}.items()))

    assert figures[key("reseller_upstream_calls_total", action="balance", outcome="ok")] == 1
    assert figures[key("reseller_upstream_calls_total", action="balance", outcome="rejected")] == 1
    assert figures[key("reseller_upstream_calls_total", action="services", outcome="ok")] == 1
    assert figures[key("reseller_upstream_call_seconds_total", action="balance", outcome="ok")] > 0
    assert figures[key("reseller_upstream_errors_total", **{"class": "rejected"})] == 1
    assert not any(
        name == "reseller_upstream_errors_total" and ("class", "ok") in labels for name, *labels in figures
    )


def test_submission_latency_is_over_the_last_hour(client, token):
    now = timezone.now()
    for waited in (10, 20, 30, 40):
        order = OrderFactory(status=Status.PENDING, submitted_at=now - timedelta(minutes=5))
        Order.objects.filter(pk=order.pk).update(created_at=order.submitted_at - timedelta(seconds=waited))
    old = OrderFactory(status=Status.COMPLETED, submitted_at=now - timedelta(hours=2))
    Order.objects.filter(pk=old.pk).update(created_at=old.submitted_at - timedelta(hours=1))

    figures = samples(scrape(client))

    assert figures["reseller_order_submission_seconds", ("quantile", "0.5")] == pytest.approx(20)
    assert figures["reseller_order_submission_seconds", ("quantile", "0.95")] == pytest.approx(40)
    assert figures["reseller_order_submission_seconds", ("quantile", "1.0")] == pytest.approx(40)
    assert figures[("reseller_order_submission_sample",)] == 4


def test_paid_deposits_are_counted_and_summed(client, token, alice):
    deposit_manual(user=alice, amount=Decimal("25"), note="Paid at the counter", created_by=None)
    Deposit.objects.create(user=alice, method=Method.STRIPE, currency="USD", amount=Decimal("10"))  # pending

    figures = samples(scrape(client))

    assert figures["reseller_deposits_total", ("method", "manual"), ("status", "paid")] == 1
    assert figures["reseller_deposits_total", ("method", "stripe"), ("status", "pending")] == 1
    assert figures["reseller_deposits_amount_total", ("currency", "USD"), ("method", "manual")] == 25
    assert ("reseller_deposits_amount_total", ("currency", "USD"), ("method", "stripe")) not in figures


def test_heartbeat_ages_are_shown_and_never_is_infinite(client, token):
    heartbeat(BEAT, at=timezone.now() - timedelta(seconds=42))

    figures = samples(scrape(client))

    assert 42 <= figures["reseller_heartbeat_age_seconds", ("name", "beat")] < 50
    assert figures["reseller_heartbeat_age_seconds", ("name", "poll")] == float("inf")


def test_a_scrape_takes_as_many_queries_with_10_orders_as_with_100(client, token):
    def queries_to_scrape():
        with CaptureQueriesContext(connection) as queries:
            assert scrape(client).status_code == 200
        return len(queries)

    OrderFactory.create_batch(10, status=Status.PENDING, submitted_at=timezone.now())
    few = queries_to_scrape()
    OrderFactory.create_batch(90, status=Status.IN_PROGRESS, submitted_at=timezone.now())

    assert queries_to_scrape() == few <= 8
