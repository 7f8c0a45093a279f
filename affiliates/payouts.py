"""Payouts: the one writer of a payout's status and history, and the only caller of the wallet here.

A request claims every available commission of the affiliate at once (a conditional update of those whose
payout is still null, with the affiliate row locked, so two requests never claim the same one), then either
pays at once or, with AFFILIATE_PAYOUT_APPROVAL on, waits for staff. Paying is the compare-and-swap
requested -> paid and the ledger row in one transaction, under the ledger's unique request token: a double
click, two requests or two staff approving at once pay one row.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reseller.accounts.models import User
from reseller.money import format_money, format_money_exact
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import wallet_move

from .models import TRANSITIONS, Affiliate, Commission, Payout, PayoutEvent, PayoutStatus

ZERO = Decimal(0)


class PayoutRefused(Exception):
    """A payout request refused; nothing changed. The message is fit to show to the customer."""


def payout_move(*, payout: Payout, to: str, by: User | None = None, reason: str = "", **fields) -> bool:
    """Moves the payout to `to` if the table allows it from the status it was loaded with: a
    compare-and-swap, so of two callers one wins. True if this call moved it (the instance is updated)."""
    source = payout.status
    if to not in TRANSITIONS.get(source, ()):
        return False
    with transaction.atomic():
        moved = Payout.objects.filter(pk=payout.pk, status=source).update(status=to, **fields)
        if not moved:
            return False
        PayoutEvent.objects.create(payout=payout, from_status=source, to_status=to, by=by, note=reason[:500])
    payout.status = to
    for name, value in fields.items():
        setattr(payout, name, value)
    return True


def _pay(payout: Payout, *, by: User | None) -> bool:
    """requested -> paid and its ledger row, together; False (nothing paid) if someone else moved it."""
    with transaction.atomic():
        if not payout_move(
            payout=payout, to=PayoutStatus.PAID, by=by, decided_at=timezone.now(), decided_by=by
        ):
            return False
        with translation.override("en"):  # stored: one language whatever the request's
            note = f"Affiliate earnings, payout {payout.pk}"
        wallet_move(
            user=payout.affiliate.user,
            amount=payout.amount,
            kind=LedgerEntry.Kind.COMMISSION,
            note=note,
            created_by=by,
            request_token=payout.request_token,
        )
    return True


def payout_request(*, user: User) -> Payout:
    """Moves every available commission of the user's to a new payout: paid at once, or left for staff to
    approve when AFFILIATE_PAYOUT_APPROVAL is on. Raises PayoutRefused below AFFILIATE_PAYOUT_MINIMUM."""
    minimum = settings.AFFILIATE_PAYOUT_MINIMUM
    affiliate = Affiliate.objects.for_user(user)
    with transaction.atomic():
        # NO KEY UPDATE: a poller inserting a commission (a key share on this row) is not held up by it.
        affiliate = (
            Affiliate.objects.select_for_update(no_key=True).select_related("user").get(pk=affiliate.pk)
        )
        available = Commission.objects.filter(affiliate=affiliate, payout__isnull=True)
        total = available.aggregate(total=Sum("amount"))["total"] or ZERO
        if total <= 0:
            raise PayoutRefused(_("You have no earnings to move yet."))
        if total < minimum:
            raise PayoutRefused(
                _("You can move your earnings once they reach %(minimum)s; you have %(available)s.")
                # exact: $9.9995 is short of $10.00, which a rounded figure would hide
                % {"minimum": format_money(minimum), "available": format_money_exact(total)}
            )
        payout = Payout.objects.create(affiliate=affiliate, amount=total, status=PayoutStatus.REQUESTED)
        PayoutEvent.objects.create(payout=payout, to_status=PayoutStatus.REQUESTED, by=user)
        available.update(payout=payout)
        # A commission earned since the sum was taken was claimed too: the payout is what it claimed.
        claimed = Commission.objects.filter(payout=payout).aggregate(total=Sum("amount"))["total"]
        if not claimed:  # another request claimed them first (the lock makes this a last guard)
            raise PayoutRefused(_("You have no earnings to move yet."))
        if claimed != payout.amount:
            Payout.objects.filter(pk=payout.pk).update(amount=claimed)
            payout.amount = claimed
        if not settings.AFFILIATE_PAYOUT_APPROVAL:
            _pay(payout, by=None)
    return payout


def payout_approve(*, payout: Payout, by: User) -> bool:
    """Staff approve a requested payout: it is paid to the balance, once. False if it was not requested
    any more (approved or rejected meanwhile)."""
    return _pay(payout, by=by)


def payout_reject(*, payout: Payout, by: User, note: str = "") -> bool:
    """Staff reject a requested payout: its commissions are available again. False if it had moved."""
    with transaction.atomic():
        moved = payout_move(
            payout=payout,
            to=PayoutStatus.REJECTED,
            by=by,
            reason=note,
            decided_at=timezone.now(),
            decided_by=by,
            note=note[:500],
        )
        if moved:
            Commission.objects.filter(payout=payout).update(payout=None)
    return moved
