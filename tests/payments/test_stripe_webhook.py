"""Stripe's webhook (`POST /payments/stripe/webhook/`): a paid checkout session credits its deposit exactly
once, whatever the number and order of events and of the customer's returns from checkout; an expired
session closes it; refunds and disputes take back (or give back) the right share; anything unsigned,
stale, malformed or not matching a deposit is answered 400 in JSON and changes nothing."""

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.core import mail

from orders.errors import OrderError
from orders.placement import order_place
from payments.amounts import deposit_quote
from payments.credit import deposit_create
from payments.methods import method_config
from payments.models import BonusTier, Deposit, DepositHistory, Method, Notification
from payments.signatures import stripe_signature_header
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import ledger_check, wallet_owed
from reseller.wallet.services import wallet_credit
from tests.factories import ServiceFactory, StaffFactory
from tests.helpers import LINK, balance_of
from tests.payments.conftest import STRIPE_SECRET, post_stripe, stripe_event

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind
WEBHOOK = "/payments/stripe/webhook/"
HUNDRED = Decimal(100)


def stripe_deposit(user, amount="25", *, session_id="cs_test_1") -> Deposit:
    """A pending card deposit, as the funds page makes it (without asking a gateway)."""
    quote = deposit_quote(config=method_config(Method.STRIPE), amount=Decimal(amount), currency="USD")
    return deposit_create(user=user, method=Method.STRIPE, quote=quote, gateway_id=session_id)


def session_of(deposit, *, payment_status="paid", amount_total=None, payment_intent="pi_test_1") -> dict:
    """The checkout session of a deposit, as Stripe's events carry it."""
    return {
        "id": deposit.gateway_id,
        "object": "checkout.session",
        "client_reference_id": str(deposit.public_id),
        "metadata": {"deposit": str(deposit.public_id), "user": str(deposit.user_id)},
        "amount_total": int(deposit.amount * 100) if amount_total is None else amount_total,
        "currency": "usd",
        "mode": "payment",
        "status": "complete" if payment_status == "paid" else "open",
        "payment_status": payment_status,
        "payment_intent": payment_intent,
    }


def completed(deposit, **session) -> dict:
    return stripe_event("checkout.session.completed", session_of(deposit, **session))


def deposit_rows(deposit, kind=Kind.DEPOSIT):
    return list(LedgerEntry.objects.filter(deposit=deposit, kind=kind).values_list("amount", flat=True))


def assert_credited_once(user, deposit, *, before=HUNDRED):
    deposit.refresh_from_db()
    assert deposit.status == "paid"
    assert balance_of(user) == before + deposit.total
    assert deposit_rows(deposit) == [deposit.credited]
    assert LedgerEntry.objects.filter(deposit=deposit).count() == (2 if deposit.bonus else 1)
    assert ledger_check().ok


