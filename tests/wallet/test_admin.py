"""Staff credit and debit customers in admin; the ledger there is read-only."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from reseller.wallet.models import FundsInstructions, LedgerEntry, Wallet
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import wallet_move
from tests.factories import OrderFactory, StaffFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


@pytest.fixture
def staff_client(client):
    staff = StaffFactory()
    client.force_login(staff)
    client.staff = staff
    return client


def credit_url(user):
    return reverse("admin:payments_deposit_credit", args=[Wallet.objects.get(user=user).pk])


def credit_form(client, user):
    """The credit form's address as the browser has it, with its one-time token: the bare one redirects."""
    return client.get(credit_url(user))["Location"]


def test_staff_credit_a_customer_with_a_note(staff_client):
    customer = UserFactory()

    response = staff_client.post(
        credit_form(staff_client, customer),
        {"amount": "20", "kind": "", "note": "Bank transfer 55"},
        follow=True,
    )

    entry = LedgerEntry.objects.get(user=customer)
    assert (entry.kind, entry.amount, entry.note, entry.created_by) == (
        Kind.DEPOSIT,
        Decimal("20"),
        "Bank transfer 55",
        staff_client.staff,
    )
    assert "the balance is now $20.00" in response.content.decode()


def test_staff_debit_a_customer_as_an_adjustment(staff_client):
    customer = funded_user("20")

    staff_client.post(credit_form(staff_client, customer), {"amount": "-5", "kind": "", "note": "Reversal"})

    assert wallet_balance(user=customer) == Decimal("15")
    assert LedgerEntry.objects.filter(user=customer).latest("id").kind == Kind.ADJUSTMENT


def test_the_note_is_required_and_nothing_changes_without_it(staff_client):
    customer = UserFactory()

    response = staff_client.post(
        credit_form(staff_client, customer), {"amount": "20", "kind": "", "note": ""}
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert wallet_balance(user=customer) == 0


def test_a_debit_beyond_the_balance_shows_the_error_and_changes_nothing(staff_client):
    customer = funded_user("3")

    response = staff_client.post(
        credit_form(staff_client, customer), {"amount": "-5", "kind": "", "note": "Oops"}
    )

    assert "Insufficient funds: the balance is $3.00 and this needs $5.00." in response.content.decode()
    assert wallet_balance(user=customer) == Decimal("3")


def test_a_debit_cannot_be_called_a_deposit(staff_client):
    customer = funded_user("30")

    response = staff_client.post(
        credit_form(staff_client, customer), {"amount": "-5", "kind": "deposit", "note": "x"}
    )

    assert "A deposit must be a positive amount." in response.content.decode()
    assert wallet_balance(user=customer) == Decimal("30")


def test_staff_without_the_change_wallet_permission_cannot_move_money(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_wallet"))
    client.force_login(clerk)
    customer = UserFactory()

    response = client.post(credit_url(customer), {"amount": "20", "kind": "", "note": "x"})

    assert response.status_code == 403
    assert wallet_balance(user=customer) == 0


def test_customers_cannot_reach_the_credit_form(client):
    customer = UserFactory()
    client.force_login(customer)

    response = client.post(credit_url(customer), {"amount": "20", "kind": "", "note": "x"})

    assert response.status_code in (302, 403)
    assert wallet_balance(user=customer) == 0


def test_ledger_rows_cannot_be_added_changed_or_deleted_in_admin(staff_client):
    entry = LedgerEntry.objects.get(user=funded_user("5"))
    change_url = reverse("admin:wallet_ledgerentry_change", args=[entry.pk])

    assert staff_client.get(reverse("admin:wallet_ledgerentry_add")).status_code == 403
    assert (
        staff_client.post(
            reverse("admin:wallet_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    page = staff_client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    staff_client.post(change_url, {"amount": "500", "kind": "deposit", "note": "edited"})
    entry.refresh_from_db()
    assert (entry.amount, entry.note) == (Decimal("5"), "Test funds")


def words(html: str) -> str:
    """The page's words, tags dropped and spaces joined (unfold splits "1 ledger entry" over lines)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_ledger_list_filters_by_kind_and_searches_by_username(staff_client):
    funded_user("5", username="alice")
    funded_user("7", username="bob")
    url = reverse("admin:wallet_ledgerentry_changelist")

    found = staff_client.get(url, {"q": "alice"}).content.decode()
    filtered = staff_client.get(url, {"kind__exact": "charge"}).content.decode()

    assert "alice" in found and "bob" not in found
    assert "0 ledger entries" in words(filtered)


def test_the_ledger_list_searches_by_order_id(staff_client):
    alice, bob = funded_user("5", username="alice"), funded_user("7", username="bob")
    alices_order, bobs_order = OrderFactory(user=alice), OrderFactory(user=bob)
    wallet_move(user=alice, amount=Decimal("-1"), kind=Kind.CHARGE, order_id=alices_order.pk)
    wallet_move(user=bob, amount=Decimal("-2"), kind=Kind.CHARGE, order_id=bobs_order.pk)
    url = reverse("admin:wallet_ledgerentry_changelist")

    found = staff_client.get(url, {"q": str(alices_order.pk)})
    not_an_id = staff_client.get(url, {"q": "alice"})
    no_such_order = staff_client.get(url, {"q": "5"})

    assert found.status_code == not_an_id.status_code == no_such_order.status_code == 200
    assert "1 ledger entry" in words(found.content.decode())
    assert "alice" in found.content.decode() and "bob" not in found.content.decode()


def test_balances_cannot_be_edited_directly_in_admin(staff_client):
    customer = funded_user("5")
    wallet = Wallet.objects.get(user=customer)

    staff_client.post(reverse("admin:wallet_wallet_change", args=[wallet.pk]), {"balance": "999"})

    assert wallet_balance(user=customer) == Decimal("5")


def test_a_user_added_in_admin_gets_a_wallet_with_zero_balance(staff_client):
    staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "password1": "Correct-Horse-9",
            "password2": "Correct-Horse-9",
            "usable_password": "true",
        },
    )

    assert Wallet.objects.get(user__username="newbie").balance == 0


def test_the_operator_writes_the_add_funds_instructions_in_admin(staff_client):
    staff_client.post(reverse("admin:wallet_fundsinstructions_add"), {"text": "Pay to IBAN X"})

    assert FundsInstructions.objects.get().text == "Pay to IBAN X"
    assert staff_client.get(reverse("admin:wallet_fundsinstructions_add")).status_code == 403


def test_submitting_the_same_credit_form_twice_credits_once(staff_client):
    customer = UserFactory()
    url = credit_form(staff_client, customer)
    form = staff_client.get(url).content.decode()
    token = form.split('name="request_token" value="')[1].split('"')[0]
    fields = {"amount": "20", "kind": "", "note": "Bank transfer 55", "request_token": token}

    staff_client.post(url, fields)
    staff_client.post(url, fields)

    assert wallet_balance(user=customer) == Decimal("20")
    assert LedgerEntry.objects.filter(user=customer).count() == 1
    assert "Request token" not in form
