"""Writes for the wallet. `wallet_move` is the one function that changes a balance."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from reseller.accounts.models import User

from .models import LedgerEntry, Wallet
from .money import MAX_ABS_AMOUNT, format_money, quantize_amount

Kind = LedgerEntry.Kind


class WalletError(Exception):
    """A money movement was refused; nothing changed. The message is fit to show to a person."""


class InsufficientFunds(WalletError):
    def __init__(self, *, balance: Decimal, amount: Decimal):
        self.balance = balance
        self.amount = amount
        super().__init__(
            f"Insufficient funds: the balance is {format_money(balance)} and this needs "
            f"{format_money(-amount)}."
        )


class DuplicateRefund(WalletError):
    def __init__(self, *, order_id: int):
        self.order_id = order_id
        super().__init__(f"Order {order_id} has already been refunded.")


class RefundExceedsCharge(WalletError):
    def __init__(self, *, order_id: int, charged: Decimal, amount: Decimal):
        self.order_id = order_id
        super().__init__(
            f"Order {order_id} was charged {format_money(charged)}; a refund of {format_money(amount)} "
            "would exceed it."
        )


class InvalidMovement(WalletError, ValueError):
    """Bad input: a zero amount, a sign that does not fit the kind, a charge or refund without an order."""


def wallet_create_for_user(*, user: User) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


def _check_movement(*, amount: Decimal, kind: str, order_id: int | None) -> None:
    if kind not in Kind.values:
        raise InvalidMovement(f"Unknown kind of movement: {kind!r}.")
    if amount == 0:
        raise InvalidMovement("The amount must not be zero.")
    if kind in (Kind.DEPOSIT, Kind.REFUND) and amount < 0:
        raise InvalidMovement(f"A {Kind(kind).label.lower()} must be a positive amount.")
    if kind == Kind.CHARGE and amount > 0:
        raise InvalidMovement("An order charge must be a negative amount.")
    if kind in (Kind.CHARGE, Kind.REFUND) and order_id is None:
        raise InvalidMovement(f"An {Kind(kind).label.lower()} needs the order it belongs to.")


def wallet_move(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    note: str = "",
    order_id: int | None = None,
    created_by: User | None = None,
) -> LedgerEntry:
    """Adds `amount` (signed: negative takes money) to the user's balance and writes its ledger row, in one
    transaction, with the wallet row locked so concurrent moves queue up instead of losing updates.

    Raises InsufficientFunds when the balance would go below zero, DuplicateRefund for a second refund of
    an order, RefundExceedsCharge for a refund larger than the order's charges, InvalidMovement for bad
    input; in every case nothing changes. The amount is rounded to 5 places by `money.quantize_amount`.
    """
    amount = quantize_amount(amount)
    _check_movement(amount=amount, kind=kind, order_id=order_id)
    with transaction.atomic():
        wallet_create_for_user(user=user)
        wallet = Wallet.objects.select_for_update().get(user=user)
        new_balance = wallet.balance + amount
        if new_balance < 0:
            raise InsufficientFunds(balance=wallet.balance, amount=amount)
        if new_balance >= MAX_ABS_AMOUNT:
            raise InvalidMovement("The balance would be too large.")
        if kind == Kind.REFUND:
            charged = -(
                LedgerEntry.objects.filter(user=user, order_id=order_id, kind=Kind.CHARGE).aggregate(
                    total=Sum("amount")
                )["total"]
                or Decimal(0)
            )
            if amount > charged:
                raise RefundExceedsCharge(order_id=order_id, charged=charged, amount=amount)
        try:
            with transaction.atomic():
                entry = LedgerEntry.objects.create(
                    user=user,
                    amount=amount,
                    kind=kind,
                    order_id=order_id,
                    note=note,
                    created_by=created_by,
                    balance_after=new_balance,
                )
        except IntegrityError:
            if (
                kind == Kind.REFUND
                and LedgerEntry.objects.filter(kind=Kind.REFUND, order_id=order_id).exists()
            ):
                raise DuplicateRefund(order_id=order_id) from None
            raise
        wallet.balance = new_balance
        wallet.save(update_fields=["balance", "updated_at"])
    return entry


def wallet_credit(
    *, user: User, amount: Decimal, note: str, created_by: User | None, kind: str | None = None
) -> LedgerEntry:
    """A staff credit (positive) or debit (negative), from admin or `manage.py credit`. A note is required
    so the ledger says why; the kind is a deposit for a credit and an adjustment for a debit unless given."""
    note = (note or "").strip()
    if not note:
        raise InvalidMovement("A note is required: say why the balance changes.")
    amount = quantize_amount(amount)
    if kind is None:
        kind = Kind.DEPOSIT if amount > 0 else Kind.ADJUSTMENT
    if kind not in (Kind.DEPOSIT, Kind.ADJUSTMENT):
        raise InvalidMovement("Staff can only make deposits and adjustments.")
    return wallet_move(user=user, amount=amount, kind=kind, note=note, created_by=created_by)