def assert_json_ok(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


# Credited once


def test_a_paid_completed_event_credits_the_deposit_once_and_keeps_the_notification(
    alice, client, configured
):
    deposit = stripe_deposit(alice, "25")
    event = completed(deposit)

    answer = assert_json_ok(post_stripe(client, event))

    assert answer == {"received": True, "outcome": "credited"}
    assert_credited_once(alice, deposit)
    assert balance_of(alice) == Decimal("125")
    entry = LedgerEntry.objects.get(deposit=deposit)
    assert (entry.kind, entry.user_id, entry.amount) == (Kind.DEPOSIT, alice.pk, Decimal("25"))
    assert (deposit.gateway_txn_id, deposit.amount_paid) == ("pi_test_1", Decimal("25"))
    assert deposit.paid_at is not None
    (notification,) = Notification.objects.all()
    assert notification.payload == event, "the raw event is kept"
    assert (notification.method, notification.deposit_id, notification.outcome) == (
        "stripe",
        deposit.pk,
        "credited",
    )
    assert (notification.event_id, notification.event_type) == ("evt_test_1", "checkout.session.completed")


def test_the_same_event_ten_times_credits_once(alice, client, configured):
    deposit = stripe_deposit(alice, "25")
    event = completed(deposit)

    outcomes = [assert_json_ok(post_stripe(client, event))["outcome"] for _ in range(10)]

    assert outcomes == ["credited"] + ["duplicate"] * 9
    assert_credited_once(alice, deposit)
    assert Notification.objects.filter(deposit=deposit).count() == 10
    assert DepositHistory.objects.filter(deposit=deposit, to_status="paid").count() == 1


def test_async_payment_succeeded_after_completed_still_credits_once(alice, client, configured):
    deposit = stripe_deposit(alice, "25")

    assert_json_ok(post_stripe(client, completed(deposit)))
    later = stripe_event("checkout.session.async_payment_succeeded", session_of(deposit), event_id="evt_2")
    assert assert_json_ok(post_stripe(client, later))["outcome"] == "duplicate"

    assert_credited_once(alice, deposit)


def test_an_unpaid_completed_event_waits_and_async_payment_succeeded_credits_once(alice, client, configured):
    deposit = stripe_deposit(alice, "25")

    unpaid = completed(deposit, payment_status="unpaid")
    assert assert_json_ok(post_stripe(client, unpaid))["outcome"] == "ignored"
    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)

    succeeded = stripe_event(
        "checkout.session.async_payment_succeeded", session_of(deposit), event_id="evt_2"
    )
    for _ in range(3):
        assert_json_ok(post_stripe(client, succeeded))

    assert_credited_once(alice, deposit)


def test_a_failed_async_payment_cancels_the_deposit_without_credit(alice, client, configured):
    deposit = stripe_deposit(alice, "25")
    failed = stripe_event(
        "checkout.session.async_payment_failed", session_of(deposit, payment_status="unpaid")
    )

    assert assert_json_ok(post_stripe(client, failed))["outcome"] == "closed"

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("canceled", HUNDRED)
    assert ledger_check().ok


def test_an_event_of_a_type_it_does_not_handle_is_answered_200_and_changes_nothing(alice, client, configured):
    deposit = stripe_deposit(alice, "25")

    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert assert_json_ok(post_stripe(client, event))["outcome"] == "ignored"

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)


def test_a_bonus_tier_credits_the_bonus_as_its_own_row_once(alice, client, configured):
    BonusTier.objects.create(min_amount=Decimal("20"), percent=Decimal("10"))
    deposit = stripe_deposit(alice, "25")

    for _ in range(3):
        assert_json_ok(post_stripe(client, completed(deposit)))

    assert_credited_once(alice, deposit)
    assert deposit_rows(deposit, Kind.BONUS) == [Decimal("2.5")]
    assert balance_of(alice) == Decimal("127.5")


# The customer back from checkout and the webhook, in either order


def start_card_deposit(alice_client, amount="25") -> Deposit:
    response = alice_client.post("/funds/stripe/", {"amount": amount})
    assert response.status_code == 302, response.content[:500]
    deposit = Deposit.objects.filter(method=Method.STRIPE).order_by("-pk").first()
    assert response["Location"] == deposit.checkout_url
    return deposit


def post_delivery(client, delivery):
    """POSTs what the fake gateway sent (its body and signature header) to the webhook."""
    return client.post(
        WEBHOOK,
        delivery["body"],
        content_type="application/json",
        headers={"Stripe-Signature": delivery["headers"]["Stripe-Signature"]},
    )


def last_delivery(gateways):
    return gateways.gateways.deliveries[-1]


def test_the_customer_back_before_the_webhook_then_the_webhook_credits_once(
    alice, alice_client, client, gateways
):
    deposit = start_card_deposit(alice_client)
    page = f"/funds/deposits/{deposit.public_id}/?back=1"

    assert alice_client.get(page).status_code == 200  # back without paying: nothing to credit yet
    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("pending", HUNDRED)

    gateways.gateways.stripe_pay(deposit.gateway_id)  # its webhook went nowhere
    assert alice_client.get(page).status_code == 200
    assert_credited_once(alice, deposit)

    assert assert_json_ok(post_delivery(client, last_delivery(gateways)))["outcome"] == "duplicate"
    assert alice_client.get(page).status_code == 200
    assert_credited_once(alice, deposit)


