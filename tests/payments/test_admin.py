"""Payments in admin: deposits (read-only, with the raw notifications), the queue of bank transfers that
matched nobody, the staff credit form (now a manual deposit), the operator's payment settings."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from payments.amounts import deposit_quote
from payments.credit import deposit_create, deposit_credit
from payments.methods import method_config
from payments.models import (
    BankTransfer,
    BonusTier,
    Deposit,
    ExchangeRate,
    Method,
    Notification,
    PaymentMethod,
)
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import ledger_check, wallet_balance
from tests.factories import StaffFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def staff(client):
    """A superuser, logged in on `client`."""
    member = StaffFactory()
    client.force_login(member)
    return member


@pytest.fixture
def vnd_rate(db):
    return ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))


def text(response) -> str:
    return response.content.decode()


def words(response) -> str:
    """The page's words, tags dropped and spaces joined (unfold splits "3 deposits" over lines)."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def deposit_for(user, method=Method.STRIPE, amount="20", *, paid=False, currency="USD") -> Deposit:
    q = deposit_quote(config=method_config(method), amount=D(amount), currency=currency)
    deposit = deposit_create(user=user, method=method, quote=q)
    if paid:
        deposit_credit(
            deposit=deposit, txn_id=f"txn-{deposit.pk}", amount_paid=D(amount), reason="paid in a test"
        )
        deposit.refresh_from_db()
    return deposit


def transfer(sepay_id=501, amount=250_000, content="chuyen tien", **fields) -> BankTransfer:
    return BankTransfer.objects.create(
        sepay_id=sepay_id, amount=D(amount), content=content, payload={"id": sepay_id}, **fields
    )


def assign_url(transfer):
    return reverse("admin:payments_banktransfer_assign", args=[transfer.pk])


def credit_url(user):
    return reverse("admin:payments_deposit_credit", args=[Wallet.objects.get(user=user).pk])


def credit_form(client, user):
    """The credit form's address as the browser has it, with its one-time token: the bare one redirects."""
    return client.get(credit_url(user))["Location"]


# Deposits


def test_the_deposits_list_filters_by_method_and_status_and_searches_by_username(client, staff):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    deposit_for(alice, Method.STRIPE, "11", paid=True)
    deposit_for(alice, Method.STRIPE, "12")
    deposit_for(bob, Method.MANUAL, "13", paid=True)
    url = reverse("admin:payments_deposit_changelist")

    everything = words(client.get(url))
    by_method = words(client.get(url, {"method__exact": "manual"}))
    by_status = words(client.get(url, {"status__exact": "pending"}))
    by_both = words(client.get(url, {"method__exact": "stripe", "status__exact": "paid"}))
    found = words(client.get(url, {"q": "alice"}))

    assert "3 deposits" in everything
    assert "1 deposit" in by_method and "$13.00" in by_method and "$11.00" not in by_method
    assert "1 deposit" in by_status and "$12.00" in by_status and "$11.00" not in by_status
    assert "1 deposit" in by_both and "$11.00" in by_both
    assert "2 deposits" in found and "$13.00" not in found


def test_a_deposits_page_shows_its_raw_notifications_and_history(client, staff):
    deposit = deposit_for(UserFactory(), Method.STRIPE, "20", paid=True)
    Notification.objects.create(
        method=Method.STRIPE,
        deposit=deposit,
        event_id="evt_raw_42",
        event_type="checkout.session.completed",
        payload={"id": "evt_raw_42", "data": {"object": {"marker": "raw-payload-marker"}}},
        outcome=Notification.Outcome.CREDITED,
    )

    page = text(client.get(reverse("admin:payments_deposit_change", args=[deposit.pk])))

    assert "raw notifications received" in page.lower()
    assert "evt_raw_42" in page and "raw-payload-marker" in page and "checkout.session.completed" in page
    assert "paid in a test" in page  # the status history


