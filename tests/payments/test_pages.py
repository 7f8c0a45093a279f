"""The customer's money pages: add funds by each method, a deposit's page and receipt, the bank transfer page,
the transactions page. Each shows only the customer's own deposits."""

import re
from decimal import Decimal

import pytest

from payments.amounts import deposit_quote
from payments.bank import bank_details
from payments.credit import deposit_create, deposit_credit
from payments.methods import method_config, method_currency
from payments.models import BonusTier, Deposit, ExchangeRate, Method, PaymentMethod
from payments.vietqr import parse_fields
from reseller.wallet.models import FundsInstructions
from reseller.wallet.selectors import wallet_balance
from tests.payments.conftest import BANK_ACCOUNT

pytestmark = pytest.mark.django_db
D = Decimal
NOT_SET_UP = "The operator has not set up payments yet."


def text(response) -> str:
    return response.content.decode()


def section(page: str, element_id: str) -> str:
    """The HTML of the element with this id, up to the end of its tag's first closing (enough for a card)."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def vnd_rate(db):
    return ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))


def deposit_for(user, method=Method.STRIPE, amount="20", **fields) -> Deposit:
    q = deposit_quote(config=method_config(method), amount=D(amount), currency=method_currency(method))
    return deposit_create(user=user, method=method, quote=q, **fields)


def paid_deposit_for(user, method=Method.STRIPE, amount="20", **fields) -> Deposit:
    deposit = deposit_for(user, method, amount, **fields)
    deposit_credit(deposit=deposit, txn_id=f"pi_{deposit.pk}", amount_paid=D(amount), reason="test")
    deposit.refresh_from_db()
    return deposit


def test_without_gateway_settings_no_method_is_shown_and_the_page_says_so(alice_client):
    page = text(alice_client.get("/funds/"))

    assert 'class="card method' not in page
    assert 'action="/funds/' not in page
    assert NOT_SET_UP in page


def test_without_gateway_settings_the_operators_instructions_are_shown(alice_client):
    FundsInstructions.objects.create(text="Pay to **IBAN X**")

    page = text(alice_client.get("/funds/"))

    assert "Pay to <strong>IBAN X</strong>" in page
    assert NOT_SET_UP not in page
    assert 'class="card method' not in page


def test_configured_card_is_shown_but_vnd_methods_wait_for_an_exchange_rate(alice_client, configured):
    page = text(alice_client.get("/funds/"))

    assert 'id="method-stripe"' in page
    assert 'id="method-payos"' not in page and 'id="method-bank"' not in page
    assert NOT_SET_UP not in page


def test_configured_methods_are_all_shown_with_an_exchange_rate(alice_client, configured, vnd_rate):
    page = text(alice_client.get("/funds/"))

    assert 'id="method-stripe"' in page and 'action="/funds/stripe/"' in page
    assert 'id="method-payos"' in page and 'action="/funds/payos/"' in page
    assert 'id="method-bank"' in page and 'href="/funds/bank/"' in page


def test_a_method_whose_credentials_are_missing_is_hidden(alice_client, configured, vnd_rate, settings):
    settings.PAYOS_CHECKSUM_KEY = ""

    page = text(alice_client.get("/funds/"))

    assert 'id="method-payos"' not in page
    assert alice_client.post("/funds/payos/", {"amount": "100000"}).status_code == 404


def test_a_method_disabled_by_the_operator_is_hidden_and_cannot_be_started(alice_client, configured):
    PaymentMethod.objects.create(method=Method.STRIPE, enabled=False)

    page = text(alice_client.get("/funds/"))
    response = alice_client.post("/funds/stripe/", {"amount": "20"})

    assert 'id="method-stripe"' not in page
    assert response.status_code == 404
    assert not Deposit.objects.exists()


@pytest.mark.parametrize("method", ["manual", "nothing"])
def test_only_card_and_payos_can_be_started_by_post(alice_client, configured, vnd_rate, method):
    assert alice_client.post(f"/funds/{method}/", {"amount": "100000"}).status_code == 404
    assert not Deposit.objects.exists()


def test_the_operators_name_and_markdown_instructions_are_shown_escaped(alice_client, configured):
    PaymentMethod.objects.create(
        method=Method.STRIPE,
        display_name="Visa or Mastercard",
        instructions="Charged as **ACME SMM**.\n\n<script>alert('x')</script>",
    )

    card = section(text(alice_client.get("/funds/")), "method-stripe")

    assert "Visa or Mastercard" in card and "Card (Stripe)" not in card
    assert "Charged as <strong>ACME SMM</strong>." in card
    assert "<script>" not in card


def test_the_fee_of_a_method_is_shown_with_it(alice_client, configured):
    PaymentMethod.objects.create(method=Method.STRIPE, fee_percent=D(3), fee_fixed=D("0.30"))

    card = section(text(alice_client.get("/funds/")), "method-stripe")

    assert "Fee: 3% + $0.30, taken from the amount credited." in card


def test_a_fractional_fee_percent_is_shown_without_trailing_zeros(alice_client, configured):
    PaymentMethod.objects.create(method=Method.STRIPE, fee_percent=D("2.9"), fee_fixed=D("0.30"))

    card = section(text(alice_client.get("/funds/")), "method-stripe")

    assert "Fee: 2.9% + $0.30" in card


def test_the_bonus_tiers_are_shown_on_the_add_funds_page(alice_client, configured):
    BonusTier.objects.create(min_amount=D(50), percent=D(5))
    BonusTier.objects.create(min_amount=D(200), percent=D(10))

    page = text(alice_client.get("/funds/"))

    assert "+5% on deposits from $50.00" in page and "+10% on deposits from $200.00" in page


def test_no_bonus_card_without_bonus_tiers(alice_client, configured):
    assert 'id="bonus-tiers"' not in text(alice_client.get("/funds/"))


@pytest.mark.parametrize(
    ("amount", "error"),
    [("4", "The minimum is $5.00."), ("501", "The maximum is $500.00."), ("ten", "Enter a number.")],
)
def test_an_amount_out_of_bounds_or_not_a_number_is_refused_on_the_page(
    alice_client, alice, configured, amount, error
):
    PaymentMethod.objects.create(method=Method.STRIPE, min_amount=D(5), max_amount=D(500))

    response = alice_client.post("/funds/stripe/", {"amount": amount})

    assert response.status_code == 400
    card = section(text(response), "method-stripe")
    assert error in card and 'aria-invalid="true"' in card
    assert not Deposit.objects.exists()
    assert wallet_balance(user=alice) == 100


def test_the_bounds_are_told_before_paying(alice_client, configured):
    PaymentMethod.objects.create(method=Method.STRIPE, min_amount=D(5), max_amount=D(500))

    card = section(text(alice_client.get("/funds/")), "method-stripe")

    assert "From $5.00 to $500.00." in card
    assert 'min="5"' in card and 'max="500"' in card


def test_starting_a_card_payment_goes_to_the_checkout_with_the_figures_snapshotted(
    alice_client, alice, gateways
):
    PaymentMethod.objects.create(method=Method.STRIPE, fee_percent=D(1))
    BonusTier.objects.create(min_amount=D(50), percent=D(5))

    response = alice_client.post("/funds/stripe/", {"amount": "100"})

    deposit = Deposit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == deposit.checkout_url
    assert deposit.checkout_url.startswith(gateways.url)
    assert deposit.gateway_id in gateways.gateways.sessions
    assert (deposit.user, deposit.method, deposit.status, deposit.currency) == (
        alice,
        "stripe",
        "pending",
        "USD",
    )
    assert (deposit.amount, deposit.rate, deposit.fee, deposit.credited, deposit.bonus) == (
        D(100),
        D(1),
        D(1),
        D(99),
        D("4.95"),
    )
    BonusTier.objects.update(percent=D(50))  # a later change of the tiers leaves the deposit as it was
    deposit.refresh_from_db()
    assert deposit.bonus == D("4.95")
    assert wallet_balance(user=alice) == 100, "nothing is credited before the payment"


def test_when_the_card_gateway_is_down_the_customer_is_told_and_nothing_is_charged(
    alice_client, alice, configured
):
    response = alice_client.post("/funds/stripe/", {"amount": "20"}, follow=True)

    assert response.redirect_chain == [("/funds/", 302)]
    assert "The card payment could not be started. Please try again later." in text(response)
    deposit = Deposit.objects.get()
    assert deposit.status == "canceled"
    assert wallet_balance(user=alice) == 100


def test_when_payos_is_down_the_customer_is_told_and_nothing_is_charged(alice_client, configured, vnd_rate):
    response = alice_client.post("/funds/payos/", {"amount": "100000"}, follow=True)

    assert response.redirect_chain == [("/funds/", 302)]
    assert "The VietQR payment could not be started. Please try again later." in text(response)
    assert Deposit.objects.get().status == "canceled"


def test_a_payos_deposit_page_shows_a_qr_code_and_the_payment_link_while_pending(
    alice_client, gateways, vnd_rate
):
    response = alice_client.post("/funds/payos/", {"amount": "250000"})
    deposit = Deposit.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/funds/deposits/{deposit.public_id}/"

    page = text(alice_client.get(response["Location"]))

    assert (deposit.status, deposit.currency, deposit.credited) == ("pending", "VND", D(10))
    status = section(page, "deposit-status")
    assert re.search(r'<div class="qr"><svg role="img"[^>]*>.*</svg>', status, re.S)
    assert f'id="pay-link" href="{deposit.checkout_url}"' in status
    assert deposit.checkout_url.startswith(gateways.url)
    assert 'hx-trigger="every' in status, "a pending deposit's page updates by itself"


def test_a_paid_payos_deposit_shows_no_qr_code_any_more(alice_client, alice, vnd_rate, configured):
    deposit = paid_deposit_for(alice, Method.PAYOS, "250000", qr_payload="000201...")

    status = section(text(alice_client.get(f"/funds/deposits/{deposit.public_id}/")), "deposit-status")

    assert "<svg" not in status and 'id="pay-link"' not in status
    assert "hx-trigger" not in status


def test_the_receipt_shows_amount_credited_bonus_fee_and_reference(alice_client, alice):
    PaymentMethod.objects.create(method=Method.STRIPE, fee_percent=D(1), fee_fixed=D(1))
    BonusTier.objects.create(min_amount=D(50), percent=D(5))
    deposit = paid_deposit_for(alice, Method.STRIPE, "100")

    receipt = section(text(alice_client.get(f"/funds/deposits/{deposit.public_id}/")), "deposit-status")

    assert 'data-status="paid"' in receipt
    assert "$100.00" in receipt  # paid
    assert re.search(r"Fee</dt><dd[^>]*>\$2\.00<", receipt)
    assert re.search(r"Credited</dt><dd[^>]*>\$98\.00<", receipt)
    assert re.search(r"Bonus</dt><dd[^>]*>\$4\.90<", receipt)
    assert "$102.90 was added to your balance." in receipt
    assert str(deposit.public_id) in receipt
    assert wallet_balance(user=alice) == D("202.90")


def test_a_vnd_receipt_shows_the_exchange_rate(alice_client, alice, vnd_rate):
    deposit = paid_deposit_for(alice, Method.BANK, "500000")

    receipt = section(text(alice_client.get(f"/funds/deposits/{deposit.public_id}/")), "deposit-status")

    assert "Exchange rate" in receipt and "0.00004" in receipt
    assert re.search(r"Credited</dt><dd[^>]*>\$20\.00<", receipt)


def test_another_customers_deposits_are_never_visible(charlie_client, alice):
    deposit = paid_deposit_for(alice, Method.STRIPE, "37")
    pending = deposit_for(alice, Method.STRIPE, "41")

    assert charlie_client.get(f"/funds/deposits/{deposit.public_id}/").status_code == 404
    assert charlie_client.get(f"/funds/deposits/{pending.public_id}/").status_code == 404
    for url in ("/transactions/", "/funds/deposits/", "/funds/"):
        page = text(charlie_client.get(url))
        assert str(deposit.public_id) not in page and str(pending.public_id) not in page, url
        assert "$37.00" not in page and "$41.00" not in page, url


def test_the_transactions_page_lists_recent_deposits_with_their_status(alice_client, alice):
    paid = paid_deposit_for(alice, Method.STRIPE, "11")
    pending = deposit_for(alice, Method.STRIPE, "12")
    expired = deposit_for(alice, Method.STRIPE, "13")
    Deposit.objects.filter(pk=expired.pk).update(status="expired")

    recent = section(text(alice_client.get("/transactions/")), "recent-deposits")

    for deposit, status, label in (
        (paid, "paid", "Paid"),
        (pending, "pending", "Pending"),
        (expired, "expired", "Expired"),
    ):
        row = recent[recent.index(str(deposit.public_id)) :].split("</tr>")[0]
        assert f'data-status="{status}"' in row and f">{label}</span>" in row
    assert recent.index(str(expired.public_id)) < recent.index(str(paid.public_id)), "newest first"
    assert 'href="/funds/deposits/"' in recent


def test_the_transactions_page_shows_no_deposits_section_without_any(alice_client):
    assert 'id="recent-deposits"' not in text(alice_client.get("/transactions/"))


def test_the_deposits_page_lists_all_of_the_customers_deposits(alice_client, alice, settings):
    settings.DEPOSITS_PAGE_SIZE = 2
    deposits = [deposit_for(alice, Method.STRIPE, str(n)) for n in (21, 22, 23)]

    first = text(alice_client.get("/funds/deposits/"))
    second = text(alice_client.get("/funds/deposits/", {"page": 2}))

    assert str(deposits[2].public_id) in first and str(deposits[1].public_id) in first
    assert str(deposits[0].public_id) in second and str(deposits[2].public_id) not in second


def test_a_deposits_page_asked_for_by_htmx_is_the_table_alone(alice_client, alice, settings):
    """The pagination links swap #deposit-table in place: the answer is that table, not a whole page in it."""
    settings.DEPOSITS_PAGE_SIZE = 2
    deposits = [deposit_for(alice, Method.STRIPE, str(n)) for n in (41, 42, 43)]

    second = alice_client.get(
        "/funds/deposits/", {"page": 2}, headers={"HX-Request": "true"}
    ).content.decode()

    assert second.lstrip().startswith('<div id="deposit-table">')
    assert "<html" not in second and str(deposits[0].public_id) in second


