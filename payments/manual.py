"""Staff credits: a deposit of method "manual", paid at once, with the staff member and their note."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from reseller.accounts.models import User
from reseller.money import quantize_amount
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import InvalidMovement, wallet_credit

from .amounts import Quote
from .credit import deposit_create, deposit_credit
from .models import Deposit, Method


def deposit_manual(
    *, user: User, amount: Decimal, note: str, created_by: User | None, request_token: str = ""
) -> Deposit:
    """Credits `amount` (panel currency, positive) to the customer as a staff deposit. With a
    `request_token` (the admin form's, one per form shown) a second submission returns the first deposit."""
    request_token = (request_token or "")[:64]
    if request_token and (
        done := Deposit.objects.filter(method=Method.MANUAL, gateway_id=request_token).first()
    ):
        return done
    note = (note or "").strip()
    if not note:
        raise InvalidMovement("A note is required: say why the balance changes.")
    amount = quantize_amount(amount)
    if amount <= 0:
        raise InvalidMovement("A deposit must be a positive amount.")
    one = Decimal(1)
    quote = Quote(amount, settings.PANEL_CURRENCY, one, amount, Decimal(0), amount, Decimal(0))
    try:
        with transaction.atomic():  # the deposit and its credit together (a refused credit leaves nothing)
            deposit = deposit_create(
                user=user,
                method=Method.MANUAL,
                quote=quote,
                note=note[:500],
                created_by=created_by,
                gateway_id=request_token,
            )
            deposit_credit(
                deposit=deposit,
                txn_id=f"manual-{deposit.public_id}",
                amount_paid=amount,
                reason=f"credited by {created_by or 'a command'}",
            )
    except IntegrityError:
        if request_token:  # the same form, submitted twice at once: the other request credited it
            return Deposit.objects.get(method=Method.MANUAL, gateway_id=request_token)
        raise
    deposit.refresh_from_db()
    return deposit


def staff_credit(
    *,
    user: User,
    amount: Decimal,
    note: str,
    created_by: User | None,
    kind: str | None = None,
    request_token: str = "",
) -> LedgerEntry:
    """A staff credit or debit (admin's form, `manage.py credit`): a credit is a manual deposit unless
    called an adjustment; a debit is an adjustment (wallet_credit). Returns the ledger row written (or the
    first one, for a form submitted twice)."""
    amount = quantize_amount(amount)
    if amount > 0 and kind in (None, "", LedgerEntry.Kind.DEPOSIT):
        deposit = deposit_manual(
            user=user, amount=amount, note=note, created_by=created_by, request_token=request_token
        )
        return deposit.ledger_entries.get(kind=LedgerEntry.Kind.DEPOSIT)
    return wallet_credit(
        user=user,
        amount=amount,
        note=note,
        created_by=created_by,
        kind=kind or None,
        request_token=request_token,
    )
