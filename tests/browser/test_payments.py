"""A customer in Chromium tops up by each method against the fake gateways of payments/fakes.py on a real
port (the live server is the panel they notify): by card on the fake Stripe Checkout, by VietQR on the fake
payOS page, by bank transfer with the demo's "Simulate the transfer" button. Each deposit is credited once,
the ledger adds up, and the pages fit a phone's screen and a laptop's (screenshotted for CI)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from payments.fakes import FakeGatewaysServer
from payments.models import Deposit, DepositStatus, ExchangeRate, Method
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from tests.browser.conftest import WIDTHS
from tests.browser.test_storefront import assert_fits
from tests.payments.conftest import fake_config, gateway_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL = 10_000  # ms: the deposit page polls every LIVE_POLL_SECONDS (1 s in tests)


@pytest.fixture
def fake(live_server, settings):
    """The fake gateways, notifying the live server; the panel configured for them, in demo mode (DEBUG,
    so the bank page offers the simulated transfer) and with a VND rate for payOS and bank transfers."""
    with FakeGatewaysServer(fake_config(live_server.url)) as server:
        gateway_settings(settings, server.url)
        settings.DEBUG = True  # pytest-django turns it off; the simulate button needs it
        ExchangeRate.objects.create(currency="VND", rate=Decimal("0.00004"))
        yield server


def show(page, screenshot, name: str) -> None:
    """Screenshots the page as `payments-<name>-<width>.png` and checks nothing sticks out of the screen."""
    screenshot(page, f"payments-{name}")
    assert_fits(page, f"{name} at {page.viewport_size['width']} px")


def expect_paid(page, total: str, balance: str) -> None:
    status = page.locator("#deposit-status")
    expect(status).to_have_attribute("data-status", "paid", timeout=POLL)
    expect(status.locator(".deposit-status")).to_have_text("Paid")
    expect(status.locator(".notice.ok")).to_have_text(f"{total} was added to your balance.")
    expect(page.locator("#header-balance")).to_have_text(balance, timeout=POLL)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_customer_tops_up_by_card_by_vietqr_and_by_bank_transfer(
    live_server, open_page, screenshot, alice, fake, width
):
    errors = []
    page = open_page(width, user=alice)
    page.on("pageerror", lambda error: errors.append(str(error)))
    deposit_page = re.compile(re.escape(live_server.url) + r"/funds/deposits/[0-9a-f-]{36}/")

    # 1. By card: the fake Stripe Checkout, paid; its webhook credits 25 USD before the customer is back.
    page.goto(live_server.url + "/funds/")
    expect(page.locator("#header-balance")).to_have_text("$100.00")
    for method in ("stripe", "payos", "bank"):
        expect(page.locator(f"#method-{method}")).to_be_visible()
    show(page, screenshot, "funds")
    page.fill("#id_stripe_amount", "25")
    page.click("#method-stripe button[type=submit]")
    page.wait_for_url(re.compile(re.escape(fake.url) + r"/stripe/pay/"))
    expect(page.locator(".amount")).to_have_text("25.00 USD")
    page.click("#pay")
    page.wait_for_url(deposit_page)
    expect_paid(page, "$25.00", "$125.00")
    expect(page.locator("#deposit-status .stat-label")).to_have_text("Card (Stripe)")
    show(page, screenshot, "deposit-paid")

    # 2. By VietQR: 250,000 VND at 0.00004 is 10 USD. The deposit page shows the QR and the payOS link.
    page.goto(live_server.url + "/funds/")
    page.fill("#id_payos_amount", "250000")
    page.click("#method-payos button[type=submit]")
    page.wait_for_url(deposit_page)
    status = page.locator("#deposit-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(status.locator(".qr svg")).to_be_visible()
    expect(status.locator(".deposit-status")).to_have_text("Pending")
    link = page.locator("#pay-link")
    expect(link).to_have_attribute("href", re.compile(re.escape(fake.url) + r"/payos/web/"))
    show(page, screenshot, "deposit-pending")
    link.click()
    page.wait_for_url(re.compile(re.escape(fake.url) + r"/payos/web/"))
    expect(page.locator(".amount")).to_have_text("250,000 VND")
    page.click("#pay")
    page.wait_for_url(deposit_page)
    expect_paid(page, "$10.00", "$135.00")

    # 3. By bank transfer: the memo code and the QR; the fake bank sends the transfer; 500,000 VND is 20 USD.
    page.goto(live_server.url + "/funds/bank/")
    expect(page.locator("#memo-code")).to_have_text(f"NAP{alice.pk}")
    expect(page.locator(".qr-card .qr svg")).to_be_visible()
    expect(page.locator("#simulate-transfer")).to_be_visible()
    show(page, screenshot, "bank")
    page.fill("#id_simulate_amount", "500000")
    page.click("#simulate-transfer")
    page.wait_for_url(live_server.url + "/transactions/")
    expect(page.locator("#header-balance")).to_have_text("$155.00")
    row = page.locator("table.ledger tbody tr").first
    expect(row).to_contain_text("Deposit")
    expect(row).to_contain_text("+$20.00")
    expect(row).to_contain_text("Bank transfer")
    expect(page.locator("#recent-deposits table.deposits tbody tr")).to_have_count(3)
    show(page, screenshot, "transactions")
    assert errors == []

    # Each deposit paid once: one deposit per method, one ledger row each, every webhook answered 200.
    deposits = {deposit.method: deposit for deposit in Deposit.objects.filter(user=alice)}
    assert Deposit.objects.count() == 3
    assert {method: deposit.status for method, deposit in deposits.items()} == {
        Method.STRIPE: DepositStatus.PAID,
        Method.PAYOS: DepositStatus.PAID,
        Method.BANK: DepositStatus.PAID,
    }
    assert {method: deposit.total for method, deposit in deposits.items()} == {
        Method.STRIPE: Decimal(25),
        Method.PAYOS: Decimal(10),
        Method.BANK: Decimal(20),
    }
    for deposit in deposits.values():
        rows = LedgerEntry.objects.filter(deposit=deposit)
        assert [(row.kind, row.amount) for row in rows] == [(LedgerEntry.Kind.DEPOSIT, deposit.total)]
    assert [delivery["status"] for delivery in fake.gateways.deliveries] == [200, 200, 200]
    assert wallet_balance(user=alice) == Decimal(155)
    assert ledger_check().ok


def test_a_pending_deposit_page_turns_paid_by_itself_and_the_header_balance_follows(
    live_server, open_page, alice, fake
):
    """The customer keeps the deposit page open and pays elsewhere (their bank app scans the QR): the
    webhook arrives while the page polls."""
    page = open_page(390, user=alice)
    page.goto(live_server.url + "/funds/")
    page.fill("#id_payos_amount", "250000")
    page.click("#method-payos button[type=submit]")
    expect(page.locator("#deposit-status")).to_have_attribute("data-status", "pending")
    page.evaluate("window.notReloaded = true")

    fake.gateways.payos_pay(Deposit.objects.get().gateway_id)  # the webhook, as the bank app's payment

    expect(page.locator("#deposit-status")).to_have_attribute("data-status", "paid", timeout=POLL)
    expect(page.locator("#deposit-status .notice.ok")).to_have_text("$10.00 was added to your balance.")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#header-balance")).to_have_text("$110.00", timeout=POLL)
