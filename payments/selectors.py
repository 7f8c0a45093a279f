"""Reads for payments, scoped to one customer."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from reseller.accounts.models import User

from .models import Deposit, DepositStatus


def deposit_list(*, user: User) -> QuerySet[Deposit]:
    return Deposit.objects.filter(user=user).order_by("-created_at", "-id")


def deposit_get(*, user: User, public_id) -> Deposit:
    """One of the customer's deposits; 404 for anyone else's."""
    return get_object_or_404(Deposit, user=user, public_id=public_id)


def deposits_open(*, user: User) -> QuerySet[Deposit]:
    return deposit_list(user=user).filter(status=DepositStatus.PENDING)
