"""The business's figures: revenue (order charges net of refunds, from the ledger), upstream cost, profit and
margin; deposits; customers; orders placed and finished. Per day, for the whole panel and per service,
customer and provider.

How a day is counted, so that a day once over never changes:
- revenue: the ledger's order charges and refunds of that day (the ledger is append-only);
- cost: the expected cost of the orders placed that day, plus, for the orders that reached a final status
  that day, what they cost in the end (`Order.final_cost`) minus that expectation. Over an order's life the
  two add up to its final cost exactly;
- deposits: the ledger's deposit and bonus rows of that day; reversals: its payment reversals.

Closed days are computed once into `DayFigures` (the rollup, by beat and on demand); the days since the last
one closed are computed live from the same function, so the dashboard is exact to the ledger at every
moment and its query count does not grow with the number of orders.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import Order
from reseller.wallet.models import LedgerEntry

from .models import DayFigures, Dimension, SpanFigures

Kind = LedgerEntry.Kind
ZERO = Decimal(0)
MONEY_OUT = DecimalField(max_digits=20, decimal_places=5)
# A day is rolled up this long after it ended, so that a transaction begun before midnight has committed.
GRACE = timedelta(minutes=15)
KEEP_DAYS = 90  # the longest chart; the rollup keeps at least this many days filled


QUANTUM = Decimal("0.00001")


def _money(value) -> Decimal:
    """A sum as stored: SQLite adds decimals in floating point, so each sum is brought back to 5 places
    (PostgreSQL's sums are exact already; this keeps them as they are)."""
    return value.quantize(QUANTUM) if value else ZERO


@dataclass
class Figures:
    """Money and orders of one day or period, for one key (the panel, a service, a customer, a provider)."""

    charged: Decimal = ZERO
    refunded: Decimal = ZERO
    cost: Decimal = ZERO
    orders: int = 0

    @property
    def revenue(self) -> Decimal:
        return self.charged - self.refunded

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        """Profit as a percentage of revenue, to one place; None without revenue."""
        if not self.revenue:
            return None
        return (self.profit * 100 / self.revenue).quantize(Decimal("0.1"))

    def add(self, other: Figures) -> None:
        self.charged += other.charged
        self.refunded += other.refunded
        self.cost += other.cost
        self.orders += other.orders


@dataclass
class PanelFigures(Figures):
    deposited: Decimal = ZERO
    deposits: int = 0
    bonus: Decimal = ZERO
    reversed: Decimal = ZERO
    new_customers: int = 0
    finished: Counter = field(default_factory=Counter)

    def add(self, other: Figures) -> None:
        super().add(other)
        if isinstance(other, PanelFigures):
            self.deposited += other.deposited
            self.deposits += other.deposits
            self.bonus += other.bonus
            self.reversed += other.reversed
            self.new_customers += other.new_customers
            self.finished.update(other.finished)


@dataclass
class Breakdown:
    """What `compute` finds for a span of time: the panel's figures and each key's."""

    panel: PanelFigures = field(default_factory=PanelFigures)
    service: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))
    customer: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))
    provider: dict[int, Figures] = field(default_factory=lambda: defaultdict(Figures))

    def keyed(self, dimension: str) -> dict[int, Figures]:
        return getattr(self, dimension)

    def _pair(self, user_id, service_id):
        """The figures a row adds to: its customer's and its service's (the panel's and the providers'
        are summed from the services' once the rows are read, in `_totals`)."""
        return self.customer[user_id], self.service[service_id]

    def _totals(self, providers: dict[int, int]) -> None:
        for service_id, figures in self.service.items():
            self.panel.add(figures)
            self.provider[providers[service_id]].add(figures)


# Days in the panel's time zone -----------------------------------------------------------------------------


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone())


def today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), zone()).date()


def last_closed_day(now: datetime | None = None) -> date:
    """The latest day that may be rolled up: over for longer than GRACE."""
    return today((now or timezone.now()) - GRACE) - timedelta(days=1)


# Computing -------------------------------------------------------------------------------------------------