def test_the_webhook_before_the_customer_back_credits_once(alice, alice_client, client, gateways):
    deposit = start_card_deposit(alice_client)
    gateways.gateways.stripe_pay(deposit.gateway_id)

    assert assert_json_ok(post_delivery(client, last_delivery(gateways)))["outcome"] == "credited"
    for _ in range(2):
        assert alice_client.get(f"/funds/deposits/{deposit.public_id}/?back=1").status_code == 200

    assert_credited_once(alice, deposit)


# Expiry


def test_an_expired_session_closes_the_pending_deposit_without_credit(alice, client, gateways, alice_client):
    deposit = start_card_deposit(alice_client)

    gateways.gateways.stripe_expire(deposit.gateway_id)
    assert assert_json_ok(post_delivery(client, last_delivery(gateways)))["outcome"] == "closed"

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice)) == ("expired", HUNDRED)
    assert not LedgerEntry.objects.filter(deposit=deposit).exists()
    assert ledger_check().ok


def test_a_payment_arriving_after_expiry_still_credits_once(alice, client, configured):
    deposit = stripe_deposit(alice, "25")
    expired = stripe_event("checkout.session.expired", session_of(deposit, payment_status="unpaid"))
    assert_json_ok(post_stripe(client, expired))
    deposit.refresh_from_db()
    assert deposit.status == "expired"

    for _ in range(2):
        assert_json_ok(post_stripe(client, completed(deposit), timestamp=int(time.time())))
    assert_json_ok(post_stripe(client, expired))  # a late copy of the expiry does not undo the payment

    assert_credited_once(alice, deposit)


# Refused: 400 in JSON, nothing changed


def _signed(body: str, **kwargs) -> dict:
    return {"Stripe-Signature": stripe_signature_header(body, STRIPE_SECRET, **kwargs)}


def _bad_signature(deposit):
    body = json.dumps(completed(deposit))
    return body, {"Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}"}


def _wrong_secret(deposit):
    body = json.dumps(completed(deposit))
    return body, {"Stripe-Signature": stripe_signature_header(body, "whsec_someone_else")}


def _tampered_body(deposit):
    body = json.dumps(completed(deposit, amount_total=1))
    header = stripe_signature_header(body, STRIPE_SECRET)
    return json.dumps(completed(deposit)), {"Stripe-Signature": header}


def _missing_header(deposit):
    return json.dumps(completed(deposit)), {}


def _garbled_header(deposit):
    return json.dumps(completed(deposit)), {"Stripe-Signature": "garbage"}


def _stale_timestamp(deposit):
    body = json.dumps(completed(deposit))
    return body, _signed(body, timestamp=int(time.time()) - 310)


def _malformed_json(deposit):
    body = '{"type": "checkout.session.completed", "data": '
    return body, _signed(body)


def _not_an_object(deposit):
    body = json.dumps([completed(deposit)])
    return body, _signed(body)


def _no_data_object(deposit):
    event = completed(deposit)
    event["data"] = {}
    body = json.dumps(event)
    return body, _signed(body)


def _data_object_not_a_dict(deposit):
    event = completed(deposit)
    event["data"] = {"object": "cs_test_1"}
    body = json.dumps(event)
    return body, _signed(body)


def _no_type(deposit):
    event = completed(deposit)
    del event["type"]
    body = json.dumps(event)
    return body, _signed(body)


def _unknown_deposit(deposit):
    session = session_of(deposit)
    session.update(id="cs_nobody", client_reference_id=str(uuid.uuid4()), metadata={})
    body = json.dumps(stripe_event("checkout.session.completed", session))
    return body, _signed(body)


