"""Writes for the wallet. `wallet_move` is the one function that changes a balance."""

from contextlib import nullcontext
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from reseller.accounts.models import User
from reseller.accounts.notifications import FUNDS_CREDITED, customer_notify
from reseller.db import RowReader, bulk_update, insert_instances
from reseller.money import MAX_ABS_AMOUNT, format_money, quantize_amount

from .models import LedgerEntry, Wallet

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


class OrderingPaused(WalletError):
    """The customer owes money after a payment was taken back: no order is charged until it is paid."""

    def __init__(self, *, owed: Decimal):
        self.owed = owed
        super().__init__(
            f"Ordering is paused: {format_money(owed)} is owed after a payment was reversed. Add funds to "
            "pay it, or contact support."
        )


class InvalidMovement(WalletError, ValueError):
    """Bad input: a zero amount, a sign that does not fit the kind, a charge or refund without an order."""


def wallet_create_for_user(*, user: User) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user)
    return wallet


_KINDS = frozenset(Kind.values)  # (Kind.values builds its list anew at every call)


def _check_movement(*, amount: Decimal, kind: str, order_id: int | None, deposit_id: int | None) -> None:
    if kind not in _KINDS:
        raise InvalidMovement(f"Unknown kind of movement: {kind!r}.")
    if amount == 0:
        raise InvalidMovement("The amount must not be zero.")
    if kind in (Kind.DEPOSIT, Kind.REFUND, Kind.BONUS, Kind.COMMISSION) and amount < 0:
        raise InvalidMovement(f"A {Kind(kind).label.lower()} must be a positive amount.")
    if kind == Kind.CHARGE and amount > 0:
        raise InvalidMovement("An order charge must be a negative amount.")
    if kind in (Kind.CHARGE, Kind.REFUND) and order_id is None:
        raise InvalidMovement(f"An {Kind(kind).label.lower()} needs the order it belongs to.")
    if kind in (Kind.BONUS, Kind.REVERSAL) and deposit_id is None:
        raise InvalidMovement(f"A {Kind(kind).label.lower()} needs the deposit it belongs to.")


@dataclass(frozen=True)
class Move:
    """One movement for `wallet_moves`: the same arguments as `wallet_move`."""

    user: User
    amount: Decimal
    kind: str
    note: str = ""
    order_id: int | None = None
    created_by: User | None = None
    request_token: str = ""
    deposit_id: int | None = None


def wallet_move(
    *,
    user: User,
    amount: Decimal,
    kind: str,
    note: str = "",
    order_id: int | None = None,
    created_by: User | None = None,
    request_token: str = "",
    deposit_id: int | None = None,
) -> LedgerEntry:
    """Adds `amount` (signed: negative takes money) to the user's balance and writes its ledger row, in one
    transaction, with the wallet row locked so concurrent moves queue up instead of losing updates.

    Raises InsufficientFunds when the balance would go below zero, DuplicateRefund for a second refund of
    an order, RefundExceedsCharge for a refund larger than the order's charges, OrderingPaused for an order
    charge while the customer owes money, InvalidMovement for bad input; in every case nothing changes.
    The amount is rounded to 5 places by `money.quantize_amount`.
    """
    move = Move(
        user=user,
        amount=amount,
        kind=kind,
        note=note,
        order_id=order_id,
        created_by=created_by,
        request_token=request_token,
        deposit_id=deposit_id,
    )
    return wallet_moves(moves=[move])[0]


def wallet_moves(*, moves: list[Move]) -> list[LedgerEntry]:
    """The one function that changes balances: `wallet_move` for many movements at once, all or nothing,
    in a constant number of queries (the polling sweep refunds hundreds of orders per batch).

    Wallets are locked in user order, so concurrent callers cannot deadlock each other. One movement that
    is not a refund (an order's charge, a deposit) is one conditional update of its wallet and the insert
    of its row; should the update refuse, the general path below says why.
    """
    moves = [replace(move, amount=quantize_amount(move.amount)) for move in moves]
    for move in moves:
        _check_movement(
            amount=move.amount, kind=move.kind, order_id=move.order_id, deposit_id=move.deposit_id
        )
    if not moves:
        return []
    user_ids = sorted({move.user.pk for move in moves})
    refunds = [move for move in moves if move.kind == Kind.REFUND]
    with _transaction():
        if len(moves) == 1 and not refunds and (entry := _move_one(moves[0])) is not None:
            return [entry]
        wallets = _wallets_locked(user_ids)
        _check_refunds(refunds)
        entries = []
        for move in moves:
            wallet = wallets[move.user.pk]
            if move.kind == Kind.CHARGE and wallet.owed > 0:
                raise OrderingPaused(owed=wallet.owed)
            new_balance = wallet.balance + move.amount
            if new_balance < 0:
                raise InsufficientFunds(balance=wallet.balance, amount=move.amount)
            if new_balance >= MAX_ABS_AMOUNT:
                raise InvalidMovement("The balance would be too large.")
            wallet.balance = new_balance
            entries.append(_entry(move, balance_after=new_balance))
        try:
            # A savepoint only where the constraint may refuse: a refund raced by another one.
            with transaction.atomic() if refunds else nullcontext():
                insert_instances(entries)
        except IntegrityError:
            # A refund committed by someone else since _check_refunds looked: the constraint caught it.
            refunded = _refunded_orders([m.order_id for m in moves if m.kind == Kind.REFUND])
            if refunded:
                raise DuplicateRefund(order_id=min(refunded)) from None
            raise
        now = timezone.now()
        for wallet in wallets.values():
            wallet.updated_at = now
        bulk_update(list(wallets.values()), ["balance", "updated_at"])
    return entries


