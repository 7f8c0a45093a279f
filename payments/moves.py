"""The one writer of a deposit's status: a table of allowed moves and `deposit_move`, a conditional update
that writes the history row. Two notifications racing to move the same deposit: one wins, the other sees
that nothing moved. A bank transfer's status (waiting, then credited or set aside) is written here too.
"""

from django.db import transaction
from django.utils import timezone

from .models import BankTransfer, Deposit, DepositHistory, DepositStatus

S = DepositStatus

# A payment that arrives after its deposit expired or was canceled is still money received: it credits.
ALLOWED = {
    S.PENDING: {S.PAID, S.EXPIRED, S.CANCELED},
    S.EXPIRED: {S.PAID},
    S.CANCELED: {S.PAID},
    S.PAID: {S.REFUNDED, S.DISPUTED},
    S.REFUNDED: {S.REFUNDED, S.DISPUTED},  # a second partial refund; a dispute after a refund
    S.DISPUTED: {S.DISPUTED, S.PAID, S.REFUNDED},  # a dispute won gives the deposit back
}
CREDITABLE = frozenset(status for status, targets in ALLOWED.items() if S.PAID in targets)


def deposit_move(*, deposit: Deposit, to: str, reason: str = "", **fields) -> bool:
    """Moves the deposit to `to`, with `fields`, if the table allows it from the status it has: a
    compare-and-swap on the status, tried again (a few times) when someone else moved it meanwhile, so a
    payment landing while the expiry sweep closes its deposit still moves it on (expired to paid). True
    if it moved; the instance is updated then."""
    source = deposit.status
    now = timezone.now()
    for _attempt in range(3):
        if source is None or to not in ALLOWED.get(source, ()):
            return False
        with transaction.atomic():
            moved = Deposit.objects.filter(pk=deposit.pk, status=source).update(
                status=to, updated_at=now, **fields
            )
            if moved:
                DepositHistory.objects.create(
                    deposit_id=deposit.pk,
                    from_status=source,
                    to_status=to,
                    reason=reason[:500],
                    created_at=now,
                )
                break
        source = Deposit.objects.filter(pk=deposit.pk).values_list("status", flat=True).first()
    else:
        return False
    deposit.status = to
    deposit.updated_at = now
    for name, value in fields.items():
        setattr(deposit, name, value)
    return True


TRANSFER_ALLOWED = {
    BankTransfer.Status.WAITING: {BankTransfer.Status.CREDITED, BankTransfer.Status.IGNORED},
    BankTransfer.Status.IGNORED: {BankTransfer.Status.WAITING},  # set aside by mistake: back in the queue
}


def bank_transfer_move(*, transfer: BankTransfer, to: str, **fields) -> bool:
    """Moves a bank transfer along TRANSFER_ALLOWED (waiting to credited or set aside, set aside back to
    waiting), once: the conditional update lets one caller win. True if it moved."""
    sources = [source for source, targets in TRANSFER_ALLOWED.items() if to in targets]
    moved = BankTransfer.objects.filter(pk=transfer.pk, status__in=sources).update(status=to, **fields)
    if moved:
        transfer.status = to
        for name, value in fields.items():
            setattr(transfer, name, value)
    return bool(moved)
