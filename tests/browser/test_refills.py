"""A customer in Chromium asks for a refill from the order list; the row updates in place."""

import pytest
from playwright.sync_api import expect

from catalog.models import Service
from orders.models import Refill, RefillStatus
from orders.refills import refills_poll, refills_submit
from tests.browser.test_wallet import log_in
from tests.factories import funded_user
from tests.helpers import finish, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_refill_button_requests_a_refill_and_the_badge_follows_it(live_server, page, synced, simulator):
    customer = funded_user("100", username="alice")
    followers = Service.objects.get(provider=synced, upstream_id="1")
    (order,) = finish(simulator, place(customer, followers))
    log_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/orders/")
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#order-{order.public_id}")

    row.locator(".refill-button").click()

    # queued here: Pending to the customer
    expect(row.locator(".refill")).to_have_attribute("title", "Refill: Pending")
    expect(page.locator("#toasts")).to_contain_text("Refill requested.")
    expect(row.locator(".refill-button")).to_have_count(0)
    refill = Refill.objects.get()
    refills_submit(refill_ids=[refill.pk])  # what the worker does
    simulator.simulator.refills[int(Refill.objects.get().upstream_id)].outcome = "Completed"
    simulator.simulator.advance(1000)
    refills_poll(refill_ids=[refill.pk])  # what beat does
    assert Refill.objects.get().status == RefillStatus.COMPLETED
    expect(row.locator(".refill")).to_have_attribute("title", "Refill: Completed", timeout=10_000)
    expect(row.locator(".refill-button")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True
