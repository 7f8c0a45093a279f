"""SePay's webhook (`POST /payments/sepay/webhook/`, `Authorization: Apikey <key>`): a transfer whose memo
names one customer (`NAP<id>`, however the bank reformatted it) credits them once per SePay id; any other
incoming transfer waits for an operator; outgoing ones are ignored. A bad key is answered 401 and a body
that cannot be read 400, recording nothing."""

import json
from decimal import Decimal

import pytest

from payments.bank import bank_transfer_credit
from payments.models import BankTransfer, Deposit, ExchangeRate, Notification
from payments.signatures import stripe_signature_header
from reseller.money import format_money
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.factories import StaffFactory
from tests.helpers import balance_of
from tests.payments.conftest import SEPAY_KEY, post_sepay, sepay_body

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
HUNDRED = Decimal(100)
WEBHOOK = "/payments/sepay/webhook/"


@pytest.fixture(autouse=True)
def vnd(db, configured):
    """Bank transfers are in VND: 1 VND = 0.00004 USD, so 250,000 VND is 10 USD."""
    return ExchangeRate.objects.create(currency="VND", rate=Decimal("0.00004"))


def assert_success(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["success"] is True
    return answer


def bank_deposits(user):
    return Deposit.objects.filter(user=user, method="bank")


def assert_credited_once(user, *, sepay_id, value=Decimal("10"), before=HUNDRED):
    (deposit,) = bank_deposits(user)
    transfer = BankTransfer.objects.get(sepay_id=sepay_id)
    assert (transfer.status, transfer.deposit_id) == ("credited", deposit.pk)
    assert (deposit.status, deposit.gateway_id, deposit.amount, deposit.currency) == (
        "paid",
        str(sepay_id),
        Decimal("250000"),
        "VND",
    )
    assert balance_of(user) == before + value
    assert list(LedgerEntry.objects.filter(deposit=deposit).values_list("kind", "amount")) == [
        (Kind.DEPOSIT, value)
    ]
    assert ledger_check().ok


@pytest.mark.parametrize(
    "memo",
    [
        "NAP{pk}",
        "nap{pk}",
        "NAP-{pk}",
        "Nap_{pk}",
        "NAP.{pk}",
        "xyzNAP{pk}.CT",
        "MBVCB.3278.NAP{pk}.CT tu 0123 NGUYEN VAN A",
        "CT tu 0123 NGUYEN VAN A toi NAP{pk} FT24123",
        "NAP{pk} nap{pk}",  # the same code twice is still one customer
    ],
)
def test_a_transfer_with_the_memo_code_credits_the_customer(alice, client, memo):
    body = sepay_body(sepay_id=7001, amount=250000, content=memo.format(pk=alice.pk))

    assert assert_success(post_sepay(client, body))["outcome"] == "credited"

    assert_credited_once(alice, sepay_id=7001)
    (notification,) = Notification.objects.all()
    assert (notification.method, notification.event_id, notification.payload) == ("bank", "7001", body)


def test_the_same_transfer_ten_times_credits_once(alice, client):
    body = sepay_body(sepay_id=7002, amount=250000, content=f"nap{alice.pk}")

    answers = [assert_success(post_sepay(client, body)) for _ in range(10)]

    assert [answer["outcome"] for answer in answers] == ["credited"] + ["duplicate"] * 9
    assert_credited_once(alice, sepay_id=7002)
    assert BankTransfer.objects.count() == 1


def test_two_transfers_with_the_same_memo_credit_twice(alice, client):
    for sepay_id in (7003, 7004):
        assert_success(
            post_sepay(client, sepay_body(sepay_id=sepay_id, amount=250000, content=f"NAP{alice.pk}"))
        )

    assert balance_of(alice) == Decimal("120")
    assert bank_deposits(alice).filter(status="paid").count() == 2
    assert ledger_check().ok


def assert_waiting(sepay_id, *, users):
    transfer = BankTransfer.objects.get(sepay_id=sepay_id)
    assert (transfer.status, transfer.deposit_id) == ("waiting", None)
    for user in users:
        assert balance_of(user) == HUNDRED
    assert not Deposit.objects.exists()
    assert Notification.objects.get().outcome == "waiting"
    return transfer


def test_a_longer_number_is_another_customer(alice, client):
    body = sepay_body(sepay_id=7005, amount=250000, content=f"NAP{alice.pk}3")  # NAP123 is not NAP12

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"

    assert_waiting(7005, users=[alice])


@pytest.mark.parametrize(
    "memo",
    [
        "NAP {pk} TRIEU",  # "top up {pk} million": an amount, not a code
        "nap {pk}",
        "NAP: {pk}",
        "NAP{pk}TR",
        "NAP{pk}K",
    ],
)
def test_a_number_that_is_not_one_word_with_the_prefix_waits_for_an_operator(alice, client, memo):
    body = sepay_body(sepay_id=7010, amount=250000, content=memo.format(pk=alice.pk))

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"

    assert_waiting(7010, users=[alice])


def test_a_staff_members_code_is_never_credited_automatically(client):
    staff = StaffFactory()
    body = sepay_body(sepay_id=7011, amount=250000, content=f"NAP{staff.pk}")

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"

    assert BankTransfer.objects.get(sepay_id=7011).status == "waiting"
    assert balance_of(staff) == 0
    assert not Deposit.objects.exists()


def test_a_transfer_naming_two_customers_waits_for_an_operator(alice, charlie, client):
    body = sepay_body(sepay_id=7006, amount=250000, content=f"NAP{alice.pk} NAP{charlie.pk}")

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"

    assert_waiting(7006, users=[alice, charlie])


def test_a_transfer_without_a_code_waits_and_an_operator_assigns_it_once(alice, client):
    body = sepay_body(sepay_id=7007, amount=250000, content="chuyen tien")

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"
    transfer = assert_waiting(7007, users=[alice])
    assert_success(post_sepay(client, body))  # SePay's retry does not credit it either
    assert balance_of(alice) == HUNDRED

    staff = StaffFactory()
    deposit = bank_transfer_credit(transfer=transfer, user=alice, assigned_by=staff)
    again = bank_transfer_credit(
        transfer=BankTransfer.objects.get(pk=transfer.pk), user=alice, assigned_by=staff
    )

    assert deposit is not None and again is None
    assert_credited_once(alice, sepay_id=7007)
    assert BankTransfer.objects.get(pk=transfer.pk).assigned_by == staff


def test_a_transfer_naming_an_unknown_customer_waits(alice, client):
    body = sepay_body(sepay_id=7008, amount=250000, content="NAP999999")

    assert assert_success(post_sepay(client, body))["outcome"] == "waiting"

    assert_waiting(7008, users=[alice])


def test_a_transfer_naming_a_deactivated_customer_waits(alice, client):
    alice.is_active = False
    alice.save()

    assert_success(post_sepay(client, sepay_body(sepay_id=7009, amount=250000, content=f"NAP{alice.pk}")))

    assert_waiting(7009, users=[alice])


def test_a_matched_transfer_waits_while_no_exchange_rate_is_set(alice, client, vnd):
    vnd.delete()

    assert_success(post_sepay(client, sepay_body(sepay_id=7010, amount=250000, content=f"NAP{alice.pk}")))

    assert BankTransfer.objects.get(sepay_id=7010).status == "waiting"
    assert balance_of(alice) == HUNDRED


def test_an_outgoing_transfer_is_ignored(alice, client):
    body = sepay_body(sepay_id=7011, amount=250000, content=f"NAP{alice.pk}", transfer_type="out")

    assert assert_success(post_sepay(client, body))["outcome"] == "ignored"

    assert balance_of(alice) == HUNDRED
    assert not BankTransfer.objects.exists() and not Deposit.objects.exists()


# Refused


def _assert_nothing_recorded(alice):
    assert balance_of(alice) == HUNDRED
    assert not BankTransfer.objects.exists()
    assert not Notification.objects.exists()
    assert not Deposit.objects.exists()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        f"Bearer {SEPAY_KEY}",
        f"Basic {SEPAY_KEY}",
        SEPAY_KEY,
        "Apikey",
        "Apikey ",
        "Apikey wrong-key",
        f"Apikey {SEPAY_KEY[:-1]}",  # a prefix of the key
        f"Apikey {SEPAY_KEY[:1]}",
        f"Apikey {SEPAY_KEY}x",
        f"Apikey {SEPAY_KEY.upper()}",
        f"ApikeyX {SEPAY_KEY}",
        stripe_signature_header("{}", SEPAY_KEY),
    ],
)
def test_a_transfer_without_the_right_key_is_answered_401_and_records_nothing(alice, client, authorization):
    body = json.dumps(sepay_body(sepay_id=7020, amount=250000, content=f"NAP{alice.pk}"))
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.post(WEBHOOK, body, content_type="application/json", headers=headers)

    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    assert SEPAY_KEY not in response.content.decode()
    _assert_nothing_recorded(alice)


