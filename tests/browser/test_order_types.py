"""The order types in Chromium, at a phone's width and a laptop's: a mass order checked, placed and
followed until the provider has every order; a drip-feed ordered in runs; a subscription whose fields
replace the link and quantity when it is chosen. Each step is screenshotted for CI."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Service
from orders.models import MassOrder, Order, Status
from orders.submission import order_submit
from tests.browser.conftest import WIDTHS
from tests.browser.test_storefront import assert_fits, visit
from tests.factories import funded_user
from tests.helpers import balance_of, reload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def service(provider, upstream_id: str) -> Service:
    return Service.objects.get(provider=provider, upstream_id=upstream_id)


def field_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("#type-fields label").all_inner_texts()]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_mass_order_is_checked_placed_and_followed_to_the_provider(
    live_server, open_page, screenshot, synced, width
):
    likes, followers, comments = (service(synced, upstream_id) for upstream_id in ("2", "1", "4"))
    alice = funded_user("100", username="alice")
    page = open_page(width, user=alice)
    visit(page, live_server.url + "/orders/mass/")
    page.fill(
        "#id_lines",
        "\n".join(
            [
                f"{likes.pk} | https://instagram.com/p/one | 1000",
                f"{comments.pk} | https://instagram.com/p/two | 10",
                "",
                f"{followers.pk}|1000|https://instagram.com/p/three",
                f"{likes.pk} | https://instagram.com/p/four | 5",
            ]
        ),
    )

    page.click("button[name=check]")

    expect(page.locator("#mass-check tbody tr")).to_have_count(4)
    problems = {number: page.locator(f"#line-{number} .line-problem") for number in (1, 2, 4, 5)}
    expect(problems[1]).to_have_text("OK")
    expect(problems[2]).to_have_text(
        "This service needs more than a link and a quantity: order it on the order form."
    )
    expect(problems[4]).to_have_text("OK")
    expect(problems[5]).to_have_text("The quantity must be at least 10.")
    expect(page.locator("#line-1 td[data-label=Price]")).to_have_text("$0.55")
    expect(page.locator("#line-4 td[data-label=Price]")).to_have_text("$2.41")
    expect(page.locator("#mass-total")).to_have_text("$2.95")  # 0.546 + 2.405, not 0.55 + 2.41
    expect(page.locator("#mass-valid")).to_have_text("2 / 4")
    expect(page.locator("#mass-balance")).to_have_text("$100.00")
    assert Order.objects.count() == 0, "checking places nothing"
    screenshot(page, "mass-order-checked")
    assert_fits(page, f"the checked mass order at {width} px")

    page.click("button[name=place]")

    page.wait_for_url(re.compile(r".*/orders/mass/[\w-]+/$"))
    placed = MassOrder.objects.get()
    assert page.url == f"{live_server.url}/orders/mass/{placed.public_id}/"
    one, three = Order.objects.order_by("pk")
    assert balance_of(alice) == Decimal("100") - Decimal("2.951")
    expect(page.locator("#header-balance")).to_have_text("$97.05")
    expect(page.locator("#mass-progress-text")).to_have_text("0 of 2")
    expect(page.locator("#mass-progress")).to_have_attribute("hx-trigger", "every 1s")
    for number, order in ((1, one), (4, three)):
        link = page.locator(f"#line-{number} a")
        expect(link).to_have_text(f"#{order.pk}")
        expect(link).to_have_attribute("href", f"/orders/{order.public_id}/")
    expect(page.locator("#line-2")).to_contain_text(
        "This service needs more than a link and a quantity: order it on the order form."
    )
    expect(page.locator("#line-5")).to_contain_text("The quantity must be at least 10.")
    page.evaluate("window.notReloaded = true")

    for order in (one, three):  # what the worker does
        order_submit(order_id=order.pk)

    expect(page.locator("#mass-progress-text")).to_have_text("2 of 2", timeout=10_000)
    expect(page.locator("#mass-progress progress")).to_have_attribute("value", "100")
    expect(page.locator("#mass-progress progress")).to_have_class(re.compile(r"\bprogress-done\b"))
    expect(page.locator("#mass-progress")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.locator("#line-1 [data-status]")).to_have_attribute("data-status", "pending")
    assert page.evaluate("window.notReloaded") is True
    assert {reload(order).status for order in (one, three)} == {Status.PENDING}
    screenshot(page, "mass-order-placed")
    assert_fits(page, f"the mass order page at {width} px")

    page.locator("#line-4 a").click()

    page.wait_for_url(f"{live_server.url}/orders/{three.public_id}/")
    expect(page.locator("h1")).to_have_text(f"Order {three.pk}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_drip_feed_is_ordered_in_runs(live_server, open_page, screenshot, synced, width):
    likes, reel_views = service(synced, "2"), service(synced, "3")
    alice = funded_user("100", username="alice")
    page = open_page(width, user=alice)
    visit(page, f"{live_server.url}/orders/new/?service={reel_views.pk}")
    expect(page.locator("#id_quantity")).to_be_visible()
    expect(page.locator("#id_runs")).to_have_count(0)  # no drip-feed flag upstream
    expect(page.locator("#id_interval")).to_have_count(0)

    visit(page, f"{live_server.url}/orders/new/?service={likes.pk}")

    assert field_labels(page) == ["Link", "Quantity", "Runs (optional)", "Interval (optional)"]
    expect(page.locator("#id_runs")).to_be_visible()
    expect(page.locator("#id_interval")).to_be_visible()
    page.fill("#id_link", "https://instagram.com/p/abc")
    page.fill("#id_quantity", "100")
    page.fill("#id_runs", "5")
    page.select_option("#id_interval", "15")

    expect(page.locator("#quote-count")).to_have_text("500")
    expect(page.locator("#quote-total")).to_have_text("$0.27")  # 500 x 0.546 / 1000 = 0.273
    expect(page.locator("#quote-balance-after")).to_have_text("$99.73")
    screenshot(page, "dripfeed-form")
    assert_fits(page, f"the drip-feed form at {width} px")

    page.click("text=Place order")

    order = Order.objects.get()
    page.wait_for_url(f"{live_server.url}/orders/{order.public_id}/")
    assert (order.quantity, order.runs, order.interval, order.charge) == (500, 5, 15, Decimal("0.273"))
    assert order.upstream_fields == {
        "link": "https://instagram.com/p/abc",
        "quantity": "100",
        "runs": "5",
        "interval": "15",
    }
    expect(page.locator("#order-quantity")).to_have_text("500 · 5 runs of 100")
    expect(page.locator("dt:text-is('Interval') + dd")).to_have_text("15 minutes")
    expect(page.locator("#header-balance")).to_have_text("$99.73")
    screenshot(page, "dripfeed-order")
    assert_fits(page, f"the drip-feed order at {width} px")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_subscription_asks_for_its_own_fields_and_is_charged_per_post(
    live_server, open_page, screenshot, synced, simulator, eager_celery, width
):
    subscription = Service.objects.get(provider=synced, type="Subscriptions", upstream_id="25")
    alice = funded_user("100", username="alice")
    page = open_page(width, user=alice)
    visit(page, live_server.url + "/orders/new/")
    expect(page.locator("#id_link")).to_be_visible()  # a Default service's until one is chosen

    page.select_option("#id_service", str(subscription.pk))

    expect(page.locator("#id_username")).to_be_visible()
    assert field_labels(page) == [
        "Username",
        "Minimum per post",
        "Maximum per post",
        "Posts",
        "Delay",
        "Expiry (optional)",
        "Old posts (optional)",
    ]
    expect(page.locator("#id_link")).to_have_count(0)
    expect(page.locator("#id_quantity")).to_have_count(0)
    expect(page.locator("#quote .card-title")).to_have_text(subscription.display_name)
    expiry = timezone.localdate() + timedelta(days=30)
    page.fill("#id_username", "reseller_news")
    page.fill("#id_min", "100")
    page.fill("#id_max", "200")
    page.fill("#id_posts", "10")
    page.select_option("#id_delay", "15")
    page.fill("#id_expiry", expiry.isoformat())
    page.fill("#id_old_posts", "2")

    expect(page.locator("#quote-count")).to_have_text("2,000")  # 10 posts x 200
    expect(page.locator("#quote-total")).to_have_text("$24.70")  # 2,000 x 12.35 / 1000
    expect(page.locator("#quote-balance-after")).to_have_text("$75.30")
    expect(page.locator("#quote .field-error")).to_have_count(0)
    screenshot(page, "subscription-form")
    assert_fits(page, f"the subscription form at {width} px")

    page.click("text=Place order")

    order = Order.objects.get()
    page.wait_for_url(f"{live_server.url}/orders/{order.public_id}/")
    assert (order.service_id, order.link, order.quantity, order.charge) == (
        subscription.pk,
        "",
        2000,
        Decimal("24.7"),
    )
    assert order.upstream_fields == {
        "username": "reseller_news",
        "min": "100",
        "max": "200",
        "posts": "10",
        "delay": "15",
        "expiry": expiry.strftime("%d/%m/%Y"),
        "old_posts": "2",
    }
    assert reload(order).status == Status.PENDING, "the provider took it"
    expect(page.locator("#order-posts")).to_have_text("0 of 10")
    expect(page.locator("#order-quantity")).to_have_text("2,000 · 10 posts at up to 200")
    expect(page.locator("dt:text-is('Username') + dd")).to_have_text("reseller_news")
    expect(page.locator("dt:text-is('Link')")).to_have_count(0)
    screenshot(page, "subscription-order")
    assert_fits(page, f"the subscription order at {width} px")


def choose_the_subscription(live_server, open_page, synced):
    subscription = service(synced, "25")
    page = open_page(1280, user=funded_user("100", username="alice"))
    visit(page, live_server.url + "/orders/new/")
    page.select_option("#id_service", str(subscription.pk))
    expect(page.locator("#id_username")).to_be_visible()
    return page


def test_choosing_a_service_puts_no_stale_error_under_its_fields(live_server, open_page, synced, screenshot):
    page = choose_the_subscription(live_server, open_page, synced)
    for field, value in (("username", "reseller_news"), ("min", "100"), ("max", "200"), ("posts", "10")):
        page.fill(f"#id_{field}", value)
    page.select_option("#id_delay", "15")
    expect(page.locator("#quote-total")).to_have_text("$24.70")
    screenshot(page)

    expect(page.locator("#type-fields .field-error")).to_have_count(0, timeout=2_000)


def test_the_expiry_field_is_drawn_like_the_other_fields(live_server, open_page, synced):
    page = choose_the_subscription(live_server, open_page, synced)
    style = "el => [getComputedStyle(el).minHeight, getComputedStyle(el).paddingLeft, el.offsetHeight]"

    assert page.locator("#id_expiry").evaluate(style) == page.locator("#id_username").evaluate(style)