def test_nobody_can_add_change_or_delete_deposits_in_admin(client, staff):
    deposit = deposit_for(UserFactory(), Method.STRIPE, "20", paid=True)
    change_url = reverse("admin:payments_deposit_change", args=[deposit.pk])

    assert client.get(reverse("admin:payments_deposit_add")).status_code == 403
    delete = client.post(reverse("admin:payments_deposit_delete", args=[deposit.pk]), {"post": "yes"})
    assert delete.status_code == 403
    page = client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in text(page)
    client.post(change_url, {"amount": "500", "status": "pending", "credited": "500"})
    deposit.refresh_from_db()
    assert (deposit.amount, deposit.status, deposit.credited) == (D(20), "paid", D(20))
    assert Deposit.objects.count() == 1


# Bank transfers that matched nobody


def test_the_bank_transfers_queue_lists_the_waiting_transfers_with_an_assign_link(client, staff, vnd_rate):
    waiting = transfer(sepay_id=601, content="no code at all")
    done = transfer(sepay_id=602, content="already done", status=BankTransfer.Status.IGNORED)

    page = text(client.get(reverse("admin:payments_banktransfer_changelist"), {"status__exact": "waiting"}))

    assert "no code at all" in page and "already done" not in page
    assert assign_url(waiting) in page and assign_url(done) not in page
    assert "250.000" in page or "250,000" in page  # the VND amount


@pytest.mark.parametrize("given", ["username", "email", "id", "USERNAME"])
def test_assigning_a_transfer_credits_the_chosen_customer(client, staff, vnd_rate, given):
    alice = funded_user("100", username="alice")
    waiting = transfer(amount=250_000)  # 10 USD at the rate
    value = {"username": "alice", "USERNAME": "ALICE", "email": alice.email, "id": str(alice.pk)}[given]

    response = client.post(assign_url(waiting), {"customer": value}, follow=True)

    waiting.refresh_from_db()
    assert waiting.status == "credited" and waiting.assigned_by == staff
    deposit = waiting.deposit
    assert (deposit.user, deposit.method, deposit.status, deposit.currency) == (alice, "bank", "paid", "VND")
    assert (deposit.amount, deposit.credited, deposit.created_by) == (D(250_000), D(10), staff)
    assert wallet_balance(user=alice) == D(110)
    assert "Transfer 501 credited to alice: $10.00" in text(response)


def test_assigning_the_same_transfer_twice_credits_once(client, staff, vnd_rate):
    alice, bob = funded_user("100", username="alice"), funded_user("100", username="bob")
    waiting = transfer()

    client.post(assign_url(waiting), {"customer": "alice"})
    second = client.post(assign_url(waiting), {"customer": "bob"}, follow=True)

    assert wallet_balance(user=alice) == D(110) and wallet_balance(user=bob) == D(100)
    assert Deposit.objects.count() == 1
    assert "This transfer was credited or set aside already." in text(second)
    assert ledger_check().ok


def test_assigning_to_an_unknown_customer_shows_an_error_and_changes_nothing(client, staff, vnd_rate):
    funded_user("100", username="alice")
    waiting = transfer()

    response = client.post(assign_url(waiting), {"customer": "nobody-like-this"})

    assert response.status_code == 200
    assert "No active customer with this username, email or id." in text(response)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.deposit) == ("waiting", None)
    assert not Deposit.objects.exists()


def test_an_inactive_customer_cannot_be_assigned_a_transfer(client, staff, vnd_rate):
    UserFactory(username="gone", is_active=False)
    waiting = transfer()

    response = client.post(assign_url(waiting), {"customer": "gone"})

    assert "No active customer" in text(response)
    assert not Deposit.objects.exists()


def test_the_assign_page_shows_the_transfer(client, staff):
    waiting = transfer(sepay_id=777, content="MBVCB.9 chuyen khoan")

    page = text(client.get(assign_url(waiting)))

    assert "777" in page and "MBVCB.9 chuyen khoan" in page and 'name="customer"' in page