def test_the_add_funds_page_links_the_deposits_waiting_for_payment(alice_client, alice, configured):
    pending = deposit_for(alice, Method.STRIPE, "33")
    paid = paid_deposit_for(alice, Method.STRIPE, "34")

    page = text(alice_client.get("/funds/"))

    assert f'href="/funds/deposits/{pending.public_id}/"' in page
    assert f'href="/funds/deposits/{paid.public_id}/"' not in page


def test_the_bank_page_shows_the_account_the_memo_code_and_a_qr_code(
    alice_client, alice, configured, vnd_rate
):
    response = alice_client.get("/funds/bank/")

    page = section(text(response), "bank-details")
    assert f'<code id="bank-account">{BANK_ACCOUNT}</code>' in page
    assert f'<code id="memo-code">NAP{alice.pk}</code>' in page
    assert "MB Bank" in page and "RESELLER DEMO" in page
    assert re.search(r'<div class="qr"><svg role="img"', text(response))
    fields = parse_fields(response.context["details"].qr_payload)
    assert "54" not in fields, "no amount: the customer types it"
    memo = f"NAP{alice.pk}"
    assert fields["62"] == f"08{len(memo):02d}{memo}", "the memo is the transfer's purpose"


def test_the_bank_memo_code_uses_the_operators_prefix(alice_client, alice, configured, vnd_rate, settings):
    settings.BANK_MEMO_PREFIX = "TOPUP"

    page = text(alice_client.get("/funds/bank/"))

    assert f'<code id="memo-code">TOPUP{alice.pk}</code>' in page
    assert f"NAP{alice.pk}" not in page
    assert bank_details(user=alice).memo == f"TOPUP{alice.pk}"


