"""`wallet_move`, the one function that changes a balance, and the rules it keeps."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import wallet_balance
from reseller.wallet.services import (
    DuplicateRefund,
    InsufficientFunds,
    InvalidMovement,
    OrderingPaused,
    RefundExceedsCharge,
    wallet_move,
)
from tests.factories import OrderFactory, StaffFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


def ledger_sum(user):
    return sum((e.amount for e in LedgerEntry.objects.filter(user=user)), Decimal(0))


def test_a_user_made_with_create_user_has_a_wallet_with_zero_balance():
    user = get_user_model().objects.create_user("shell-made", password="x")

    assert Wallet.objects.get(user=user).balance == 0
    assert wallet_balance(user=user) == 0


def test_a_deposit_raises_the_balance_and_writes_one_ledger_row():
    user = UserFactory()
    staff = StaffFactory()

    entry = wallet_move(
        user=user, amount=Decimal("25.5"), kind=Kind.DEPOSIT, note="Bank ref 1", created_by=staff
    )

    assert wallet_balance(user=user) == Decimal("25.5")
    assert list(LedgerEntry.objects.filter(user=user)) == [entry]
    assert (entry.amount, entry.balance_after, entry.note, entry.created_by) == (
        Decimal("25.5"),
        Decimal("25.5"),
        "Bank ref 1",
        staff,
    )


def test_a_charge_takes_money_and_records_its_order_and_the_balance_after():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk

    entry = wallet_move(user=user, amount=Decimal("-3.25"), kind=Kind.CHARGE, order_id=order_id)

    entry.refresh_from_db()
    assert (entry.amount, entry.order_id, entry.balance_after) == (
        Decimal("-3.25"),
        order_id,
        Decimal("6.75"),
    )
    assert wallet_balance(user=user) == Decimal("6.75") == ledger_sum(user)


def test_a_charge_may_take_the_balance_to_exactly_zero():
    user = funded_user("10")

    wallet_move(user=user, amount=Decimal("-10"), kind=Kind.CHARGE, order_id=OrderFactory(user=user).pk)

    assert wallet_balance(user=user) == 0


def test_a_charge_beyond_the_balance_is_refused_with_the_balance_and_changes_nothing():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk

    with pytest.raises(InsufficientFunds) as refused:
        wallet_move(user=user, amount=Decimal("-10.01"), kind=Kind.CHARGE, order_id=order_id)

    assert str(refused.value) == "Insufficient funds: the balance is $10.00 and this needs $10.01."
    assert wallet_balance(user=user) == Decimal("10")
    assert LedgerEntry.objects.filter(user=user).count() == 1


def test_refused_moves_inside_a_larger_transaction_leave_it_usable_and_write_nothing():
    """The wallet takes no savepoint of its own in the caller's transaction: every refusal comes before
    its first write."""
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk

    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            wallet_move(user=user, amount=Decimal("-10.01"), kind=Kind.CHARGE, order_id=order_id)
        Wallet.objects.filter(user=user).update(owed=Decimal("1"))
        with pytest.raises(OrderingPaused):
            wallet_move(user=user, amount=Decimal("-1"), kind=Kind.CHARGE, order_id=order_id)
        wallet_move(user=user, amount=Decimal("-1"), kind=Kind.ADJUSTMENT)  # owing pauses orders only

    assert wallet_balance(user=user) == Decimal("9") == ledger_sum(user)
    assert LedgerEntry.objects.filter(user=user).count() == 2


def test_an_order_is_refunded_at_most_once():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=order_id)
    wallet_move(user=user, amount=Decimal("4"), kind=Kind.REFUND, order_id=order_id)

    with pytest.raises(DuplicateRefund, match=f"Order {order_id} has already been refunded"):
        wallet_move(user=user, amount=Decimal("1"), kind=Kind.REFUND, order_id=order_id)

    assert LedgerEntry.objects.filter(kind=Kind.REFUND, order_id=order_id).count() == 1
    assert wallet_balance(user=user) == Decimal("10") == ledger_sum(user)


def test_a_duplicate_refund_inside_a_larger_transaction_leaves_that_transaction_usable():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=order_id)
    wallet_move(user=user, amount=Decimal("4"), kind=Kind.REFUND, order_id=order_id)

    with transaction.atomic():
        with pytest.raises(DuplicateRefund):
            wallet_move(user=user, amount=Decimal("4"), kind=Kind.REFUND, order_id=order_id)
        wallet_move(user=user, amount=Decimal("1"), kind=Kind.DEPOSIT)

    assert wallet_balance(user=user) == Decimal("11")


def test_the_database_itself_refuses_a_second_refund_row_for_an_order():
    user = UserFactory()
    order_id = OrderFactory(user=user).pk
    row = dict(
        user=user, kind=Kind.REFUND, order_id=order_id, amount=Decimal("1"), balance_after=Decimal("1")
    )
    LedgerEntry.objects.create(**row)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(**row)


def test_the_database_itself_refuses_a_negative_balance():
    user = UserFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user=user).update(balance=Decimal("-1"))


def test_a_refund_larger_than_the_order_charges_is_refused():
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk
    wallet_move(user=user, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=order_id)

    with pytest.raises(RefundExceedsCharge, match=re.escape(f"Order {order_id} was charged $4.00")):
        wallet_move(user=user, amount=Decimal("4.00001"), kind=Kind.REFUND, order_id=order_id)

    assert wallet_balance(user=user) == Decimal("6")


def test_a_customer_cannot_be_refunded_for_another_customers_order():
    alice, charlie = funded_user("10"), funded_user("10")
    alices_order_id = OrderFactory(user=alice).pk
    wallet_move(user=alice, amount=Decimal("-4"), kind=Kind.CHARGE, order_id=alices_order_id)

    with pytest.raises(RefundExceedsCharge):
        wallet_move(user=charlie, amount=Decimal("4"), kind=Kind.REFUND, order_id=alices_order_id)

    assert wallet_balance(user=charlie) == Decimal("10")


@pytest.mark.parametrize(
    ("amount", "kind", "with_order", "message"),
    [
        (Decimal("0"), Kind.DEPOSIT, False, "must not be zero"),
        (Decimal("0.000004"), Kind.DEPOSIT, False, "must not be zero"),  # rounds to zero
        (Decimal("-1"), Kind.DEPOSIT, False, "deposit must be a positive amount"),
        (Decimal("1"), Kind.CHARGE, True, "charge must be a negative amount"),
        (Decimal("-1"), Kind.CHARGE, False, "needs the order"),
        (Decimal("1"), Kind.REFUND, False, "needs the order"),
        (Decimal("1"), "gift", False, "Unknown kind"),
    ],
)
def test_bad_movements_are_refused_clearly_and_change_nothing(amount, kind, with_order, message):
    user = funded_user("10")
    order_id = OrderFactory(user=user).pk if with_order else None

    with pytest.raises(InvalidMovement, match=message):
        wallet_move(user=user, amount=amount, kind=kind, order_id=order_id)

    assert wallet_balance(user=user) == Decimal("10")
    assert LedgerEntry.objects.filter(user=user).count() == 1


def test_a_float_amount_is_refused():
    user = UserFactory()

    with pytest.raises(TypeError):
        wallet_move(user=user, amount=1.5, kind=Kind.DEPOSIT)

    assert not LedgerEntry.objects.filter(user=user).exists()


def test_amounts_are_stored_rounded_to_five_places():
    user = UserFactory()

    entry = wallet_move(user=user, amount=Decimal("1.0000051"), kind=Kind.DEPOSIT)

    entry.refresh_from_db()
    assert entry.amount == Decimal("1.00001")
    assert wallet_balance(user=user) == Decimal("1.00001")


def test_adjustments_may_go_either_way_but_not_below_zero():
    user = funded_user("5")

    wallet_move(user=user, amount=Decimal("-2"), kind=Kind.ADJUSTMENT, note="Correction")
    wallet_move(user=user, amount=Decimal("1"), kind=Kind.ADJUSTMENT, note="Goodwill")
    with pytest.raises(InsufficientFunds):
        wallet_move(user=user, amount=Decimal("-4.5"), kind=Kind.ADJUSTMENT, note="Too much")

    assert wallet_balance(user=user) == Decimal("4") == ledger_sum(user)


def test_a_user_whose_wallet_row_is_missing_gets_one_on_the_first_move():
    user = UserFactory()
    Wallet.objects.filter(user=user).delete()

    wallet_move(user=user, amount=Decimal("3"), kind=Kind.DEPOSIT)

    assert Wallet.objects.get(user=user).balance == Decimal("3")


def test_a_customer_with_money_history_cannot_be_deleted():
    from django.db.models import ProtectedError

    user = funded_user("1")

    with pytest.raises(ProtectedError):
        user.delete()