def test_the_ignore_action_sets_waiting_transfers_aside(client, staff):
    first, second = transfer(sepay_id=701), transfer(sepay_id=702)

    response = client.post(
        reverse("admin:payments_banktransfer_changelist"),
        {"action": "ignore", "_selected_action": [first.pk]},
        follow=True,
    )

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("ignored", "waiting")
    assert "1 transfer(s) set aside." in text(response)
    assert assign_url(first) not in text(client.get(reverse("admin:payments_banktransfer_changelist")))


def test_an_ignored_transfer_cannot_be_assigned_afterwards(client, staff, vnd_rate):
    alice = funded_user("100", username="alice")
    ignored = transfer(status=BankTransfer.Status.IGNORED)

    client.post(assign_url(ignored), {"customer": "alice"})

    assert wallet_balance(user=alice) == 100 and not Deposit.objects.exists()


def test_staff_without_the_change_permission_get_403_on_assign(client, vnd_rate):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_banktransfer"))
    client.force_login(clerk)
    alice = funded_user("100", username="alice")
    waiting = transfer()

    assert client.get(assign_url(waiting)).status_code == 403
    assert client.post(assign_url(waiting), {"customer": "alice"}).status_code == 403
    client.post(
        reverse("admin:payments_banktransfer_changelist"),
        {"action": "ignore", "_selected_action": [waiting.pk]},
    )
    waiting.refresh_from_db()
    assert waiting.status == "waiting"
    assert wallet_balance(user=alice) == 100


def test_customers_cannot_reach_the_assign_view(client, vnd_rate):
    alice = funded_user("100", username="alice")
    client.force_login(alice)
    waiting = transfer()

    response = client.post(assign_url(waiting), {"customer": "alice"})

    assert response.status_code in (302, 403)
    assert wallet_balance(user=alice) == 100
    waiting.refresh_from_db()
    assert waiting.status == "waiting"


# The staff credit form: a credit is a manual deposit


def test_a_staff_credit_is_a_paid_manual_deposit_by_that_staff_member(client, staff):
    customer = UserFactory()

    client.post(credit_form(client, customer), {"amount": "20", "kind": "", "note": "Wire 55"})

    deposit = Deposit.objects.get(user=customer)
    assert (deposit.method, deposit.status, deposit.amount, deposit.credited, deposit.bonus) == (
        "manual",
        "paid",
        D(20),
        D(20),
        D(0),
    )
    assert (deposit.created_by, deposit.note, deposit.currency) == (staff, "Wire 55", "USD")
    assert deposit.paid_at is not None
    entry = LedgerEntry.objects.get(user=customer)
    assert (entry.kind, entry.deposit, entry.created_by, entry.note) == ("deposit", deposit, staff, "Wire 55")


def test_a_staff_credit_gets_no_bonus(client, staff):
    BonusTier.objects.create(min_amount=D(10), percent=D(10))
    customer = UserFactory()

    client.post(credit_form(client, customer), {"amount": "50", "kind": "", "note": "Wire 56"})

    assert wallet_balance(user=customer) == D(50)
    assert not LedgerEntry.objects.filter(user=customer, kind="bonus").exists()


def test_a_staff_credit_shows_on_the_customers_receipt_with_its_note(client, staff):
    customer = UserFactory()
    client.post(credit_form(client, customer), {"amount": "20", "kind": "", "note": "Wire 55"})
    deposit = Deposit.objects.get(user=customer)
    client.force_login(customer)

    page = text(client.get(f"/funds/deposits/{deposit.public_id}/"))

    assert "Credited by staff" in page and "Wire 55" in page


def test_a_staff_debit_stays_an_adjustment_without_a_deposit(client, staff):
    customer = funded_user("20")

    client.post(credit_form(client, customer), {"amount": "-5", "kind": "", "note": "Reversal"})

    assert wallet_balance(user=customer) == D(15)
    entry = LedgerEntry.objects.filter(user=customer).latest("id")
    assert (entry.kind, entry.deposit) == ("adjustment", None)
    assert not Deposit.objects.exists()


