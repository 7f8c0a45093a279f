"""Reads for the wallet, always scoped to one user (except the ledger check, which is for operators)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.shortcuts import get_object_or_404
from django.utils import timezone

from reseller.accounts.models import User
from reseller.money import quantize_amount

from .models import FundsInstructions, LedgerEntry, Wallet

Kind = LedgerEntry.Kind
ZERO = Decimal("0.00000")


def wallet_balance(*, user: User) -> Decimal:
    balance = Wallet.objects.filter(user=user).values_list("balance", flat=True).first()
    return ZERO if balance is None else balance


def ledger_entry_list(*, user: User, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first; `kind` filters when it is one of the kinds."""
    entries = LedgerEntry.objects.filter(user=user).select_related("deposit").order_by("-created_at", "-id")
    if kind in Kind.values:
        entries = entries.filter(kind=kind)
    return entries


def ledger_entry_get(*, user: User, public_id) -> LedgerEntry:
    """One of the user's ledger rows; 404 for anyone else's, so their existence does not leak."""
    return get_object_or_404(LedgerEntry.objects.select_related("deposit"), user=user, public_id=public_id)


def month_start(now: datetime | None = None) -> datetime:
    """Midnight on the first of this month, in the active time zone (the customer's, in their requests)."""
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def wallet_spend_this_month(*, user: User, now: datetime | None = None) -> Decimal:
    """What the orders placed this month cost the customer: their charges less their refunds, whenever
    those came (a refund this month for last month's order is not this month's spending)."""
    total = LedgerEntry.objects.filter(
        user=user, kind__in=[Kind.CHARGE, Kind.REFUND], order__created_at__gte=month_start(now)
    ).aggregate(total=Sum("amount"))["total"]
    return quantize_amount(-total) if total else ZERO


def funds_instructions_text() -> str:
    return FundsInstructions.objects.order_by("pk").values_list("text", flat=True).first() or ""


@dataclass
class LedgerReport:
    wallets: int = 0
    entries: int = 0
    # (username, balance, sum of ledger)
    mismatched_balances: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    # (order_id, charged, refunded)
    over_refunded_orders: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    # orders whose charge or refund was written to another customer than the order's
    misdirected_orders: list[int] = field(default_factory=list)
    # ledger rows whose balance_after is not the running sum of that customer's rows up to them
    broken_chain_entries: list[int] = field(default_factory=list)
    # deposit and bonus rows that are not what their deposit credited, or went to another customer
    mismatched_deposit_entries: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.mismatched_balances
            or self.over_refunded_orders
            or self.misdirected_orders
            or self.broken_chain_entries
            or self.mismatched_deposit_entries
        )


def ledger_check() -> LedgerReport:
    """Every balance against the sum of its ledger, and every order's refunds against its charges."""
    report = LedgerReport(wallets=Wallet.objects.count(), entries=LedgerEntry.objects.count())
    balances = dict(Wallet.objects.values_list("user_id", "balance"))
    # Compared at the stored precision: SQLite sums decimals in floating point (0 can come back as 3e-21).
    sums = {
        user_id: quantize_amount(total)
        for user_id, total in LedgerEntry.objects.order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    }
    offenders = {
        user_id
        for user_id in balances.keys() | sums.keys()
        if balances.get(user_id, ZERO) != sums.get(user_id, ZERO)
    }
    for user_id, username in (
        User.objects.filter(pk__in=offenders).order_by("username").values_list("pk", "username")
    ):
        report.mismatched_balances.append((username, balances.get(user_id, ZERO), sums.get(user_id, ZERO)))
    orders = (
        LedgerEntry.objects.filter(order_id__isnull=False)
        .values("order_id")
        .annotate(
            charged=Sum("amount", filter=Q(kind=Kind.CHARGE)),
            refunded=Sum("amount", filter=Q(kind=Kind.REFUND)),
            refunds=Count("id", filter=Q(kind=Kind.REFUND)),
            misdirected=Count("id", filter=~Q(user_id=F("order__user_id"))),
        )
        .filter(Q(refunds__gt=0) | Q(misdirected__gt=0))
        .order_by("order_id")
    )
    for row in orders:
        charged = quantize_amount(-(row["charged"] or ZERO))
        refunded = quantize_amount(row["refunded"] or ZERO)
        if refunded > charged:
            report.over_refunded_orders.append((row["order_id"], charged, refunded))
        if row["misdirected"]:
            report.misdirected_orders.append(row["order_id"])
    report.broken_chain_entries = _broken_chain()
    report.mismatched_deposit_entries = _mismatched_deposit_entries()
    return report


def _mismatched_deposit_entries() -> list[int]:
    credits = LedgerEntry.objects.filter(deposit__isnull=False)
    wrong = (
        credits.filter(kind__in=[Kind.DEPOSIT, Kind.BONUS]).exclude(user_id=F("deposit__user_id"))
        | credits.filter(kind=Kind.DEPOSIT).exclude(amount=F("deposit__credited"))
        | credits.filter(kind=Kind.BONUS).exclude(amount=F("deposit__bonus"))
    )
    return sorted(wrong.values_list("id", flat=True).distinct())


def _broken_chain() -> list[int]:
    """Rows whose balance_after is not the sum of the customer's rows so far. One customer's rows are
    written under their wallet's lock, so their ids follow the order the balance moved in."""
    running = LedgerEntry.objects.annotate(
        running=Window(Sum("amount"), partition_by=[F("user_id")], order_by=[F("id").asc()])
    ).values_list("id", "balance_after", "running")
    return [pk for pk, after, total in running.iterator() if quantize_amount(total) != after]


def wallet_owed(*, user: User) -> Decimal:
    """What the customer owes after a reversed payment (0 nearly always)."""
    owed = Wallet.objects.filter(user=user).values_list("owed", flat=True).first()
    return ZERO if owed is None else owed
