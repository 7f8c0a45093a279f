"""Deposits nobody paid: closed as expired after DEPOSIT_EXPIRE_AFTER. A payment that still arrives later
credits anyway (payments/moves.py allows expired to paid)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .credit import deposit_close
from .models import Deposit, DepositStatus, Method


def deposits_expire(*, now=None) -> int:
    """Closes stale pending deposits; how many it closed."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.DEPOSIT_EXPIRE_AFTER)
    stale = Deposit.objects.filter(
        status=DepositStatus.PENDING, method__in=[Method.STRIPE, Method.PAYOS], created_at__lt=cutoff
    ).order_by("pk")
    return sum(
        deposit_close(deposit=deposit, to=DepositStatus.EXPIRED, reason="not paid in time")
        for deposit in stale.iterator()
    )