@pytest.mark.parametrize(
    "authorization", [f"Apikey {SEPAY_KEY}", f"apikey {SEPAY_KEY}", f"  APIKEY  {SEPAY_KEY} "]
)
def test_the_key_scheme_is_read_whatever_its_case_and_spaces(alice, client, authorization):
    body = json.dumps(sepay_body(sepay_id=7021, amount=250000, content=f"NAP{alice.pk}"))

    assert_success(
        client.post(WEBHOOK, body, content_type="application/json", headers={"Authorization": authorization})
    )

    assert_credited_once(alice, sepay_id=7021)


def _without(name):
    def make(alice):
        body = sepay_body(sepay_id=7030, amount=250000, content=f"NAP{alice.pk}")
        del body[name]
        return json.dumps(body)

    make.__name__ = f"without_{name}"
    return make


def _with(name, value):
    def make(alice):
        return json.dumps(
            dict(sepay_body(sepay_id=7030, amount=250000, content=f"NAP{alice.pk}"), **{name: value})
        )

    make.__name__ = f"{name}_{value}"
    return make


def _text(text):
    def make(alice):
        return text

    make.__name__ = f"body_{text[:12]}"
    return make


MALFORMED = [
    _text('{"id": 7030, "transferAmount": '),
    _text("not json"),
    _text("[]"),
    _text('"a string"'),
    _without("id"),
    _without("transferAmount"),
    _with("id", "seven"),
    _with("id", None),
    _with("id", True),
    _with("id", 0),
    _with("id", -5),
    _with("transferAmount", "a lot"),
    _with("transferAmount", None),
    _with("transferAmount", "NaN"),
    _with("transferAmount", "Infinity"),
    _with("transferAmount", -250000),
]


@pytest.mark.parametrize("make", MALFORMED, ids=[make.__name__ for make in MALFORMED])
def test_a_body_that_cannot_be_read_is_answered_400_and_records_nothing(alice, client, make):
    response = post_sepay(client, make(alice))

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}
    _assert_nothing_recorded(alice)


def test_the_bank_page_shows_the_customers_memo_code_and_a_qr_that_pays_with_it(alice, alice_client):
    response = alice_client.get("/funds/bank/")

    assert response.status_code == 200
    assert f'<code id="memo-code">NAP{alice.pk}</code>'.encode() in response.content
    assert b"<svg" in response.content


def test_a_credited_transfer_shows_in_the_customers_transactions(alice, alice_client, client):
    assert alice_client.get("/transactions/").content.count(b'class="kind-deposit"') == 1  # the test funds

    assert_success(post_sepay(client, sepay_body(sepay_id=7040, amount=250000, content=f"NAP{alice.pk}")))

    response = alice_client.get("/transactions/")
    assert response.status_code == 200
    assert response.content.count(b'class="kind-deposit"') == 2
    assert f"+{format_money(Decimal('10'))}".encode() in response.content