def _not_a_uuid_reference(deposit):
    session = session_of(deposit)
    session.update(id="cs_nobody", client_reference_id="not-a-uuid", metadata={})
    body = json.dumps(stripe_event("checkout.session.completed", session))
    return body, _signed(body)


def _amount_mismatch(deposit):
    body = json.dumps(completed(deposit, amount_total=2499))
    return body, _signed(body)


def _amount_not_an_integer(deposit):
    body = json.dumps(completed(deposit, amount_total="2500"))
    return body, _signed(body)


def _currency_mismatch(deposit):
    event = completed(deposit)
    event["data"]["object"]["currency"] = "eur"
    body = json.dumps(event)
    return body, _signed(body)


def _refund_of_an_unknown_payment(deposit):
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_nobody", "amount": 2500}
    body = json.dumps(stripe_event("charge.refunded", dict(charge, amount_refunded=2500, currency="usd")))
    return body, _signed(body)


REFUSED = [
    _bad_signature,
    _wrong_secret,
    _tampered_body,
    _missing_header,
    _garbled_header,
    _stale_timestamp,
    _malformed_json,
    _not_an_object,
    _no_data_object,
    _data_object_not_a_dict,
    _no_type,
    _unknown_deposit,
    _not_a_uuid_reference,
    _amount_mismatch,
    _amount_not_an_integer,
    _currency_mismatch,
    _refund_of_an_unknown_payment,
]


@pytest.mark.parametrize("make", REFUSED, ids=[make.__name__.strip("_") for make in REFUSED])
def test_a_refused_event_is_answered_400_in_json_and_changes_nothing(alice, client, configured, make):
    deposit = stripe_deposit(alice, "25")
    before = Deposit.objects.filter(pk=deposit.pk).values().get()
    body, headers = make(deposit)

    response = client.post(WEBHOOK, body, content_type="application/json", headers=headers)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"} and response.json()["error"]
    assert STRIPE_SECRET not in response.content.decode()
    assert balance_of(alice) == HUNDRED
    assert not Notification.objects.exists()
    assert Deposit.objects.filter(pk=deposit.pk).values().get() == before
    assert not DepositHistory.objects.exists()
    assert LedgerEntry.objects.filter(user=alice).count() == 1, "only the test funds"


def test_a_timestamp_within_the_tolerance_is_accepted(alice, client, configured):
    deposit = stripe_deposit(alice, "25")

    assert_json_ok(post_stripe(client, completed(deposit), timestamp=int(time.time()) - 200))

    assert_credited_once(alice, deposit)


def test_a_header_with_the_old_and_the_new_secret_signatures_is_accepted(alice, client, configured):
    deposit = stripe_deposit(alice, "25")
    body = json.dumps(completed(deposit))
    timestamp = int(time.time())
    old = stripe_signature_header(body, "whsec_old", timestamp=timestamp).split(",")[1]
    header = f"{stripe_signature_header(body, STRIPE_SECRET, timestamp=timestamp)},{old}"

    response = client.post(
        WEBHOOK, body, content_type="application/json", headers={"Stripe-Signature": header}
    )

    assert_json_ok(response)
    assert_credited_once(alice, deposit)


def test_a_body_that_is_not_utf8_is_answered_400(alice, client, configured):
    deposit = stripe_deposit(alice, "25")
    body = b'{"type": "\xff\xfe"}'

    response = client.post(
        WEBHOOK, body, content_type="application/json", headers={"Stripe-Signature": "t=1,v1=00"}
    )

    assert response.status_code == 400
    assert "error" in response.json()
    deposit.refresh_from_db()
    assert deposit.status == "pending"


def test_a_get_on_the_webhook_is_refused_and_changes_nothing(alice, client, configured):
    deposit = stripe_deposit(alice, "25")

    assert client.get(WEBHOOK).status_code == 405

    deposit.refresh_from_db()
    assert (deposit.status, balance_of(alice), Notification.objects.count()) == ("pending", HUNDRED, 0)


