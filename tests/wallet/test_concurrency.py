"""Concurrent money movements against a real PostgreSQL: threads, each on its own connection."""

from decimal import Decimal

import pytest

from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from reseller.wallet.services import DuplicateRefund, InsufficientFunds, wallet_move
from tests.factories import OrderFactory, funded_user
from tests.helpers import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]
Kind = LedgerEntry.Kind


def test_concurrent_debits_beyond_the_balance_leave_exactly_the_allowed_ones_done():
    user = funded_user("100")
    order_ids = [OrderFactory(user=user).pk for _ in range(10)]

    results = run_together(
        10, lambda i: wallet_move(user=user, amount=Decimal("-30"), kind=Kind.CHARGE, order_id=order_ids[i])
    )

    done = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert (len(done), len(refused)) == (3, 7), results
    assert wallet_balance(user=user) == Decimal("10")
    balances_after = sorted(e.balance_after for e in LedgerEntry.objects.filter(user=user, kind=Kind.CHARGE))
    assert balances_after == [Decimal("10"), Decimal("40"), Decimal("70")]
    assert ledger_check().ok


def test_concurrent_deposits_lose_no_update():
    user = funded_user("1")

    results = run_together(8, lambda i: wallet_move(user=user, amount=Decimal("2.5"), kind=Kind.DEPOSIT))

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert wallet_balance(user=user) == Decimal("21")
    assert ledger_check().ok


def test_two_concurrent_refunds_of_one_order_write_one_row():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-6"), kind=Kind.CHARGE, order_id=order_id)

    results = run_together(
        2, lambda i: wallet_move(user=user, amount=Decimal("6"), kind=Kind.REFUND, order_id=order_id)
    )

    assert sorted(type(r).__name__ for r in results) == ["DuplicateRefund", "LedgerEntry"], results
    assert any(isinstance(r, DuplicateRefund) for r in results)
    assert LedgerEntry.objects.filter(kind=Kind.REFUND, order_id=order_id).count() == 1
    assert wallet_balance(user=user) == Decimal("10")
    assert ledger_check().ok