def _entry(move: Move, *, balance_after: Decimal) -> LedgerEntry:
    return LedgerEntry(
        user_id=move.user.pk,
        amount=move.amount,
        kind=move.kind,
        order_id=move.order_id,
        deposit_id=move.deposit_id,
        note=move.note,
        created_by=move.created_by,
        balance_after=balance_after,
        request_token=move.request_token,
    )


def _move_one(move: Move) -> LedgerEntry | None:
    """The movement as one conditional update of the wallet (it takes the row's lock; a concurrent move
    waits, then the conditions are checked again on the balance it left), then its ledger row. None, and
    nothing written, when the wallet refuses it or does not exist yet. The statement is written out: it is
    the whole of an order's charge, and the ORM took longer to build it than the database to run it."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table = quote(Wallet._meta.db_table)
    user, balance, owed, updated_at = (
        quote(Wallet._meta.get_field(name).column) for name in ("user", "balance", "owed", "updated_at")
    )
    paused = f" AND {owed} <= 0" if move.kind == Kind.CHARGE else ""
    read = RowReader(Wallet, ["balance"], using=connection.alias)
    money = Wallet._meta.get_field("balance")
    amount, limit = (money.get_db_prep_save(value, connection) for value in (move.amount, MAX_ABS_AMOUNT))
    now = Wallet._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {balance} = {balance} + %s, {updated_at} = %s "  # noqa: S608 (model meta)
            f"WHERE {user} = %s AND {balance} + %s >= 0 AND {balance} + %s < %s{paused} RETURNING {balance}",
            [amount, now, move.user.pk, amount, amount, limit],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    entry = _entry(move, balance_after=read(row)[0])
    insert_instances([entry])
    return entry


def _transaction():
    """A transaction for one call of `wallet_moves`: the caller's when there is one, without a savepoint
    (every refusal is raised before the first write, so the caller's transaction stays usable; a refused
    write is a database error, which ends it anyway), else a new one."""
    return nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic()


def _wallets_locked(user_ids: list[int]) -> dict[int, Wallet]:
    """The users' wallets, locked in user order; the missing ones are made first (a user's first move)."""

    def locked(ids):
        return Wallet.objects.select_for_update().filter(user_id__in=ids).order_by("user_id")

    wallets = {wallet.user_id: wallet for wallet in locked(user_ids)}
    if missing := [pk for pk in user_ids if pk not in wallets]:
        Wallet.objects.bulk_create([Wallet(user_id=pk) for pk in missing], ignore_conflicts=True)
        wallets.update((wallet.user_id, wallet) for wallet in locked(missing))
    return wallets


def _refunded_orders(order_ids: list[int]) -> set[int]:
    return set(
        LedgerEntry.objects.filter(kind=Kind.REFUND, order_id__among=order_ids).values_list(
            "order_id", flat=True
        )
    )


def _check_refunds(refunds: list[Move]) -> None:
    """At most one refund per order, never more than what the customer was charged for it."""
    if not refunds:
        return
    order_ids = [move.order_id for move in refunds]
    seen = set()
    for order_id in order_ids:
        if order_id in seen:
            raise DuplicateRefund(order_id=order_id)
        seen.add(order_id)
    refunded = _refunded_orders(order_ids)
    if refunded:
        raise DuplicateRefund(order_id=min(refunded))
    charged = {
        (row["user_id"], row["order_id"]): -row["total"]
        for row in LedgerEntry.objects.filter(kind=Kind.CHARGE, order_id__among=order_ids)
        .values("user_id", "order_id")
        .annotate(total=Sum("amount"))
    }
    for move in refunds:
        limit = charged.get((move.user.pk, move.order_id), Decimal(0))
        if move.amount > limit:
            raise RefundExceedsCharge(order_id=move.order_id, charged=limit, amount=move.amount)


def wallet_credit(
    *,
    user: User,
    amount: Decimal,
    note: str,
    created_by: User | None,
    kind: str | None = None,
    request_token: str = "",
) -> LedgerEntry:
    """A staff credit (positive) or debit (negative), from admin or `manage.py credit`. A note is required
    so the ledger says why; the kind is a deposit for a credit and an adjustment for a debit unless given.

    With a `request_token` (the admin form's, one per form shown) a second submission of the same form
    returns the first row instead of moving the money again."""
    request_token = (request_token or "")[:64]
    if request_token and (done := LedgerEntry.objects.filter(request_token=request_token).first()):
        return done
    note = (note or "").strip()
    if not note:
        raise InvalidMovement("A note is required: say why the balance changes.")
    amount = quantize_amount(amount)
    if kind is None:
        kind = Kind.DEPOSIT if amount > 0 else Kind.ADJUSTMENT
    if kind not in (Kind.DEPOSIT, Kind.ADJUSTMENT):
        raise InvalidMovement("Staff can only make deposits and adjustments.")
    try:
        entry = wallet_move(
            user=user, amount=amount, kind=kind, note=note, created_by=created_by, request_token=request_token
        )
    except IntegrityError:
        if request_token:  # the same form, submitted twice at once: the other request moved the money
            return LedgerEntry.objects.get(request_token=request_token)
        raise
    if entry.amount > 0:  # the customer hears of a credit (once: a resubmitted form returned above)
        context = {"amount": entry.amount, "balance": entry.balance_after, "note": entry.note}
        customer_notify(user_id=user.pk, kind=FUNDS_CREDITED, context=context)
    return entry


@dataclass(frozen=True)
class Reversal:
    """What `wallet_reverse` did: `taken` from the balance, `owed` added to what the customer owes."""

    taken: Decimal
    owed: Decimal


def _locked_wallet(user: User) -> Wallet:
    Wallet.objects.get_or_create(user=user)
    return Wallet.objects.select_for_update().get(user=user)


def wallet_reverse(*, user: User, amount: Decimal, deposit_id: int, note: str) -> Reversal:
    """Takes back `amount` of a deposit the gateway reversed (a refund, a dispute): from the balance as far
    as it goes (never below zero), the rest recorded as owed, which pauses the customer's ordering."""
    amount = quantize_amount(amount)
    if amount <= 0:
        raise InvalidMovement("A reversal takes a positive amount.")
    with transaction.atomic():
        wallet = _locked_wallet(user)
        taken = min(wallet.balance, amount)
        if taken > 0:
            wallet_move(user=user, amount=-taken, kind=Kind.REVERSAL, deposit_id=deposit_id, note=note)
        owed = amount - taken
        if owed > 0:
            Wallet.objects.filter(pk=wallet.pk).update(owed=F("owed") + owed)
    return Reversal(taken=taken, owed=owed)


def wallet_give_back(*, user: User, amount: Decimal, deposit_id: int, note: str) -> Decimal:
    """Undoes `wallet_reverse` for `amount` (a dispute won): what is owed is forgiven first, the rest goes
    back to the balance. Returns what was credited."""
    amount = quantize_amount(amount)
    if amount <= 0:
        raise InvalidMovement("Giving back takes a positive amount.")
    with transaction.atomic():
        wallet = _locked_wallet(user)
        forgiven = min(wallet.owed, amount)
        if forgiven > 0:
            Wallet.objects.filter(pk=wallet.pk).update(owed=F("owed") - forgiven)
        credited = amount - forgiven
        if credited > 0:
            wallet_move(user=user, amount=credited, kind=Kind.REVERSAL, deposit_id=deposit_id, note=note)
    return credited


def wallet_settle_owed(*, user: User, deposit_id: int, note: str) -> Decimal:
    """Pays what the customer owes from their balance as far as it goes (after a deposit). Returns what was
    taken."""
    with transaction.atomic():
        wallet = _locked_wallet(user)
        taken = min(wallet.balance, wallet.owed)
        if taken > 0:
            wallet_move(user=user, amount=-taken, kind=Kind.REVERSAL, deposit_id=deposit_id, note=note)
            Wallet.objects.filter(pk=wallet.pk).update(owed=F("owed") - taken)
    return taken
