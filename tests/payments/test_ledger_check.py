"""`check_ledger` also holds deposits to what the ledger says: each deposit and bonus row is what its
deposit credited, for the deposit's own customer."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from payments.manual import deposit_manual
from payments.models import Deposit
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check

pytestmark = pytest.mark.django_db


def test_a_deposit_credited_as_recorded_is_consistent(alice):
    deposit_manual(user=alice, amount=Decimal("12.50"), note="Wire 1", created_by=None)

    assert ledger_check().ok


def test_a_deposit_whose_figures_differ_from_its_ledger_row_is_reported(alice, capsys):
    deposit = deposit_manual(user=alice, amount=Decimal("12.50"), note="Wire 1", created_by=None)
    Deposit.objects.filter(pk=deposit.pk).update(credited=Decimal("13"))
    entry = LedgerEntry.objects.get(deposit=deposit)

    report = ledger_check()

    assert report.mismatched_deposit_entries == [entry.pk]
    assert not report.ok
    with pytest.raises(SystemExit):
        call_command("check_ledger")
    assert f"MISMATCHED deposit entry {entry.pk}" in capsys.readouterr().out


def test_a_deposit_row_on_another_customers_balance_is_reported(alice, charlie):
    deposit = deposit_manual(user=alice, amount=Decimal("5"), note="Wire 2", created_by=None)
    Deposit.objects.filter(pk=deposit.pk).update(user=charlie)

    assert ledger_check().mismatched_deposit_entries == [LedgerEntry.objects.get(deposit=deposit).pk]
