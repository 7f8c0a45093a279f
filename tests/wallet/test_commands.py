"""`manage.py credit` and `manage.py check_ledger`."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import wallet_move
from tests.factories import OrderFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue()


def test_credit_deposits_with_a_note_and_prints_the_new_balance():
    user = UserFactory(username="alice")

    output = run("credit", "alice", "12.5", "--note", "Wire 1234")

    entry = LedgerEntry.objects.get(user=user)
    assert (entry.kind, entry.amount, entry.note) == (Kind.DEPOSIT, Decimal("12.5"), "Wire 1234")
    assert output.strip() == "Deposit of $12.50 for alice; balance now $12.50."


def test_a_negative_credit_debits_as_an_adjustment():
    user = funded_user("10", username="alice")

    run("credit", "alice", "-2.5", "--note", "Chargeback")

    assert wallet_balance(user=user) == Decimal("7.5")
    assert LedgerEntry.objects.filter(user=user).latest("id").kind == Kind.ADJUSTMENT


def test_a_debit_beyond_the_balance_fails_clearly_and_changes_nothing():
    user = funded_user("10", username="alice")

    with pytest.raises(
        CommandError, match=re.escape("Insufficient funds: the balance is $10.00 and this needs $11.00")
    ):
        run("credit", "alice", "-11", "--note", "Too much")

    assert wallet_balance(user=user) == Decimal("10")
    assert LedgerEntry.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "5", "--note", "x"], "No user named 'nobody'"),
        (["alice", "five", "--note", "x"], "is not an amount"),
        (["alice", "5", "--note", "  "], "A note is required"),
        (["alice", "0", "--note", "x"], "must not be zero"),
        (["alice", "5"], "--note"),
    ],
)
def test_credit_refuses_bad_input_and_changes_nothing(args, message):
    user = UserFactory(username="alice")

    with pytest.raises(CommandError, match=message):
        run("credit", *args)

    assert not LedgerEntry.objects.filter(user=user).exists()


def test_check_ledger_passes_on_a_consistent_ledger():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=order_id)
    wallet_move(user=user, amount=Decimal("4"), kind=Kind.REFUND, order_id=order_id)

    output = run("check_ledger")

    assert "0 balance mismatches, 0 over-refunded orders" in output
    assert "The ledger is consistent." in output


def test_check_ledger_exits_1_and_names_a_balance_that_does_not_match_its_ledger():
    funded_user("10", username="honest")
    cheat = funded_user("10", username="cheat")
    Wallet.objects.filter(user=cheat).update(balance=Decimal("1000"))
    out = StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("check_ledger", stdout=out, stderr=StringIO())

    assert exit_.value.code == 1
    assert out.getvalue().splitlines() == ["MISMATCH cheat: balance $1,000.00 but ledger sums to $10.00"]


def test_check_ledger_exits_1_and_names_an_order_refunded_more_than_charged():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=order_id)
    # Written behind wallet_move's back, balance kept in step, as a buggy import might.
    LedgerEntry.objects.create(
        user=user, kind=Kind.REFUND, order_id=order_id, amount=Decimal("9"), balance_after=Decimal("15")
    )
    Wallet.objects.filter(user=user).update(balance=Decimal("15"))
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [f"OVER-REFUNDED order {order_id}: charged $4.00, refunded $9.00"]


def test_check_ledger_names_an_order_refunded_to_another_customer():
    alice, bob = funded_user("10", username="alice"), UserFactory(username="bob")
    order_id = OrderFactory(user=alice).pk
    wallet_move(user=alice, amount=Decimal("-5"), kind=Kind.CHARGE, order_id=order_id)
    # Bob gets alice's refund behind wallet_move's back, his balance kept in step.
    LedgerEntry.objects.create(
        user=bob, kind=Kind.REFUND, order_id=order_id, amount=Decimal("5"), balance_after=Decimal("5")
    )
    Wallet.objects.filter(user=bob).update(balance=Decimal("5"))
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [
        f"MISDIRECTED order {order_id}: a charge or refund belongs to another customer"
    ]


def test_check_ledger_names_a_row_whose_balance_after_is_wrong():
    user = funded_user("10", username="alice")
    entry = wallet_move(user=user, amount=Decimal("5"), kind=Kind.DEPOSIT, note="second")
    LedgerEntry.objects.filter(pk=entry.pk).update(balance_after=Decimal("999"))
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("check_ledger", stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [
        f"BROKEN ledger entry {entry.pk}: its balance after is not the sum up to it"
    ]
