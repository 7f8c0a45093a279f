"""`check_ledger` from admin: the same check as `manage.py check_ledger`, its result on a page of the
ledger's admin, for staff who may view ledger entries."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from payments.models import Deposit
from reseller.wallet.models import LedgerEntry, Wallet
from tests.factories import StaffFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
CHECK = "/admin/wallet/ledgerentry/check/"


@pytest.fixture
def staff(client):
    member = StaffFactory()
    client.force_login(member)
    return member


def page(client):
    response = client.get(CHECK)
    assert response.status_code == 200
    return response.content.decode()


def test_a_clean_ledger_says_so_with_what_was_checked(client, staff):
    funded_user("100", username="alice")
    funded_user("5", username="bob")

    html = page(client)

    assert "The ledger is consistent." in html and 'id="ledger-mismatches"' not in html
    assert "Checked 3 wallets and 2 ledger entries" in " ".join(html.split())  # the staff member's too


def test_a_balance_changed_behind_the_ledgers_back_is_listed_with_both_figures(client, staff):
    alice = funded_user("100", username="alice")
    funded_user("5", username="bob")
    Wallet.objects.filter(user=alice).update(balance=Decimal("99.5"))

    html = page(client)

    assert "The ledger is consistent." not in html and "1 balance mismatch," in html
    section = html.split('id="mismatched-balances"')[1].split("</section>")[0]
    assert "alice" in section and "$99.50" in section and "$100.00" in section and "bob" not in section
    assert 'href="/admin/wallet/wallet/?q=alice"' in section


def test_a_broken_chain_and_a_deposit_row_unlike_its_deposit_are_listed_with_links(client, staff):
    customer = funded_user("10")
    row = LedgerEntry.objects.get(user=customer)
    LedgerEntry.objects.filter(pk=row.pk).update(balance_after=Decimal("11"))
    deposit = _paid_deposit(UserFactory(), "20")
    Deposit.objects.filter(pk=deposit.pk).update(credited=Decimal("19"))
    deposit_row = LedgerEntry.objects.get(deposit=deposit, kind="deposit")

    html = page(client)

    broken = html.split('id="broken-ledger-rows"')[1].split("</section>")[0]
    assert f'href="/admin/wallet/ledgerentry/{row.pk}/change/"' in broken
    mismatched = html.split('id="mismatched-deposit-rows"')[1].split("</section>")[0]
    assert f'href="/admin/wallet/ledgerentry/{deposit_row.pk}/change/"' in mismatched


def test_the_page_finds_what_the_command_finds(client, staff):
    alice = funded_user("100", username="alice")
    Wallet.objects.filter(user=alice).update(balance=Decimal("1"))

    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=(out := _Out()), stderr=_Out())

    assert "MISMATCH alice" in out.text and "alice" in page(client)


def test_the_ledger_list_has_a_check_button(client, staff):
    html = client.get("/admin/wallet/ledgerentry/").content.decode()

    assert f'href="{CHECK}"' in html and "Check the ledger" in html


def test_staff_who_may_view_ledger_entries_may_check_it(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_ledgerentry"))
    client.force_login(clerk)

    assert "The ledger is consistent." in page(client)


def test_other_staff_and_customers_cannot(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_wallet"))
    client.force_login(clerk)
    refused = client.get(CHECK)
    client.force_login(funded_user("1"))
    customer = client.get(CHECK)

    assert refused.status_code == 403
    assert customer.status_code == 302 and "/login/" in customer["Location"]


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def _paid_deposit(user, amount):
    from payments.amounts import deposit_quote
    from payments.credit import deposit_create, deposit_credit
    from payments.methods import method_config
    from payments.models import Method

    quote = deposit_quote(config=method_config(Method.STRIPE), amount=Decimal(amount), currency="USD")
    deposit = deposit_create(user=user, method=Method.STRIPE, quote=quote)
    deposit_credit(deposit=deposit, txn_id=f"pi_{deposit.pk}", amount_paid=Decimal(amount), reason="test")
    return deposit
