"""A customer in Chromium places an order and watches it finish, with a real Celery worker placing it
upstream (on the configured broker) and the test playing Celery beat for the polling sweep."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from catalog.models import Service
from orders.models import Order, Status
from orders.polling import orders_poll
from reseller.celery import app as celery_app
from tests.browser.test_wallet import log_in
from tests.factories import funded_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    import celery.contrib.testing.tasks  # noqa: F401  (start_worker expects its ping task registered)

    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


def wait_for(check, seconds=20):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_an_order_moves_to_partial_without_a_reload_and_the_refund_shows(
    live_server, page, synced, simulator, worker
):
    likes = Service.objects.get(provider=synced, upstream_id="2")
    funded_user("100", username="alice")
    log_in(page, live_server.url, "alice")

    page.goto(live_server.url + "/orders/new/")
    expect(page.locator("#id_quantity")).to_be_visible()  # a Default service's fields, until one is chosen
    expect(page.locator("#id_comments")).to_have_count(0)
    comments = Service.objects.get(provider=synced, upstream_id="4")
    page.select_option("#id_service", str(comments.pk))
    expect(page.locator("#id_quantity")).to_have_count(0)  # Custom Comments count their lines
    expect(page.locator("#id_comments")).to_be_visible()
    page.select_option("#id_service", str(likes.pk))
    expect(page.locator("#id_comments")).to_have_count(0)  # a Default service counts a quantity
    page.fill("#id_link", "https://instagram.com/p/abc")
    page.fill("#id_quantity", "1000")
    expect(page.locator("#quote-total")).to_have_text("$0.55")  # 0.546, shown to the cent
    expect(page.locator("#quote-balance-after")).to_have_text("$99.45")
    page.click("text=Place order")

    # Queued, submitting or placed by the worker already: the customer reads Pending either way.
    expect(page.locator("#order-live .status")).to_have_text("Pending")
    order = Order.objects.get()
    wait_for(lambda: Order.objects.get(pk=order.pk).status == Status.PENDING)  # the worker placed it
    page.evaluate("window.notReloaded = true")
    placed = simulator.simulator.orders[int(Order.objects.get(pk=order.pk).upstream_id)]
    placed.outcome, placed.final_remains = "Partial", 400
    simulator.simulator.advance(1000)
    orders_poll(order_ids=[order.pk])

    expect(page.locator("#order-live .status")).to_have_text("Partial", timeout=10_000)
    expect(page.locator("#order-live .status")).to_have_attribute("data-status", "partial")
    expect(page.locator("#order-refund")).to_have_text("$0.22")  # 0.2184 for the 400 undelivered
    expect(page.locator("#header-balance")).to_have_text("$99.67")  # 100 - 0.546 + 0.2184
    assert page.evaluate("window.notReloaded") is True

    page.goto(live_server.url + "/orders/")
    expect(page.locator(f"#order-{order.public_id} .status")).to_have_text("Partial")
