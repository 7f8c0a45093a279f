"""What a review of the payments found, kept as tests: a payment landing while its deposit expires, Stripe's
own minor units, memos that say an amount rather than a customer, hostile or odd notification bodies, fees
that eat a transfer, a transfer set aside by mistake, a panel priced in VND."""

from decimal import Decimal

import pytest
from django.urls import reverse

from payments import credit
from payments.amounts import deposit_quote
from payments.bank import bank_transfer_ignore, bank_transfer_restore
from payments.credit import deposit_create
from payments.expiry import deposits_expire
from payments.methods import method_config
from payments.models import BankTransfer, Deposit, ExchangeRate, Method, PaymentMethod
from payments.stripe_checkout import from_minor, to_minor
from reseller.wallet.selectors import ledger_check
from tests.factories import StaffFactory
from tests.helpers import balance_of
from tests.payments.conftest import (
    payos_body,
    post_payos,
    post_sepay,
    post_stripe,
    sepay_body,
    stripe_event,
)

pytestmark = pytest.mark.django_db
HUNDRED = Decimal(100)


@pytest.fixture
def vnd_rate(db):
    return ExchangeRate.objects.create(currency="VND", rate=Decimal("0.00004"))


def stripe_deposit(user, amount="25", *, session_id="cs_edge_1") -> Deposit:
    quote = deposit_quote(config=method_config(Method.STRIPE), amount=Decimal(amount), currency="USD")
    return deposit_create(user=user, method=Method.STRIPE, quote=quote, gateway_id=session_id)


def completed(deposit, *, payment_intent="pi_edge_1"):
    return stripe_event(
        "checkout.session.completed",
        {
            "id": deposit.gateway_id,
            "object": "checkout.session",
            "client_reference_id": str(deposit.public_id),
            "metadata": {"deposit": str(deposit.public_id)},
            "amount_total": int(deposit.amount * 100),
            "currency": "usd",
            "payment_status": "paid",
            "payment_intent": payment_intent,
        },
    )


def test_a_payment_landing_while_the_expiry_sweep_closes_its_deposit_is_still_credited(
    alice, client, configured, settings, monkeypatch
):
    """The webhook read the deposit as pending; the sweep closes it before the move to paid. The move sees
    it lost the race, reads the status again (expired) and moves on from there: paid, credited."""
    deposit = stripe_deposit(alice)
    settings.DEPOSIT_EXPIRE_AFTER = 0
    real_move = credit.deposit_move
    swept = []

    def sweep_first(**kwargs):
        if kwargs["to"] == "paid" and not swept:
            swept.append(deposits_expire())
        return real_move(**kwargs)

    monkeypatch.setattr(credit, "deposit_move", sweep_first)

    response = post_stripe(client, completed(deposit))

    assert swept == [1]
    deposit.refresh_from_db()
    assert (response.status_code, response.json()["outcome"]) == (200, "credited")
    assert (deposit.status, balance_of(alice)) == ("paid", HUNDRED + 25)
    assert list(deposit.history.values_list("from_status", "to_status")) == [
        ("pending", "expired"),
        ("expired", "paid"),
    ]
    assert ledger_check().ok


@pytest.mark.parametrize(
    "currency,amount,minor",
    [
        ("USD", "12.34", 1234),
        ("IDR", "150000", 15000000),  # two decimals at Stripe, none on our pages
        ("KWD", "10", 10000),  # three decimals
        ("XPF", "1000", 1000),  # no decimals
        ("VND", "250000", 250000),
    ],
)
def test_stripe_amounts_are_in_stripes_own_minor_units(currency, amount, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency.lower()) == Decimal(amount)


def test_an_amount_that_is_not_whole_minor_units_is_refused():
    with pytest.raises(ValueError):
        to_minor(Decimal("10.5"), "JPY")


@pytest.mark.parametrize("memo", ["CT DEN:123 NAP {pk} TRIEU tai khoan", "nap {pk}tr", "NAP {pk}K"])
def test_a_memo_saying_how_much_to_top_up_is_not_read_as_a_customer(
    alice, client, configured, vnd_rate, memo
):
    body = sepay_body(sepay_id=7101, amount=2000000, content=memo.format(pk=alice.pk))

    assert post_sepay(client, body).json()["outcome"] == "waiting"

    assert BankTransfer.objects.get().status == "waiting"
    assert balance_of(alice) == HUNDRED


@pytest.mark.parametrize(
    "field,value",
    [
        ("id", 10**20),  # beyond the column
        ("id", 12.7),
        ("id", "12a"),
        ("transferAmount", "1e30"),
        ("transferAmount", 10**16),
        ("transferAmount", 2.5),
        ("transferAmount", "NaN"),
    ],
)
def test_a_sepay_body_with_numbers_out_of_bounds_is_refused_and_records_nothing(
    alice, client, configured, vnd_rate, field, value
):
    body = {**sepay_body(sepay_id=7102, amount=250000, content=f"NAP{alice.pk}"), field: value}

    response = post_sepay(client, body)

    assert (response.status_code, response.json()) == (400, {"error": "malformed body"})
    assert not BankTransfer.objects.exists()
    assert balance_of(alice) == HUNDRED


