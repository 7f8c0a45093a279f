"""A deposit's money: made pending with its figures snapshotted, credited exactly once, closed, reversed.

Exactly once, whatever the number, order or concurrency of notifications: the credit is a conditional move
of the deposit (pending, expired or canceled to paid: one caller wins) and its ledger rows, in one
transaction, under two constraints (one deposit per (method, gateway payment id); one deposit and one bonus
row per deposit in the ledger).
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from reseller.accounts.models import User
from reseller.accounts.notifications import FUNDS_CREDITED, customer_notify, staff_notify
from reseller.money import format_money, quantize_amount
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import Move, wallet_give_back, wallet_moves, wallet_reverse, wallet_settle_owed

from .amounts import Quote
from .models import Deposit, DepositStatus, Method
from .moves import CREDITABLE, deposit_move

log = logging.getLogger(__name__)
Kind = LedgerEntry.Kind
S = DepositStatus


DISPUTE_CLOSED = frozenset({"won", "lost", "warning_closed"})  # Stripe's closed dispute statuses


class AmountMismatch(Exception):
    """The gateway says another amount was paid than the deposit asked for: nothing is credited."""


def deposit_create(
    *, user: User, method: str, quote: Quote, note: str = "", created_by: User | None = None, **fields
) -> Deposit:
    """A pending deposit with the quote's figures (rate, fee, bonus) snapshotted."""
    return Deposit.objects.create(
        user=user,
        method=method,
        currency=quote.currency,
        amount=quote.amount,
        rate=quote.rate,
        fee=quote.fee,
        credited=quote.credited,
        bonus=quote.bonus,
        note=note,
        created_by=created_by,
        **fields,
    )


def deposit_credit(*, deposit: Deposit, txn_id: str, amount_paid: Decimal, reason: str) -> bool:
    """Credits the deposit (its amount and its bonus, as two ledger rows) if nobody did yet. True if this
    call credited it. Raises AmountMismatch, changing nothing, when `amount_paid` is not the deposit's."""
    amount_paid = quantize_amount(amount_paid)
    if amount_paid != deposit.amount:
        raise AmountMismatch(f"paid {amount_paid} {deposit.currency}, asked {deposit.amount}")
    if deposit.status not in CREDITABLE:
        return False
    try:
        with transaction.atomic():
            paid_at = timezone.now()
            if not deposit_move(
                deposit=deposit,
                to=S.PAID,
                reason=reason,
                gateway_txn_id=txn_id[:255],
                amount_paid=amount_paid,
                paid_at=paid_at,
            ):
                return False
            # A staff credit's note says why (the customer reads it); a gateway's deposit is named.
            note = deposit.note if deposit.method == Method.MANUAL else f"Deposit {deposit.pk}"
            moves = [
                Move(
                    user=deposit.user,
                    amount=amount,
                    kind=kind,
                    note=note,
                    deposit_id=deposit.pk,
                    created_by=deposit.created_by,
                )
                for kind, amount in ((Kind.DEPOSIT, deposit.credited), (Kind.BONUS, deposit.bonus))
                if amount > 0
            ]
            entries = wallet_moves(moves=moves)
            settled = wallet_settle_owed(
                user=deposit.user,
                deposit_id=deposit.pk,
                note=f"Owed after a reversed payment, from deposit {deposit.pk}",
            )
    except IntegrityError:  # this payment is credited already (a racing notification, another deposit)
        log.info("deposit %s: payment %s was credited already", deposit.pk, txn_id)
        deposit.refresh_from_db()
        return False
    if entries:
        balance = entries[-1].balance_after - settled
        shown = deposit.note if deposit.method == Method.MANUAL else ""  # staff's words, not our label
        context = {"amount": deposit.total, "balance": balance, "note": shown}
        customer_notify(user_id=deposit.user_id, kind=FUNDS_CREDITED, context=context)
    log.info("deposit %s credited (%s)", deposit.pk, reason)
    return True


def deposit_close(*, deposit: Deposit, to: str, reason: str) -> bool:
    """Closes a pending deposit as expired or canceled. True if it moved."""
    if to not in (S.EXPIRED, S.CANCELED) or deposit.status != S.PENDING:
        return False
    return deposit_move(deposit=deposit, to=to, reason=reason)


def deposit_reverse(
    *,
    deposit_id: int,
    reason: str,
    refunded: Decimal | None = None,
    disputed: Decimal | None = None,
    dispute_status: str | None = None,
) -> Decimal:
    """Brings the money a deposit left on the balance in line with what the gateway says was refunded and
    is in dispute (cumulative figures, in the deposit's currency; None keeps the one known): the share
    refunded or disputed of what it credited (bonus included) is taken back, or given back when a dispute
    is won. What the balance cannot cover is owed, pauses ordering, and staff are told. Returns the
    change (positive: taken back). A deposit not credited yet is left alone.

    Gateways deliver events out of order and more than once: a refund never shrinks (an older, smaller
    figure arriving late changes nothing), and once a dispute is closed (won or lost) its older events
    change nothing."""
    with transaction.atomic():
        deposit = Deposit.objects.select_for_update(of=("self",)).select_related("user").get(pk=deposit_id)
        if deposit.status not in (S.PAID, S.REFUNDED, S.DISPUTED):
            return Decimal(0)
        refunded = max(deposit.gateway_refunded, quantize_amount(refunded or 0))
        if deposit.gateway_dispute_status in DISPUTE_CLOSED:
            disputed, dispute_status = None, None  # closed for good: a late event of it is old news
        disputed = deposit.gateway_disputed if disputed is None else quantize_amount(disputed)
        dispute_status = dispute_status or deposit.gateway_dispute_status
        paid = deposit.amount_paid or deposit.amount
        share = min(Decimal(1), (refunded + disputed) / paid)
        target = quantize_amount(deposit.total * share)
        delta = target - deposit.reversed
        status = S.DISPUTED if disputed > 0 else S.REFUNDED if refunded > 0 else S.PAID
        figures = {
            "gateway_refunded": refunded,
            "gateway_disputed": disputed,
            "gateway_dispute_status": dispute_status[:32],
        }
        if delta == 0 and status == deposit.status:
            Deposit.objects.filter(pk=deposit.pk).update(**figures)
            return Decimal(0)
        note = f"Deposit {deposit.pk}: {reason}"
        if delta > 0:
            taken = wallet_reverse(user=deposit.user, amount=delta, deposit_id=deposit.pk, note=note)
            if taken.owed > 0 or disputed > 0:
                staff_notify(
                    subject=f"Payment reversed: deposit {deposit.pk} of {deposit.user}",
                    body=(
                        f"{reason}. {format_money(delta)} was taken back from {deposit.user}'s deposit "
                        f"{deposit.pk}: {format_money(taken.taken)} from the balance"
                        + (
                            f", {format_money(taken.owed)} is owed and ordering is paused for them."
                            if taken.owed > 0
                            else "."
                        )
                    ),
                )
        elif delta < 0:
            wallet_give_back(user=deposit.user, amount=-delta, deposit_id=deposit.pk, note=note)
        if not deposit_move(deposit=deposit, to=status, reason=reason, reversed=target, **figures):
            raise RuntimeError(f"deposit {deposit.pk} cannot move from {deposit.status} to {status}")
    return delta