def compute(start: datetime, end: datetime) -> Breakdown:
    """The figures of [start, end), straight from the ledger and the orders: five grouped queries."""
    result = Breakdown()
    providers: dict[int, int] = {}  # service -> provider, as the rows say
    in_span = {"created_at__gte": start, "created_at__lt": end}
    # Revenue: order charges (negative in the ledger) and refunds
    revenue = (
        LedgerEntry.objects.filter(kind__in=[Kind.CHARGE, Kind.REFUND], **in_span)
        .values_list("user_id", "order__service_id", "order__provider_id", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for user_id, service_id, provider_id, kind, total in revenue:
        amount = _money(total)
        providers[service_id] = provider_id
        for figures in result._pair(user_id, service_id):
            if kind == Kind.CHARGE:
                figures.charged -= amount
            else:
                figures.refunded += amount
    # Orders placed, at their expected cost
    placed = (
        Order.objects.filter(**in_span)
        .values_list("user_id", "service_id", "provider_id")
        .annotate(count=Count("id"), cost=Sum("cost"))
        .order_by()
    )
    for user_id, service_id, provider_id, count, cost in placed:
        cost = _money(cost)
        providers[service_id] = provider_id
        for figures in result._pair(user_id, service_id):
            figures.orders += count
            figures.cost += cost
    # Orders finished: their cost in the end, less what was expected
    correction = Coalesce("final_cost", "cost", output_field=MONEY_OUT) - F("cost")
    finished = (
        Order.objects.filter(finished_at__gte=start, finished_at__lt=end)
        .values_list("user_id", "service_id", "provider_id", "status")
        .annotate(count=Count("id"), correction=Sum(correction, output_field=MONEY_OUT))
        .order_by()
    )
    for user_id, service_id, provider_id, status, count, amount in finished:
        result.panel.finished[status] += count
        providers[service_id] = provider_id
        if amount:
            amount = _money(amount)
            for figures in result._pair(user_id, service_id):
                figures.cost += amount
    result._totals(providers)
    # Money in, and taken back
    money_in = (
        LedgerEntry.objects.filter(kind__in=[Kind.DEPOSIT, Kind.BONUS, Kind.REVERSAL], **in_span)
        .values_list("kind")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by()
    )
    for kind, total, count in money_in:
        if kind == Kind.DEPOSIT:
            result.panel.deposited, result.panel.deposits = _money(total), count
        elif kind == Kind.BONUS:
            result.panel.bonus = _money(total)
        else:
            result.panel.reversed = -_money(total)
    result.panel.new_customers = (
        get_user_model().objects.filter(date_joined__gte=start, date_joined__lt=end, is_staff=False).count()
    )
    return result


# The rollup ------------------------------------------------------------------------------------------------


def rollup_day(day: date) -> None:
    """Computes one closed day into DayFigures, replacing what was there (a rebuild)."""
    found = compute(day_start(day), day_start(day + timedelta(days=1)))
    panel = found.panel
    rows = [
        DayFigures(
            day=day,
            dimension=Dimension.PANEL,
            key=0,
            charged=panel.charged,
            refunded=panel.refunded,
            cost=panel.cost,
            orders=panel.orders,
            deposited=panel.deposited,
            deposits=panel.deposits,
            bonus=panel.bonus,
            reversed=panel.reversed,
            new_customers=panel.new_customers,
            finished=dict(sorted(panel.finished.items())),
        )
    ]
    for dimension in (Dimension.SERVICE, Dimension.CUSTOMER, Dimension.PROVIDER):
        rows += [
            DayFigures(
                day=day,
                dimension=dimension,
                key=key,
                charged=figures.charged,
                refunded=figures.refunded,
                cost=figures.cost,
                orders=figures.orders,
            )
            for key, figures in found.keyed(dimension).items()
        ]
    with transaction.atomic():
        DayFigures.objects.filter(day=day).delete()
        DayFigures.objects.bulk_create(rows, batch_size=2000)
        SpanFigures.objects.filter(first__lte=day, last__gte=day).delete()  # sums of the day as it was


def rollup(*, days: int = KEEP_DAYS, now: datetime | None = None) -> list[date]:
    """Rolls up every closed day of the last `days` not rolled up yet; returns those it computed. Cheap
    when nothing is missing (one query), so the dashboard calls it too."""
    last = last_closed_day(now)
    first = last - timedelta(days=days - 1)
    done = set(
        DayFigures.objects.filter(dimension=Dimension.PANEL, day__range=(first, last)).values_list(
            "day", flat=True
        )
    )
    missing = [first + timedelta(days=n) for n in range(days) if first + timedelta(days=n) not in done]
    for day in missing:
        # Another process rolling up the same day at the same moment writes the same rows.
        with contextlib.suppress(IntegrityError):
            rollup_day(day)
    return missing


# Reading: rolled-up days plus the live rest -----------------------------------------------------------------


class Reader:
    """The dashboard's reads over the last `days` days, with a constant number of queries: one for the
    panel's days, one live computation, and grouped reads of the keyed rows on demand."""

    def __init__(self, *, days: int = KEEP_DAYS, now: datetime | None = None):
        self.now = now or timezone.now()
        self.today = today(self.now)
        self.first = self.today - timedelta(days=days - 1)
        self.daily: dict[date, PanelFigures] = {}
        rows = DayFigures.objects.filter(dimension=Dimension.PANEL, day__gte=self.first, day__lt=self.today)
        for row in rows:
            self.daily[row.day] = PanelFigures(
                charged=row.charged,
                refunded=row.refunded,
                cost=row.cost,
                orders=row.orders,
                deposited=row.deposited,
                deposits=row.deposits,
                bonus=row.bonus,
                reversed=row.reversed,
                new_customers=row.new_customers,
                finished=Counter(row.finished),
            )
        # Live: each day after the last contiguous rolled-up one, up to now (today; yesterday too during
        # GRACE). Computed day by day, so that each day's figures stay its own.
        self.live_from = self.today
        while self.live_from > self.first and self.live_from - timedelta(days=1) not in self.daily:
            self.live_from -= timedelta(days=1)
        self.live_days: dict[date, Breakdown] = {}
        for day in _dates(self.live_from, self.today):
            found = compute(day_start(day), min(day_start(day + timedelta(days=1)), self.now))
            self.daily[day] = found.panel
            self.live_days[day] = found
        self.live = self.live_since(self.live_from)

    def live_since(self, first: date) -> Breakdown:
        """The live days from `first` on, added up (a window that starts today leaves yesterday out)."""
        merged = Breakdown()
        for day, found in self.live_days.items():
            if day < first:
                continue
            merged.panel.add(found.panel)
            for dimension in (Dimension.SERVICE, Dimension.CUSTOMER, Dimension.PROVIDER):
                for key, figures in found.keyed(dimension).items():
                    merged.keyed(dimension)[key].add(figures)
        return merged

    def days(self, count: int) -> list[tuple[date, PanelFigures]]:
        """The last `count` days, oldest first, each day's panel figures (an empty day has zeros)."""
        first = self.today - timedelta(days=count - 1)
        return [(day, self.daily.get(day, PanelFigures())) for day in _dates(first, self.today)]

    def totals(self, count: int) -> PanelFigures:
        """The panel's figures over the last `count` days (1: today)."""
        total = PanelFigures()
        for _day, figures in self.days(count):
            total.add(figures)
        return total

    def _since(self, count: int) -> date:
        return self.today - timedelta(days=count - 1)

    def spans(self, dimension: str, count: int):
        """The rolled-up part of the last `count` days per key (the days before `live_from`), summed once
        (`span_sums`): a queryset of SpanFigures."""
        first, last = self._since(count), self.live_from - timedelta(days=1)
        if last < first:
            return SpanFigures.objects.none()
        span_sums(first, last)
        return SpanFigures.objects.filter(first=first, last=last, dimension=dimension)

    def _seen_live(self, dimension: str, count: int) -> Q:
        """The keys with rows in the live span, as subqueries: the database picks them itself (a list of
        thousands of ids would cost more to send than to find)."""
        start, end = day_start(max(self.live_from, self._since(count))), self.now
        column = {"service": "service_id", "customer": "user_id", "provider": "provider_id"}[dimension]
        ledger = LedgerEntry.objects.filter(
            kind__in=[Kind.CHARGE, Kind.REFUND], created_at__gte=start, created_at__lt=end
        ).values("user_id" if column == "user_id" else f"order__{column}")
        placed = Order.objects.filter(created_at__gte=start, created_at__lt=end).values(column)
        finished = Order.objects.filter(finished_at__gte=start, finished_at__lt=end).values(column)
        return Q(key__in=ledger) | Q(key__in=placed) | Q(key__in=finished)

    def _rolled(self, dimension: str, count: int) -> dict[int, Figures]:
        """The rolled-up figures of the keys seen live over the last `count` days; read once."""
        cache = self.__dict__.setdefault("_rolled_cache", {})
        if (dimension, count) not in cache:
            rows = self.spans(dimension, count).filter(self._seen_live(dimension, count))
            cache[dimension, count] = {
                key: Figures(charged, refunded, cost, orders)
                for key, charged, refunded, cost, orders in rows.values_list(
                    "key", "charged", "refunded", "cost", "orders"
                )
            }
        return cache[dimension, count]

    def top(self, dimension: str, count: int, *, limit: int = 10) -> list[tuple[int, Figures]]:
        """The `limit` keys with the most profit over the last `count` days, exactly: the rolled-up top
        (limit + keys seen live) holds every key that can be in the true top, since only the keys seen live
        can have moved; those are read in full too. Two indexed queries, whatever the number of keys."""
        live = self.live_since(self._since(count)).keyed(dimension)
        # Keys with neither orders nor charges are never ranked, so never candidates either
        ranked_rows = self.spans(dimension, count).filter(Q(orders__gt=0) | ~Q(charged=0))
        best = ranked_rows.order_by("-profit", "key")[: limit + len(live)]
        totals = {
            key: Figures(charged, refunded, cost, orders)
            for key, charged, refunded, cost, orders in best.values_list(
                "key", "charged", "refunded", "cost", "orders"
            )
        }
        for key, figures in self._rolled(dimension, count).items():
            totals[key] = Figures(figures.charged, figures.refunded, figures.cost, figures.orders)
        for key, figures in live.items():
            totals.setdefault(key, Figures()).add(figures)
        ranked = sorted(totals.items(), key=lambda item: (-item[1].profit, item[0]))
        return [(key, figures) for key, figures in ranked if figures.orders or figures.charged][:limit]

    def active_customers(self, count: int) -> int:
        """Customers who placed an order over the last `count` days: distinct across days (those of the
        rolled-up days, plus those seen live who are not among them)."""
        live = self.live_since(self._since(count)).customer
        rolled = self._rolled(Dimension.CUSTOMER, count)
        before = self.spans(Dimension.CUSTOMER, count).filter(orders__gt=0).count()
        return before + sum(
            1
            for key, figures in live.items()
            if figures.orders and not (key in rolled and rolled[key].orders)
        )

    def provider_spend(self, count: int) -> dict[int, Decimal]:
        """What each provider cost over the last `count` days (panel currency)."""
        spend = dict(self.spans(Dimension.PROVIDER, count).values_list("key", "cost"))
        for key, figures in self.live_since(self._since(count)).provider.items():
            spend[key] = spend.get(key, ZERO) + figures.cost
        return spend


def span_sums(first: date, last: date) -> None:
    """Sums the rolled-up days `first` to `last` per key into SpanFigures, unless done already: one
    grouped read of DayFigures and one write, once a day per window shown."""
    if SpanFigures.objects.filter(first=first, last=last, dimension=Dimension.PANEL).exists():
        return
    sums = (
        DayFigures.objects.filter(day__range=(first, last))
        .exclude(dimension=Dimension.PANEL)
        .values_list("dimension", "key")
        .annotate(charged=Sum("charged"), refunded=Sum("refunded"), cost=Sum("cost"), orders=Sum("orders"))
        .order_by()
    )
    rows = [SpanFigures(first=first, last=last, dimension=Dimension.PANEL, key=0)]
    for dimension, key, charged, refunded, cost, orders in sums:
        charged, refunded, cost = _money(charged), _money(refunded), _money(cost)
        rows.append(
            SpanFigures(
                first=first,
                last=last,
                dimension=dimension,
                key=key,
                charged=charged,
                refunded=refunded,
                cost=cost,
                orders=orders or 0,
                profit=charged - refunded - cost,
            )
        )
    try:
        with transaction.atomic():
            SpanFigures.objects.filter(last__lt=last - timedelta(days=KEEP_DAYS)).delete()
            SpanFigures.objects.bulk_create(rows, batch_size=5000)
    except IntegrityError:
        pass  # another dashboard summed the same span at the same moment: the same rows


def _dates(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