def test_a_sepay_amount_sent_as_digits_is_credited(alice, client, configured, vnd_rate):
    body = {**sepay_body(sepay_id=7103, amount=0, content=f"NAP{alice.pk}"), "transferAmount": "250000"}

    assert post_sepay(client, body).json()["outcome"] == "credited"

    assert balance_of(alice) == HUNDRED + 10


def test_a_transfer_whose_credit_fails_is_not_kept_so_sepays_retry_credits_it(
    alice, client, configured, vnd_rate, monkeypatch
):
    body = sepay_body(sepay_id=7104, amount=250000, content=f"NAP{alice.pk}")
    # The credit failing half-way (the database going away mid-transaction) cannot be caused on demand
    # here: the wallet write is made to raise instead.
    real = credit.wallet_moves
    monkeypatch.setattr(credit, "wallet_moves", lambda **kw: (_ for _ in ()).throw(RuntimeError("db down")))

    assert post_sepay(client, body).status_code == 500
    assert not BankTransfer.objects.exists()

    monkeypatch.setattr(credit, "wallet_moves", real)
    assert post_sepay(client, body).json()["outcome"] == "credited"
    assert balance_of(alice) == HUNDRED + 10


def test_a_transfer_that_does_not_cover_the_fee_waits_for_an_operator(alice, client, configured, vnd_rate):
    PaymentMethod.objects.create(method=Method.BANK, fee_fixed=Decimal("1"))
    body = sepay_body(sepay_id=7105, amount=20000, content=f"NAP{alice.pk}")  # 0.80 USD, fee 1 USD

    assert post_sepay(client, body).json()["outcome"] == "waiting"

    assert not Deposit.objects.exists()
    assert balance_of(alice) == HUNDRED


def test_a_transfer_set_aside_by_mistake_goes_back_in_the_queue_and_can_be_assigned(
    alice, client, configured, vnd_rate
):
    post_sepay(client, sepay_body(sepay_id=7106, amount=250000, content="chuyen tien"))
    transfer = BankTransfer.objects.get()
    assert bank_transfer_ignore(transfer=transfer)
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)

    client.post(
        reverse("admin:payments_banktransfer_changelist"),
        {"action": "restore", "_selected_action": [transfer.pk]},
    )
    client.post(
        reverse("admin:payments_banktransfer_assign", args=[transfer.pk]), {"customer": alice.username}
    )

    transfer.refresh_from_db()
    assert (transfer.status, transfer.deposit.user) == ("credited", alice)
    assert balance_of(alice) == HUNDRED + 10
    assert not bank_transfer_restore(transfer=transfer)  # a credited transfer stays credited


@pytest.mark.parametrize("amount", ["NaN", 1e30, 10**16, "250000", 250000.5, True])
def test_a_payos_amount_that_is_not_whole_vnd_is_refused(alice, client, configured, vnd_rate, amount):
    quote = deposit_quote(config=method_config(Method.PAYOS), amount=Decimal(250000), currency="VND")
    deposit = deposit_create(user=alice, method=Method.PAYOS, quote=quote, order_code=123456789012)
    data = {"orderCode": deposit.order_code, "amount": amount, "code": "00", "desc": "success"}

    response = post_payos(client, payos_body(data))

    assert (response.status_code, response.json()) == (400, {"error": "malformed body"})
    assert balance_of(alice) == HUNDRED


@pytest.mark.parametrize(
    "change",
    [
        {"metadata": ["not", "a", "dict"], "client_reference_id": None, "id": "cs_someone_else"},
        {"id": 5, "client_reference_id": None, "metadata": None},
        {"currency": 12},
        {"amount_total": "2500"},
    ],
)
def test_a_stripe_session_with_odd_fields_is_refused_not_a_server_error(alice, client, configured, change):
    deposit = stripe_deposit(alice)
    event = completed(deposit)
    event["data"]["object"].update(change)

    response = post_stripe(client, event)

    assert response.status_code == 400, response.content
    assert balance_of(alice) == HUNDRED


def test_a_panel_priced_in_vnd_credits_whole_dong(settings):
    settings.PANEL_CURRENCY = "VND"
    settings.ZERO_DECIMAL_CURRENCIES = {"VND"}
    ExchangeRate.objects.create(currency="USD", rate=Decimal("25432.5"))
    PaymentMethod.objects.create(method=Method.STRIPE, fee_percent=Decimal("2.9"))

    quote = deposit_quote(config=method_config(Method.STRIPE), amount=Decimal("1.99"), currency="USD")

    assert (quote.value, quote.fee, quote.credited) == (Decimal(50610), Decimal(1468), Decimal(49142))
