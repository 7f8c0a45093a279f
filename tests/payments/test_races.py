"""Notifications racing each other against a real PostgreSQL: threads, each with its own connection and its
own test client, released at once (tests/helpers.run_together). Being released at once is not enough to make
them meet, so each race also holds every thread in front of the guard under test (`meet_before`): all have
read the deposit as pending (or the transfer as unknown, or waiting) before any writes, and only the guard
(a conditional update, a unique constraint) keeps the money from being credited twice."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from payments import bank, credit
from payments.bank import bank_transfer_credit
from payments.models import BankTransfer, Deposit, DepositHistory, ExchangeRate, Method, Notification
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.factories import StaffFactory
from tests.helpers import balance_of, meet_before, run_together
from tests.payments.conftest import post_payos, post_sepay, sepay_body

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]
Kind = LedgerEntry.Kind
HUNDRED = Decimal(100)
COUNT = 10


def paying(count, monkeypatch):
    """Holds `count` threads before the deposit's move to paid (deposit_credit's compare-and-swap)."""
    held = meet_before(count, credit.deposit_move, when=lambda **kwargs: kwargs["to"] == "paid")
    monkeypatch.setattr(credit, "deposit_move", held)


def statuses(responses):
    return [getattr(response, "status_code", response) for response in responses]


def outcomes(responses):
    return sorted(response.json()["outcome"] for response in responses)


def assert_credited_once(user, deposit, value):
    deposit.refresh_from_db()
    assert deposit.status == "paid"
    assert balance_of(user) == HUNDRED + value
    assert list(LedgerEntry.objects.filter(deposit=deposit).values_list("kind", "amount")) == [
        (Kind.DEPOSIT, value)
    ]
    assert DepositHistory.objects.filter(deposit=deposit, to_status="paid").count() == 1
    assert ledger_check().ok


@pytest.fixture
def vnd(db):
    return ExchangeRate.objects.create(currency="VND", rate=Decimal("0.00004"))


def card_deposit(alice_client, gateways, amount="25"):
    """A card deposit made through the funds page and paid at the fake Stripe (whose webhook went nowhere):
    the deposit and the webhook delivery the fake would have made."""
    response = alice_client.post("/funds/stripe/", {"amount": amount})
    assert response.status_code == 302, response.content[:500]
    deposit = Deposit.objects.get(method=Method.STRIPE)
    gateways.gateways.stripe_pay(deposit.gateway_id)
    return deposit, gateways.gateways.deliveries[-1]


def post_delivery(delivery):
    return Client().post(
        "/payments/stripe/webhook/",
        delivery["body"],
        content_type="application/json",
        headers={"Stripe-Signature": delivery["headers"]["Stripe-Signature"]},
    )


def test_the_same_stripe_event_ten_times_at_once_credits_once(alice, alice_client, gateways, monkeypatch):
    deposit, delivery = card_deposit(alice_client, gateways)
    paying(COUNT, monkeypatch)

    responses = run_together(COUNT, lambda i: post_delivery(delivery))

    assert statuses(responses) == [200] * COUNT
    assert outcomes(responses) == ["credited"] + ["duplicate"] * (COUNT - 1)
    assert_credited_once(alice, deposit, Decimal("25"))
    assert Notification.objects.filter(deposit=deposit).count() == COUNT


def test_a_stripe_webhook_and_the_customer_back_from_checkout_at_once_credit_once(
    alice, alice_client, gateways, monkeypatch
):
    deposit, delivery = card_deposit(alice_client, gateways)
    page = f"/funds/deposits/{deposit.public_id}/?back=1"
    paying(2, monkeypatch)

    responses = run_together(2, lambda i: post_delivery(delivery) if i == 0 else alice_client.get(page))

    assert statuses(responses) == [200, 200]
    assert_credited_once(alice, deposit, Decimal("25"))


def test_the_same_payos_webhook_ten_times_at_once_credits_once(
    alice, alice_client, gateways, vnd, monkeypatch
):
    response = alice_client.post("/funds/payos/", {"amount": "250000"})
    assert response.status_code == 302, response.content[:500]
    deposit = Deposit.objects.get(method=Method.PAYOS)
    body = json.loads(gateways.gateways.payos_pay(deposit.gateway_id)["body"])
    paying(COUNT, monkeypatch)

    responses = run_together(COUNT, lambda i: post_payos(Client(), body))

    assert statuses(responses) == [200] * COUNT
    assert outcomes(responses) == ["credited"] + ["duplicate"] * (COUNT - 1)
    assert_credited_once(alice, deposit, Decimal("10"))


def test_the_same_sepay_transfer_ten_times_at_once_credits_once(alice, configured, vnd, monkeypatch):
    body = sepay_body(sepay_id=8001, amount=250000, content=f"MBVCB.123.nap{alice.pk}.FT123")
    monkeypatch.setattr(bank, "_record", meet_before(COUNT, bank._record))  # none has recorded it yet

    responses = run_together(COUNT, lambda i: post_sepay(Client(), body))

    assert statuses(responses) == [200] * COUNT
    assert all(response.json()["success"] is True for response in responses)
    assert outcomes(responses) == ["credited"] + ["duplicate"] * (COUNT - 1)
    transfer = BankTransfer.objects.get()
    assert transfer.status == "credited"
    assert_credited_once(alice, transfer.deposit, Decimal("10"))


def test_two_operators_assigning_the_same_waiting_transfer_at_once_credit_it_once(
    alice, client, configured, vnd, monkeypatch
):
    post_sepay(client, sepay_body(sepay_id=8002, amount=250000, content="no code"))
    transfer = BankTransfer.objects.get()
    assert transfer.status == "waiting"
    operators = [StaffFactory(), StaffFactory()]
    held = meet_before(2, bank.bank_transfer_move, when=lambda **kwargs: kwargs["to"] == "credited")
    monkeypatch.setattr(bank, "bank_transfer_move", held)

    results = run_together(
        2,
        lambda i: bank_transfer_credit(
            transfer=BankTransfer.objects.get(pk=transfer.pk), user=alice, assigned_by=operators[i]
        ),
    )

    deposits = [result for result in results if isinstance(result, Deposit)]
    assert len(deposits) == 1 and results.count(None) == 1, results
    transfer.refresh_from_db()
    assert (transfer.status, transfer.deposit_id) == ("credited", deposits[0].pk)
    assert transfer.assigned_by_id in {operator.pk for operator in operators}
    assert Deposit.objects.count() == 1
    assert_credited_once(alice, deposits[0], Decimal("10"))