def test_the_bank_qr_code_carries_the_amount_asked_for(alice_client, alice, configured, vnd_rate):
    response = alice_client.get("/funds/bank/", {"amount": "100000"})

    assert response.status_code == 200
    fields = parse_fields(response.context["details"].qr_payload)
    assert (fields["54"], fields["53"], fields["58"]) == ("100000", "704", "VN")
    assert f"NAP{alice.pk}" in fields["62"]
    assert fields == parse_fields(bank_details(user=alice, amount=D(100000)).qr_payload)
    assert 'value="100000"' in text(response)


def test_the_bank_page_is_404_when_bank_transfers_are_not_set_up(alice_client, configured):
    assert alice_client.get("/funds/bank/").status_code == 404  # no VND rate


@pytest.mark.parametrize(("debug", "simulator_url"), [(False, "http://127.0.0.1:9/sepay"), (True, "")])
def test_the_transfer_simulator_exists_only_in_the_demo(
    alice_client, alice, configured, vnd_rate, settings, debug, simulator_url
):
    settings.DEBUG, settings.SEPAY_SIMULATOR_URL = debug, simulator_url

    response = alice_client.post("/funds/bank/simulate/", {"amount": "100000"})
    page = text(alice_client.get("/funds/bank/"))

    assert response.status_code == 404
    assert "/funds/bank/simulate/" not in page
    assert wallet_balance(user=alice) == 100


