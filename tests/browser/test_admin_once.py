"""Back then Save, in Chromium, never repeats a money move: staff credit a customer, or place an order for
one, save, go Back and press Save again, and reload: the balance moves once, and the page says the form was
already saved, with a link to what it made and a fresh form."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Order
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import ledger_check, wallet_balance
from tests.factories import StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVED = "This form was already saved"
LINK = "https://instagram.com/p/once"


@pytest.fixture
def staff(db):
    return StaffFactory()


def keep_page(page, url: str, html: str) -> None:
    """From now on the browser shows `url` as it first was, without asking the server: what a browser
    that keeps pages in its back-forward cache (despite no-store) shows on Back. Its POST still goes out."""

    def serve(route):
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.continue_()

    page.route(url, serve)


def test_back_then_save_and_reload_credit_a_customer_once(live_server, open_page, staff):
    customer = UserFactory(username="dana")
    wallet = Wallet.objects.get(user=customer)
    page = open_page(1280, user=staff)
    start = f"{live_server.url}/admin/payments/deposit/credit/{wallet.pk}/"

    page.goto(start)
    expect(page).to_have_url(re.compile(re.escape(start) + r"\?once=.+"))
    form_url = page.url
    page.fill("input[name=amount]", "20")
    page.fill("input[name=note]", "Wire 55")
    page.locator("#content-main button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("the balance is now $20.00")
    assert wallet_balance(user=customer) == Decimal(20)

    # Back: no-store, so Chromium asks the server again, which knows the token was used
    page.go_back()
    expect(page).to_have_url(form_url)
    expect(page.locator("#once-saved")).to_contain_text(SAVED)
    expect(page.locator("#content-main button[type=submit]")).to_have_count(0)
    assert wallet_balance(user=customer) == Decimal(20)

    # Reload: asked again of the server, the same answer
    page.reload()
    expect(page.locator("#once-saved")).to_contain_text(SAVED)
    assert wallet_balance(user=customer) == Decimal(20)

    # The link shows what the form made; a fresh form credits again, on purpose
    page.locator("#once-saved a").click()
    expect(page.locator("body")).to_contain_text("Wire 55")
    page.goto(form_url)
    page.get_by_role("link", name="Start a fresh form").click()
    expect(page).not_to_have_url(form_url)
    page.fill("input[name=amount]", "5")
    page.fill("input[name=note]", "Wire 56")
    page.locator("#content-main button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("the balance is now $25.00")
    assert LedgerEntry.objects.filter(user=customer).count() == 2 and ledger_check().ok


def test_back_to_the_credit_form_the_browser_kept_then_save_credits_nothing(live_server, open_page, staff):
    customer = UserFactory(username="finn")
    wallet = Wallet.objects.get(user=customer)
    page = open_page(1280, user=staff)
    shown = page.goto(f"{live_server.url}/admin/payments/deposit/credit/{wallet.pk}/")
    form_url, html = page.url, shown.text()
    page.fill("input[name=amount]", "20")
    page.fill("input[name=note]", "Wire 58")
    page.locator("#content-main button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("the balance is now $20.00")
    keep_page(page, form_url, html)

    page.go_back()
    expect(page).to_have_url(form_url)
    page.fill("input[name=amount]", "20")  # refilled, as the browser would
    page.fill("input[name=note]", "Wire 58")
    page.locator("#content-main button[type=submit]").click()

    expect(page.locator("#once-saved")).to_contain_text(SAVED)
    page.reload()  # the POST's answer, asked again: the same
    expect(page.locator("#once-saved")).to_contain_text(SAVED)
    assert wallet_balance(user=customer) == Decimal(20)
    assert LedgerEntry.objects.filter(user=customer).count() == 1


def test_a_stale_copy_of_the_credit_form_saves_nothing(live_server, open_page, staff):
    """The form kept by the browser (a second tab, or a page restored from the back-forward cache): same
    token, fields filled; its Save moves nothing once the first copy saved."""
    customer = UserFactory(username="erin")
    wallet = Wallet.objects.get(user=customer)
    first = open_page(1280, user=staff)
    first.goto(f"{live_server.url}/admin/payments/deposit/credit/{wallet.pk}/")
    second = first.context.new_page()
    second.goto(first.url)
    for page in (first, second):
        page.fill("input[name=amount]", "20")
        page.fill("input[name=note]", "Wire 57")

    first.locator("#content-main button[type=submit]").click()
    expect(first.locator("body")).to_contain_text("the balance is now $20.00")
    second.locator("#content-main button[type=submit]").click()

    expect(second.locator("#once-saved")).to_contain_text(SAVED)
    assert wallet_balance(user=customer) == Decimal(20)


def test_back_then_save_and_reload_place_an_order_once(live_server, open_page, staff, alice, likes):
    page = open_page(1280, user=staff)

    def fill():
        page.fill("input[name=customer]", str(alice.pk))
        page.fill("input[name=service]", str(likes.pk))
        page.fill("input[name=link]", LINK)
        page.fill("input[name=quantity]", "1000")

    shown = page.goto(f"{live_server.url}/admin/orders/order/place/")
    form_url, html = page.url, shown.text()
    assert "?once=" in form_url
    fill()
    page.locator("#content-main button[type=submit]").click()
    expect(page.locator("body")).to_contain_text("placed for alice")
    order = Order.objects.get()
    charged = Decimal(100) - order.charge

    # Back: asked again of the server, which shows the order the form placed
    page.go_back()
    expect(page).to_have_url(form_url)
    expect(page.locator("#once-saved")).to_contain_text(f"{SAVED}: Order {order.pk} for alice")
    page.reload()
    expect(page.locator("#once-saved")).to_contain_text(SAVED)

    # Back to the page as a browser that kept it shows it, refilled, and Save again
    page.goto(f"{live_server.url}/admin/")
    keep_page(page, form_url, html)
    page.goto(form_url)
    fill()
    page.locator("#content-main button[type=submit]").click()
    expect(page.locator("#once-saved")).to_contain_text(SAVED)

    assert Order.objects.count() == 1
    assert wallet_balance(user=alice) == charged and ledger_check().ok
