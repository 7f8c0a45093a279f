"""The admin's home: the business's figures (cockpit/figures.py), what needs a person (cockpit/watch.py) and
the providers' state, for django-unfold's DASHBOARD_CALLBACK. A constant number of queries, whatever the
number of orders."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from catalog.models import Service
from orders.models import FINAL, Status
from reseller.money import format_money

from .figures import Figures, PanelFigures, Reader, rollup, zone
from .models import Dimension
from .watch import SPEND_DAYS, open_orders_by_status, providers_watch, stuck_orders

PERIODS = [("Today", 1), ("7 days", 7), ("30 days", 30)]
CHART_DAYS = (30, 90)
TOP = 10
PERMISSIONS = ("orders.view_order", "wallet.view_ledgerentry")


@dataclass
class Period:
    label: str
    days: int
    figures: PanelFigures
    active_customers: int

    @property
    def revenue(self) -> str:
        return format_money(self.figures.revenue)

    @property
    def cost(self) -> str:
        return format_money(self.figures.cost)

    @property
    def profit(self) -> str:
        return format_money(self.figures.profit)

    @property
    def margin(self) -> str:
        margin = self.figures.margin
        return "-" if margin is None else f"{margin}%"

    @property
    def deposited(self) -> str:
        return format_money(self.figures.deposited)

    @property
    def bonus_and_reversed(self) -> str:
        """Bonuses given on deposits, and payments taken back (card refunds, disputes)."""
        return f"{format_money(self.figures.bonus)} / {format_money(self.figures.reversed)}"


def _chart(reader: Reader, days: int) -> tuple[str, str]:
    """Chart.js data (unfold's chart components): revenue, cost and profit per day, and orders per day."""
    rows = reader.days(days)
    labels = [day.strftime("%d %b") for day, _figures in rows]

    def series(label, values, **style):
        return {"label": label, "data": values, **style}

    money = {
        "labels": labels,
        "datasets": [
            series("Revenue", [float(f.revenue) for _d, f in rows], borderColor="#2563eb"),
            series("Cost", [float(f.cost) for _d, f in rows], borderColor="#f97316"),
            series("Profit", [float(f.profit) for _d, f in rows], borderColor="#16a34a"),
        ],
    }
    orders = {
        "labels": labels,
        "datasets": [series("Orders placed", [f.orders for _d, f in rows], backgroundColor="#6366f1")],
    }
    return json.dumps(money), json.dumps(orders)


def _ranked(rows: list[tuple[int, Figures]], names: dict[int, str], url_name: str) -> list[dict]:
    return [
        {
            "name": names.get(key, f"#{key}"),
            "url": reverse(url_name, args=[key]),
            "orders": figures.orders,
            "revenue": format_money(figures.revenue),
            "profit": format_money(figures.profit),
            "margin": "-" if figures.margin is None else f"{figures.margin}%",
        }
        for key, figures in rows
    ]


def dashboard(*, chart_days: int = 30, now=None) -> dict:
    """Everything the dashboard shows, as template context."""
    rollup(now=now)  # the closed days not rolled up yet, if beat has not done it (normally none)
    reader = Reader(days=max(CHART_DAYS), now=now)
    periods = [
        Period(label, days, reader.totals(days), reader.active_customers(days)) for label, days in PERIODS
    ]
    money_chart, orders_chart = _chart(reader, chart_days)

    top_services = reader.top(Dimension.SERVICE, 30, limit=TOP)
    top_customers = reader.top(Dimension.CUSTOMER, 30, limit=TOP)
    service_names = {
        service.pk: service.display_name
        for service in Service.objects.filter(pk__in=[key for key, _f in top_services]).only(
            "name", "upstream_name"
        )
    }
    customer_names = dict(
        get_user_model()
        .objects.filter(pk__in=[key for key, _f in top_customers])
        .values_list("pk", "username")
    )

    finished = reader.totals(30).finished
    open_now = open_orders_by_status()
    statuses = [
        {"status": status, "label": status.label, "count": open_now.get(status, 0), "final": False}
        for status in Status
        if status not in FINAL
    ] + [
        {"status": status, "label": status.label, "count": finished.get(status, 0), "final": True}
        for status in Status
        if status in FINAL
    ]

    providers = []
    for watched in providers_watch(reader=reader):
        provider = watched.provider
        providers.append(
            {
                "provider": provider,
                "url": reverse("admin:catalog_provider_change", args=[provider.pk]),
                "balance": "-"
                if provider.balance is None
                else format_money(provider.balance, provider.currency),
                "checked_at": provider.balance_checked_at,
                "spend_per_day": "-"
                if watched.spend_per_day is None
                else format_money(watched.spend_per_day, provider.currency),
                "days_left": watched.days_left,
                "low": watched.low,
                "sync_failing": watched.sync_failing,
            }
        )
    stuck_count, stuck = stuck_orders(now=now)
    return {
        "periods": periods,
        "chart_days": chart_days,
        "chart_choices": CHART_DAYS,
        "money_chart": money_chart,
        "orders_chart": orders_chart,
        "statuses": statuses,
        "in_review": open_now.get(Status.NEEDS_REVIEW, 0),
        "top_services": _ranked(top_services, service_names, "admin:catalog_service_change"),
        "top_customers": _ranked(top_customers, customer_names, "admin:accounts_user_change"),
        "providers": providers,
        "spend_days": SPEND_DAYS,
        "stuck_count": stuck_count,
        "stuck": stuck,
        "live_from": reader.live_from,
        "ledger_check_url": reverse("admin:wallet_ledgerentry_check"),
        "as_of": timezone.localtime(now or timezone.now(), zone()),
        "time_zone": zone().key,
    }


def dashboard_callback(request, context: dict) -> dict:
    """unfold's DASHBOARD_CALLBACK: the figures for staff who may read orders and the ledger."""
    if not all(request.user.has_perm(perm) for perm in PERMISSIONS):
        return context
    try:
        chart_days = int(request.GET.get("days", CHART_DAYS[0]))
    except ValueError:
        chart_days = CHART_DAYS[0]
    if chart_days not in CHART_DAYS:
        chart_days = CHART_DAYS[0]
    context.update(dashboard(chart_days=chart_days), cockpit=True)
    return context