# Refunds and disputes, with the fake gateway's own events


@pytest.fixture
def paid(alice, alice_client, client, gateways):
    """Pays a card deposit of `amount` through the fake and the webhook; returns it, credited."""

    def pay(amount="25"):
        deposit = start_card_deposit(alice_client, amount)
        gateways.gateways.stripe_pay(deposit.gateway_id)
        assert assert_json_ok(post_delivery(client, last_delivery(gateways)))["outcome"] == "credited"
        deposit.refresh_from_db()
        return deposit

    return pay


def refund(client, gateways, deposit, cents=None):
    """The fake refunds `cents` (None: all that is left); its event is posted; returns it for replays."""
    delivery = gateways.gateways.stripe_refund(deposit.gateway_txn_id, cents)
    assert_json_ok(post_delivery(client, delivery))
    return delivery


def dispute(client, gateways, deposit, outcome):
    delivery = gateways.gateways.stripe_dispute(deposit.gateway_txn_id, outcome)
    assert_json_ok(post_delivery(client, delivery))
    return delivery


def reload(deposit):
    return Deposit.objects.get(pk=deposit.pk)


def test_a_full_refund_takes_back_the_deposit_and_its_bonus_once(alice, client, gateways, paid):
    BonusTier.objects.create(min_amount=Decimal("20"), percent=Decimal("10"))
    deposit = paid("25")
    assert balance_of(alice) == Decimal("127.5")

    delivery = refund(client, gateways, deposit)
    assert assert_json_ok(post_delivery(client, delivery))["outcome"] == "duplicate"

    assert balance_of(alice) == HUNDRED
    assert (reload(deposit).status, reload(deposit).reversed) == ("refunded", Decimal("27.5"))
    assert deposit_rows(deposit, Kind.REVERSAL) == [Decimal("-27.5")]
    assert wallet_owed(user=alice) == 0
    assert ledger_check().ok


def test_partial_refunds_take_back_their_cumulative_share_once_each(alice, client, gateways, paid):
    BonusTier.objects.create(min_amount=Decimal("20"), percent=Decimal("10"))
    deposit = paid("25")  # 25 credited + 2.50 bonus

    first = refund(client, gateways, deposit, 1000)  # 40 % of the payment
    assert balance_of(alice) == Decimal("116.5")
    post_delivery(client, first)  # the same cumulative amount_refunded again
    assert balance_of(alice) == Decimal("116.5")

    second = refund(client, gateways, deposit, 500)  # 60 % in all
    post_delivery(client, second)
    assert balance_of(alice) == Decimal("111")

    assert sorted(deposit_rows(deposit, Kind.REVERSAL)) == [Decimal("-11"), Decimal("-5.5")]
    assert (reload(deposit).status, reload(deposit).reversed) == ("refunded", Decimal("16.5"))
    assert ledger_check().ok


def test_an_older_refund_event_arriving_after_a_newer_one_gives_nothing_back(alice, client, gateways, paid):
    deposit = paid("25")
    first = refund(client, gateways, deposit, 1000)
    refund(client, gateways, deposit, 500)
    assert balance_of(alice) == Decimal("110")

    post_delivery(client, first)  # amount_refunded 1000, after the event that said 1500

    assert balance_of(alice) == Decimal("110")
    assert reload(deposit).reversed == Decimal("15")
    assert ledger_check().ok