def test_a_positive_adjustment_is_no_deposit(client, staff):
    customer = UserFactory()

    client.post(credit_form(client, customer), {"amount": "3", "kind": "adjustment", "note": "Goodwill"})

    assert wallet_balance(user=customer) == D(3)
    assert LedgerEntry.objects.get(user=customer).kind == "adjustment"
    assert not Deposit.objects.exists()


def test_the_same_credit_form_submitted_twice_makes_one_deposit(client, staff):
    customer = UserFactory()
    url = credit_form(client, customer)
    form = text(client.get(url))
    token = form.split('name="request_token" value="')[1].split('"')[0]
    fields = {"amount": "20", "kind": "", "note": "Wire 57", "request_token": token}

    client.post(url, fields)
    client.post(url, fields)

    assert Deposit.objects.filter(user=customer).count() == 1
    assert wallet_balance(user=customer) == D(20)


# The operator's settings


def test_staff_set_up_a_payment_method_in_admin(client, staff):
    response = client.post(
        reverse("admin:payments_paymentmethod_add"),
        {
            "method": "stripe",
            "enabled": "on",
            "display_name": "Visa",
            "min_amount": "5",
            "max_amount": "500",
            "fee_percent": "2.5",
            "fee_fixed": "0.30",
            "instructions": "Charged as **ACME**",
            "position": "1",
        },
    )

    assert response.status_code == 302, text(response)[:2000]
    row = PaymentMethod.objects.get()
    assert (row.method, row.enabled, row.display_name, row.min_amount, row.max_amount) == (
        "stripe",
        True,
        "Visa",
        D(5),
        D(500),
    )
    assert (row.fee_percent, row.fee_fixed, row.instructions) == (D("2.5"), D("0.3"), "Charged as **ACME**")


def test_a_payment_method_with_its_minimum_above_its_maximum_is_refused(client, staff):
    response = client.post(
        reverse("admin:payments_paymentmethod_add"),
        {"method": "stripe", "min_amount": "500", "max_amount": "5", "fee_percent": "0", "fee_fixed": "0"}
        | {"position": "0"},
    )

    assert response.status_code == 200
    assert not PaymentMethod.objects.exists()


def test_staff_disable_a_method_from_the_list(client, staff):
    row = PaymentMethod.objects.create(method=Method.STRIPE)
    url = reverse("admin:payments_paymentmethod_changelist")

    response = client.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(row.pk),
            "form-0-position": "3",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.enabled, row.position) == (False, 3)


def test_staff_edit_bonus_tiers_and_exchange_rates(client, staff):
    tier = client.post(reverse("admin:payments_bonustier_add"), {"min_amount": "50", "percent": "5"})
    rate = client.post(reverse("admin:payments_exchangerate_add"), {"currency": "VND", "rate": "0.00004"})

    assert tier.status_code == rate.status_code == 302
    assert BonusTier.objects.values_list("min_amount", "percent").get() == (D(50), D(5))
    row = ExchangeRate.objects.get()
    assert (row.currency, row.rate) == ("VND", D("0.00004"))

    client.post(
        reverse("admin:payments_exchangerate_change", args=[row.pk]), {"currency": "VND", "rate": "0.00005"}
    )
    row.refresh_from_db()
    assert row.rate == D("0.00005")


def test_the_payment_settings_pages_need_staff(client):
    client.force_login(funded_user("1"))

    for name in ("paymentmethod", "bonustier", "exchangerate", "deposit", "banktransfer"):
        response = client.get(reverse(f"admin:payments_{name}_changelist"))
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_the_wallet_list_filters_customers_who_owe_money(client, staff):
    funded_user("5", username="paying")
    owing = funded_user("0.01", username="owing")
    Wallet.objects.filter(user=owing).update(owed=D(7))
    url = reverse("admin:wallet_wallet_changelist")

    everything = text(client.get(url))
    owes = text(client.get(url, {"owes": "yes"}))
    owes_not = text(client.get(url, {"owes": "no"}))

    assert "owes money" in everything.lower()
    assert "owing" in owes and "paying" not in owes
    assert "paying" in owes_not and "owing" not in owes_not
    assert "$7.00" in owes
