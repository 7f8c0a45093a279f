"""The affiliate page in Chromium: the link and its copy button, a visit through the link that ends in a
sign-up, and the button that moves earnings to the balance (the header's balance follows)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from affiliates.commissions import commissions_earn
from affiliates.models import Affiliate, Referral
from orders.models import Status
from tests.browser.conftest import WIDTHS
from tests.browser.test_storefront import assert_fits, visit
from tests.factories import OrderFactory, UserFactory, funded_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(db):
    return funded_user("100", username="alice")


def earned(affiliate, charge):
    """A referred customer's finished order of `charge`: 5% of it earned."""
    bob = UserFactory()
    Referral.objects.create(affiliate=affiliate, referred=bob)
    commissions_earn(orders=[OrderFactory(user=bob, charge=Decimal(charge), status=Status.COMPLETED)])


@pytest.mark.parametrize("width", WIDTHS)
def test_the_affiliate_page_fits_and_its_copy_button_copies_the_link(
    live_server, open_page, screenshot, alice, width
):
    affiliate = Affiliate.objects.for_user(alice)
    earned(affiliate, "150")
    page = open_page(width, user=alice)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    errors = visit(page, live_server.url + "/affiliates/")

    link = f"{live_server.url}/r/{affiliate.code}"
    expect(page.locator("#referral-link")).to_have_value(link)
    expect(page.locator("#figure-earned .stat-figure")).to_have_text("$7.50")
    expect(page.locator("#payout-button")).to_be_disabled()
    expect(page.locator("#payout-reason")).to_have_text("Available from $10.00; you have $7.50.")
    assert_fits(page, f"/affiliates/ at {width}px")
    screenshot(page)

    page.click("[data-copy]")

    expect(page.locator("[data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert not errors


def test_a_visit_through_the_link_then_a_sign_up_count_on_the_affiliates_page(live_server, open_page, alice):
    affiliate = Affiliate.objects.for_user(alice)
    visitor = open_page(1280)

    visitor.goto(f"{live_server.url}/r/{affiliate.code}")
    expect(visitor).to_have_url(re.compile(r"/accounts/signup/$"))
    visitor.fill("input[name=username]", "dora")
    visitor.fill("input[name=email]", "dora@example.org")
    visitor.fill("input[name=password1]", "a-Long-pass-4821")
    visitor.fill("input[name=password2]", "a-Long-pass-4821")
    visitor.click("main button[type=submit]")
    expect(visitor.locator("#header-balance")).to_be_visible()

    assert Referral.objects.get().referred.username == "dora"
    page = open_page(1280, user=alice)
    page.goto(live_server.url + "/affiliates/")
    expect(page.locator("#figure-visits .stat-figure")).to_have_text("1")
    expect(page.locator("#figure-sign-ups .stat-figure")).to_have_text("1")
    expect(page.locator("#figure-conversion .stat-figure")).to_have_text("100%")


@pytest.mark.parametrize("width", WIDTHS)
def test_moving_earnings_to_the_balance_updates_the_header_balance(
    live_server, open_page, screenshot, alice, width
):
    affiliate = Affiliate.objects.for_user(alice)
    earned(affiliate, "400")
    page = open_page(width, user=alice)
    page.goto(live_server.url + "/affiliates/")
    expect(page.locator("#header-balance")).to_have_text("$100.00")
    expect(page.locator("#figure-available .stat-figure")).to_have_text("$20.00")

    page.click("#payout-button")

    expect(page.locator(".toast.success")).to_contain_text("$20.00 moved to your balance.")
    expect(page.locator("#header-balance")).to_have_text("$120.00")
    expect(page.locator("#figure-available .stat-figure")).to_have_text("$0.00")
    expect(page.locator("#payout-button")).to_be_disabled()
    expect(page.locator("#payouts tbody tr")).to_have_count(1)
    assert_fits(page, f"/affiliates/ after a payout at {width}px")
    screenshot(page)
