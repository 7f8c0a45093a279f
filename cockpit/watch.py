"""What needs a person, read the same way by the dashboard, the sidebar's counts and the alerts: orders in
review, stuck orders, unmatched bank transfers, and each provider's balance and sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from catalog.models import Provider
from orders.models import FINAL, WATCHED, Order, Status
from payments.models import BankTransfer

from .figures import Reader

SPEND_DAYS = 7  # the days-left estimate runs at the average daily spend of the last week


def orders_in_review() -> int:
    return Order.objects.filter(status=Status.NEEDS_REVIEW).count()


def unmatched_transfers() -> int:
    return BankTransfer.objects.filter(status=BankTransfer.Status.WAITING).count()


def _stuck(now: datetime | None):
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ORDER_STUCK_AFTER)
    return Order.objects.filter(status__in=sorted(WATCHED), status_changed_at__lt=cutoff)


def stuck_orders(*, now: datetime | None = None, limit: int = 10) -> tuple[int, list[Order]]:
    """Open orders whose status has not changed for longer than ORDER_STUCK_AFTER: how many, and the
    oldest `limit` of them."""
    stuck = _stuck(now)
    oldest = list(
        stuck.select_related("user", "service", "provider").order_by("status_changed_at", "id")[:limit]
    )
    return stuck.count(), oldest


def open_orders_by_status() -> dict[str, int]:
    """Orders not final yet, by status (the status index keeps this cheap however many finished)."""
    open_statuses = [status for status in Status if status not in FINAL]
    rows = Order.objects.filter(status__in=open_statuses).values_list("status").annotate(count=Count("id"))
    return dict(rows.order_by())


@dataclass
class ProviderWatch:
    provider: Provider
    spend_per_day: Decimal | None  # the last week's average, provider currency
    days_left: Decimal | None  # at that spend; None without spend or balance

    @property
    def low(self) -> bool:
        """Below the operator's threshold, or fewer than LOW_BALANCE_DAYS left at the last week's spend."""
        balance = self.provider.balance
        if balance is None:
            return False
        if self.provider.low_balance is not None and balance < self.provider.low_balance:
            return True
        return self.days_left is not None and self.days_left < settings.LOW_BALANCE_DAYS

    @property
    def sync_failing(self) -> bool:
        return self.provider.last_sync_ok is False


def providers_watch(*, reader: Reader | None = None) -> list[ProviderWatch]:
    """Every active provider with its balance, what it lasts at the last week's spend, and its sync."""
    reader = reader or Reader(days=SPEND_DAYS)
    spend = reader.provider_spend(SPEND_DAYS)
    watched = []
    for provider in Provider.objects.filter(is_active=True).order_by("name"):
        # Our costs are in the panel currency; the balance is in the provider's.
        per_day = spend.get(provider.pk, Decimal(0)) / SPEND_DAYS / provider.exchange_rate
        per_day = per_day.quantize(Decimal("0.00001"))
        days_left = None
        if per_day > 0 and provider.balance is not None:
            days_left = max(provider.balance / per_day, Decimal(0)).quantize(Decimal("0.1"), ROUND_FLOOR)
        watched.append(ProviderWatch(provider, per_day if per_day > 0 else None, days_left))
    return watched
