"""payOS's webhook (`POST /payments/payos/webhook/`): a verified payment credits its deposit once, at the rate
snapshotted when the deposit was made; a notification that is not signed with our checksum key, names no
deposit of ours or another amount, or is not JSON, is answered 400 in JSON and changes nothing. Deposits are
made through the funds page against the fake payOS, which also says what it would have POSTed."""

import json
from decimal import Decimal

import pytest

from payments.models import Deposit, DepositHistory, ExchangeRate, Method, Notification
from payments.signatures import payos_signature
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.helpers import balance_of
from tests.payments.conftest import PAYOS_CHECKSUM, payos_body, post_payos

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
HUNDRED = Decimal(100)
RATE = Decimal("0.00004")  # 1 VND in USD: 250,000 VND is 10 USD


@pytest.fixture
def vnd(db):
    return ExchangeRate.objects.create(currency="VND", rate=RATE)


@pytest.fixture
def start(alice_client, gateways, vnd):
    """Makes a payOS deposit through the funds page (a link at the fake payOS); returns it."""

    def make(amount="250000"):
        response = alice_client.post("/funds/payos/", {"amount": amount})
        assert response.status_code == 302, response.content[:500]
        deposit = Deposit.objects.filter(method=Method.PAYOS).order_by("-pk").first()
        assert deposit.order_code and deposit.gateway_id and deposit.status == "pending"
        return deposit

    return make


def pay(gateways, deposit) -> dict:
    """The customer pays the link at the fake: the webhook body it would have sent."""
    delivery = gateways.gateways.payos_pay(deposit.gateway_id)
    return json.loads(delivery["body"])


def assert_ok(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["success"] is True
    return answer


def assert_credited_once(user, deposit, *, value):
    deposit.refresh_from_db()
    assert deposit.status == "paid"
    assert balance_of(user) == HUNDRED + value
    assert list(LedgerEntry.objects.filter(deposit=deposit).values_list("kind", "amount")) == [
        (Kind.DEPOSIT, value)
    ]
    assert ledger_check().ok


def test_a_verified_webhook_credits_once_at_the_rate_snapshotted_with_the_deposit(
    alice, client, gateways, start
):
    deposit = start("250000")
    ExchangeRate.objects.filter(currency="VND").update(rate=Decimal("0.00005"))  # changed afterwards
    body = pay(gateways, deposit)

    assert assert_ok(post_payos(client, body))["outcome"] == "credited"

    assert_credited_once(alice, deposit, value=Decimal("10"))
    assert (deposit.rate, deposit.currency, deposit.amount_paid) == (RATE, "VND", Decimal("250000"))
    assert deposit.gateway_txn_id == str(deposit.order_code)
    (notification,) = Notification.objects.all()
    assert notification.payload == body, "the raw notification is kept"
    assert (notification.method, notification.deposit_id, notification.outcome) == (
        "payos",
        deposit.pk,
        "credited",
    )


def test_the_same_webhook_ten_times_credits_once(alice, client, gateways, start):
    deposit = start("250000")
    body = pay(gateways, deposit)

    outcomes = [assert_ok(post_payos(client, body))["outcome"] for _ in range(10)]

    assert outcomes == ["credited"] + ["duplicate"] * 9
    assert_credited_once(alice, deposit, value=Decimal("10"))
    assert DepositHistory.objects.filter(deposit=deposit, to_status="paid").count() == 1


def test_a_webhook_with_a_field_payos_added_is_accepted_when_signed_with_it(alice, client, gateways, start):
    deposit = start("250000")
    data = pay(gateways, deposit)["data"]
    data["newFieldFromPayos"] = "something"  # the SDK's own verify refuses fields it does not know

    assert assert_ok(post_payos(client, payos_body(data)))["outcome"] == "credited"

    assert_credited_once(alice, deposit, value=Decimal("10"))


def test_a_webhook_whose_code_is_not_00_credits_nothing(alice, client, gateways, start):
    deposit = start("250000")
    data = pay(gateways, deposit)["data"]
    failed = dict(data, code="01", desc="failed")

    assert assert_ok(post_payos(client, payos_body(failed)))["outcome"] == "ignored"

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)
    assert not LedgerEntry.objects.filter(deposit=deposit).exists()
    assert_ok(post_payos(client, payos_body(data)))  # the real payment still credits
    assert_credited_once(alice, deposit, value=Decimal("10"))


