"""`/metrics` in Prometheus's text format, read from the database at every scrape: the figures are the whole
panel's, whichever process did the work (web, workers, beat), in eight queries however many orders there
are."""

import math
from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Min, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from catalog.models import Outcome, UpstreamCallCount
from orders.models import POLLED_REFILL, Order, OrderCheck, Refill, Status
from payments.models import Deposit
from reseller.heartbeats import BEAT, POLL
from reseller.models import Heartbeat

SUBMISSION_WINDOW = timedelta(hours=1)
SUBMISSION_HORIZON = timedelta(days=1)  # orders older than this are not looked at (the created_at index)
SUBMISSION_SAMPLE = 1000
QUANTILES = (0.5, 0.95, 1.0)


class PanelCollector:
    def collect(self):
        now = timezone.now()
        yield orders_by_status()
        yield poll_lag(
            "reseller_poll_lag_seconds",
            "How late the most overdue order status check is (0: none is overdue).",
            OrderCheck.objects.all(),
            now,
        )
        yield poll_lag(
            "reseller_refill_poll_lag_seconds",
            "How late the most overdue refill status check is (0: none is overdue).",
            Refill.objects.filter(status__in=POLLED_REFILL).exclude(upstream_id=""),
            now,
        )
        yield from upstream_calls()
        yield from submission_latency(now)
        yield from deposits()
        yield heartbeat_ages(now)


def orders_by_status() -> GaugeMetricFamily:
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("id")))
    metric = GaugeMetricFamily("reseller_orders", "Orders by status.", labels=["status"])
    for status in Status:
        metric.add_metric([status.value], counts.get(status.value, 0))
    return metric


def poll_lag(name: str, documentation: str, polled, now) -> GaugeMetricFamily:
    oldest = polled.filter(next_check_at__lte=now).aggregate(oldest=Min("next_check_at"))["oldest"]
    return GaugeMetricFamily(
        name, documentation, value=0 if oldest is None else (now - oldest).total_seconds()
    )


def upstream_calls():
    labels = ["provider", "action", "outcome"]
    calls = CounterMetricFamily("reseller_upstream_calls", "Calls to providers' APIs.", labels=labels)
    seconds = CounterMetricFamily(
        "reseller_upstream_call_seconds", "Time spent in calls to providers' APIs.", labels=labels
    )
    errors = CounterMetricFamily(
        "reseller_upstream_errors",
        "Calls to providers' APIs that failed, by class: rejected (the provider said no), unreachable "
        "(never arrived), ambiguous (may have been processed).",
        labels=["provider", "class"],
    )
    by_class = defaultdict(int)
    rows = UpstreamCallCount.objects.order_by("provider__name", "action", "outcome")
    for provider, action, outcome, count, spent in rows.values_list(
        "provider__name", "action", "outcome", "calls", "seconds"
    ):
        calls.add_metric([provider, action, outcome], count)
        seconds.add_metric([provider, action, outcome], spent)
        if outcome != Outcome.OK:
            by_class[provider, outcome] += count
    for (provider, outcome), count in sorted(by_class.items()):
        errors.add_metric([provider, outcome], count)
    return calls, seconds, errors


def submission_latency(now):
    """From placing an order to a worker taking it for submission, over a bounded sample."""
    since = now - SUBMISSION_WINDOW
    recent = (
        Order.objects.filter(created_at__gte=since - SUBMISSION_HORIZON, submitted_at__gte=since)
        .order_by("-submitted_at")
        .values_list("created_at", "submitted_at")[:SUBMISSION_SAMPLE]
    )
    waits = sorted((submitted - created).total_seconds() for created, submitted in recent)
    latency = GaugeMetricFamily(
        "reseller_order_submission_seconds",
        f"Seconds from placing an order to its submission upstream (submitted_at - created_at), by quantile "
        f"(1: the longest), over the newest {SUBMISSION_SAMPLE} orders submitted in the last hour and placed "
        f"at most a day before, computed in Python; NaN when there were none.",
        labels=["quantile"],
    )
    for quantile in QUANTILES:
        latency.add_metric([str(quantile)], _quantile(waits, quantile))
    sample = GaugeMetricFamily(
        "reseller_order_submission_sample",
        "How many orders reseller_order_submission_seconds was computed over.",
        value=len(waits),
    )
    return latency, sample


def _quantile(values: list[float], quantile: float) -> float:
    """The nearest-rank quantile of sorted values."""
    if not values:
        return math.nan
    return values[max(math.ceil(quantile * len(values)) - 1, 0)]


def deposits():
    count = GaugeMetricFamily(
        "reseller_deposits_total",
        "Deposits by method and status now (a gauge: a deposit moves from pending to paid, expired, ...).",
        labels=["method", "status"],
    )
    rows = (
        Deposit.objects.order_by("method", "status").values_list("method", "status").annotate(n=Count("id"))
    )
    for method, status, n in rows:
        count.add_metric([method, status], n)
    amount = CounterMetricFamily(
        "reseller_deposits_amount",
        "Money paid in deposits (every deposit once paid, refunded later or not), in the deposit's currency.",
        labels=["method", "currency"],
    )
    paid = (
        Deposit.objects.filter(paid_at__isnull=False)
        .order_by("method", "currency")
        .values_list("method", "currency")
        .annotate(total=Sum(Coalesce("amount_paid", "amount")))
    )
    for method, currency, total in paid:
        amount.add_metric([method, currency], float(total))
    return count, amount


def heartbeat_ages(now) -> GaugeMetricFamily:
    metric = GaugeMetricFamily(
        "reseller_heartbeat_age_seconds",
        "Seconds since beat last ticked (beat) and an order polling sweep last finished (poll); +Inf: never.",
        labels=["name"],
    )
    beats = dict(Heartbeat.objects.values_list("name", "at"))
    for name in sorted({BEAT, POLL} | beats.keys()):
        at = beats.get(name)
        metric.add_metric([name], math.inf if at is None else (now - at).total_seconds())
    return metric


REGISTRY = CollectorRegistry(auto_describe=False)  # ours only: no process figures of one web worker
REGISTRY.register(PanelCollector())


def metrics_text() -> bytes:
    return generate_latest(REGISTRY)