@pytest.mark.usefixtures("eager_celery")
def test_a_refund_of_spent_money_is_owed_pauses_ordering_tells_staff_and_the_next_deposit_pays_it(
    alice, client, gateways, paid, django_capture_on_commit_callbacks
):
    staff = StaffFactory(email="ops@example.com")
    service = ServiceFactory()
    deposit = paid("25")
    wallet_credit(user=alice, amount=Decimal("-120"), note="Spent", created_by=None)  # 5 left
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        refund(client, gateways, deposit)

    wallet = Wallet.objects.get(user=alice)
    assert (wallet.balance, wallet.owed) == (Decimal("0"), Decimal("20"))
    assert deposit_rows(deposit, Kind.REVERSAL) == [Decimal("-5")]
    assert reload(deposit).reversed == Decimal("25")
    with pytest.raises(OrderError) as refused:
        order_place(user=alice, service=service, link=LINK, quantity=100)
    assert refused.value.code == "paused" and "paused" in str(refused.value.message)
    (notice,) = [message for message in mail.outbox if staff.email in message.to]
    assert "reversed" in notice.subject.lower() and str(deposit.pk) in notice.subject
    assert "owed" in notice.body and "paused" in notice.body
    assert ledger_check().ok

    second = paid("30")

    assert (balance_of(alice), wallet_owed(user=alice)) == (Decimal("10"), Decimal("0"))
    assert deposit_rows(second) == [Decimal("30")]
    assert deposit_rows(second, Kind.REVERSAL) == [Decimal("-20")], "the owed amount, paid first"
    order_place(user=alice, service=service, link=LINK, quantity=100)  # ordering again
    assert ledger_check().ok


def test_a_dispute_takes_the_money_back_once_and_winning_it_gives_it_back(alice, client, gateways, paid):
    deposit = paid("25")

    created = dispute(client, gateways, deposit, "created")
    post_delivery(client, created)

    assert balance_of(alice) == HUNDRED
    assert reload(deposit).status == "disputed"
    assert ledger_check().ok

    won = dispute(client, gateways, deposit, "won")
    post_delivery(client, won)

    assert balance_of(alice) == Decimal("125")
    assert (reload(deposit).status, reload(deposit).reversed) == ("paid", Decimal("0"))
    assert sorted(deposit_rows(deposit, Kind.REVERSAL)) == [Decimal("-25"), Decimal("25")]
    assert ledger_check().ok


def test_a_dispute_created_event_redelivered_after_the_dispute_was_won_takes_nothing(
    alice, client, gateways, paid
):
    deposit = paid("25")
    created = dispute(client, gateways, deposit, "created")
    dispute(client, gateways, deposit, "won")
    assert balance_of(alice) == Decimal("125")

    post_delivery(client, created)

    assert balance_of(alice) == Decimal("125")
    assert reload(deposit).status == "paid"
    assert ledger_check().ok


def test_a_lost_dispute_keeps_the_money_taken_back(alice, client, gateways, paid):
    deposit = paid("25")

    created = dispute(client, gateways, deposit, "created")
    lost = dispute(client, gateways, deposit, "lost")
    post_delivery(client, lost)
    post_delivery(client, created)  # a late copy of the opening event takes nothing more

    assert balance_of(alice) == HUNDRED
    assert (reload(deposit).status, reload(deposit).reversed) == ("disputed", Decimal("25"))
    assert deposit_rows(deposit, Kind.REVERSAL) == [Decimal("-25")]
    assert ledger_check().ok


@pytest.mark.usefixtures("eager_celery")
def test_a_won_dispute_forgives_what_is_owed_before_giving_money_back(
    alice, client, gateways, paid, django_capture_on_commit_callbacks
):
    staff = StaffFactory(email="ops@example.com")
    deposit = paid("25")
    wallet_credit(user=alice, amount=Decimal("-120"), note="Spent", created_by=None)  # 5 left
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        dispute(client, gateways, deposit, "created")

    assert (balance_of(alice), wallet_owed(user=alice)) == (Decimal("0"), Decimal("20"))
    assert [message for message in mail.outbox if staff.email in message.to], "staff hear of a dispute"

    dispute(client, gateways, deposit, "won")

    assert (balance_of(alice), wallet_owed(user=alice)) == (Decimal("5"), Decimal("0"))
    assert reload(deposit).status == "paid"
    order_place(user=alice, service=ServiceFactory(), link=LINK, quantity=100)  # no longer paused
    assert ledger_check().ok