def test_the_transfer_simulator_says_so_when_the_fake_bank_does_not_answer(
    alice_client, alice, configured, vnd_rate, settings
):
    settings.DEBUG = True  # configured points SEPAY_SIMULATOR_URL at a closed port

    assert 'action="/funds/bank/simulate/"' in text(alice_client.get("/funds/bank/"))
    response = alice_client.post("/funds/bank/simulate/", {"amount": "100000"}, follow=True)

    assert response.redirect_chain == [("/transactions/", 302)]
    assert "The fake bank did not answer." in text(response)
    assert wallet_balance(user=alice) == 100
    assert not Deposit.objects.exists()


@pytest.mark.parametrize("url", ["/funds/", "/funds/deposits/", "DEPOSIT", "/funds/bank/", "/transactions/"])
def test_the_money_pages_answer_in_vietnamese(alice_client, alice, configured, vnd_rate, url):
    deposit = paid_deposit_for(alice, Method.STRIPE, "20")
    url = f"/funds/deposits/{deposit.public_id}/" if url == "DEPOSIT" else url

    response = alice_client.get(url, headers={"Accept-Language": "vi"})

    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    page = text(response)
    assert '<html lang="vi"' in page
    assert "Đăng xuất" in page  # "Log out": the header's, translated long ago


def test_pages_ask_anonymous_visitors_to_log_in(client, configured, vnd_rate):
    for url in ("/funds/deposits/", "/funds/bank/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = client.post("/funds/stripe/", {"amount": "20"})
    assert response.status_code == 302 and not Deposit.objects.exists()