def test_a_webhook_saying_it_did_not_succeed_credits_nothing(alice, client, gateways, start):
    deposit = start("250000")
    body = dict(pay(gateways, deposit), success=False)

    assert assert_ok(post_payos(client, body))["outcome"] == "ignored"

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)


def test_the_customer_back_before_the_webhook_is_credited_once_by_asking_payos(
    alice, alice_client, client, gateways, start
):
    deposit = start("250000")
    page = f"/funds/deposits/{deposit.public_id}/?back=1"
    assert alice_client.get(page).status_code == 200  # back before paying: still pending
    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)

    body = pay(gateways, deposit)  # its webhook went nowhere
    assert alice_client.get(page).status_code == 200

    assert_credited_once(alice, deposit, value=Decimal("10"))
    assert assert_ok(post_payos(client, body))["outcome"] == "duplicate"
    assert alice_client.get(page).status_code == 200
    assert_credited_once(alice, deposit, value=Decimal("10"))


def test_the_customer_back_after_canceling_at_payos_closes_the_deposit(alice, alice_client, gateways, start):
    deposit = start("250000")
    gateways.gateways.payos_cancel(deposit.gateway_id)

    assert alice_client.get(f"/funds/deposits/{deposit.public_id}/?back=1").status_code == 200

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("canceled", HUNDRED)


# Refused: 400 in JSON, nothing changed


def _bad_signature(body):
    return dict(body, signature="0" * 64)


def _no_signature(body):
    return {name: value for name, value in body.items() if name != "signature"}


def _signature_not_a_string(body):
    return dict(body, signature=12345)


def _signed_with_another_key(body):
    return payos_body(body["data"], key="someone-else")


def _tampered_amount(body):
    return dict(body, data=dict(body["data"], amount=body["data"]["amount"] * 10))


def _signature_of_other_data(body):
    other = dict(body["data"], reference="FT-OTHER", amount=1000)
    return dict(body, signature=payos_signature(other, PAYOS_CHECKSUM))


def _unknown_order_code(body):
    return payos_body(dict(body["data"], orderCode=body["data"]["orderCode"] + 1))


def _order_code_not_an_integer(body):
    return payos_body(dict(body["data"], orderCode=str(body["data"]["orderCode"])))


def _amount_mismatch(body):
    return payos_body(dict(body["data"], amount=body["data"]["amount"] - 1000))


def _amount_not_a_number(body):
    return payos_body(dict(body["data"], amount="a lot"))


def _malformed_json(body):
    return json.dumps(body)[:-5]


def _not_utf8(body):
    return b'{"data": "\xff\xfe"}'


def _a_list(body):
    return json.dumps([body])


def _data_a_list(body):
    return dict(body, data=[body["data"]])


def _data_a_string(body):
    return dict(body, data=json.dumps(body["data"]))


def _no_data(body):
    return {name: value for name, value in body.items() if name != "data"}


REFUSED = [
    _bad_signature,
    _no_signature,
    _signature_not_a_string,
    _signed_with_another_key,
    _tampered_amount,
    _signature_of_other_data,
    _unknown_order_code,
    _order_code_not_an_integer,
    _amount_mismatch,
    _amount_not_a_number,
    _malformed_json,
    _not_utf8,
    _a_list,
    _data_a_list,
    _data_a_string,
    _no_data,
]


@pytest.mark.parametrize("make", REFUSED, ids=[make.__name__.strip("_") for make in REFUSED])
def test_a_refused_webhook_is_answered_400_in_json_and_changes_nothing(alice, client, gateways, start, make):
    deposit = start("250000")
    body = pay(gateways, deposit)
    before = Deposit.objects.filter(pk=deposit.pk).values().get()

    response = post_payos(client, make(body))

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"} and response.json()["error"]
    assert PAYOS_CHECKSUM not in response.content.decode()
    assert balance_of(alice) == HUNDRED
    assert not Notification.objects.exists()
    assert Deposit.objects.filter(pk=deposit.pk).values().get() == before
    assert not DepositHistory.objects.exists()
    assert_ok(post_payos(client, body))  # the genuine notification still credits afterwards
    assert_credited_once(alice, deposit, value=Decimal("10"))


def test_the_deposit_page_shows_the_vietqr_code_while_pending_and_not_once_paid(
    alice_client, client, gateways, start
):
    deposit = start("250000")
    page = f"/funds/deposits/{deposit.public_id}/"

    assert b"<svg" in alice_client.get(page).content
    assert_ok(post_payos(client, pay(gateways, deposit)))
    assert b"<svg" not in alice_client.get(page).content
