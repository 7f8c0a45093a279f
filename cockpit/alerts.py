"""Alerts: the conditions that need a person (cockpit/watch.py), emailed to staff and shown on every admin
page while they fire.

Beat runs `alerts_check` every ALERT_CHECK_EVERY. Each condition has one `Alert` row, by key, and staff get:
- when it starts firing, one email, unless one about it went out less than ALERT_EVERY ago (a condition
  that flaps is told once an hour, not at every flap);
- while it lasts, a reminder once ALERT_EVERY has passed since the last email;
- when it stops, one "Recovered" email, only if they were told of this firing.
A provider not called since the last check is judged neither way: its alert stays as it was, unreminded.
A change is decided again on the row locked (select_for_update; on SQLite the immediate transaction holds
the write lock), so two checks at once never both email, and the email leaves after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from catalog.models import Outcome, UpstreamCallCount
from orders.models import Status
from payments.models import BankTransfer
from reseller.accounts.notifications import staff_notify
from reseller.money import format_money

from .models import Alert
from .watch import ProviderWatch, orders_in_review, providers_watch, stuck_orders, unmatched_transfers

# The keys: one per condition, and one per condition and active provider (`low_balance:3`).
IN_REVIEW = "in_review"
STUCK = "stuck"
UNMATCHED_TRANSFERS = "unmatched_transfers"
LOW_BALANCE = "low_balance"
SYNC_FAILING = "sync_failing"
PROVIDER_ERRORS = "provider_errors"
PER_PROVIDER = (LOW_BALANCE, SYNC_FAILING, PROVIDER_ERRORS)

# What an email says
FIRING = "firing"
REMINDER = "reminder"
RECOVERED = "recovered"

STUCK_LISTED = 5  # the oldest stuck orders an email lists


@dataclass(frozen=True)
class Condition:
    """One condition as this check finds it."""

    key: str
    title: str  # what it is, the same while it lasts: "Orders in review", "Low balance at Acme"
    firing: bool | None  # None: nothing to judge by this time (a provider not called since the last check)
    summary: str  # its figures in a few words: the email's subject, the banner
    detail: str = ""
    calls: dict[str, int] | None = None  # provider errors: the calls so far by outcome (see _errors_judged)


@dataclass(frozen=True)
class Sent:
    key: str
    kind: str  # FIRING, REMINDER or RECOVERED
    subject: str


@dataclass(frozen=True)
class Notice:
    """A firing alert as the admin's banner shows it."""

    key: str
    title: str
    summary: str
    link: str
    since: datetime | None


def alerts_check(*, now: datetime | None = None) -> list[Sent]:
    """Looks at every condition, records what changed and emails staff what they must hear; returns the
    emails sent (queued after commit)."""
    now = now or timezone.now()
    alerts = {alert.key: alert for alert in Alert.objects.all()}
    sent = []
    for condition in _conditions(now=now, alerts=alerts):
        alert = alerts.get(condition.key) or Alert(key=condition.key, title=condition.title)
        _, changes, _ = _decide(alert, condition, now)
        if changes and (email := _apply(condition, now)) is not None:
            sent.append(email)
    return sent


def firing_alerts() -> list[Notice]:
    """What fires now, the oldest first, in one query (the admin's banner)."""
    return [
        Notice(alert.key, alert.title, alert.detail.partition("\n")[0], alert_link(alert.key), alert.since)
        for alert in Alert.objects.filter(firing=True).order_by("since", "key")
    ]


def alert_link(key: str) -> str:
    """The admin page where the condition is dealt with (a path: emails put PANEL_URL in front)."""
    kind, _, provider_id = key.partition(":")
    if kind == IN_REVIEW:
        return reverse("admin:orders_order_changelist") + f"?status__exact={Status.NEEDS_REVIEW.value}"
    if kind == UNMATCHED_TRANSFERS:
        return (
            reverse("admin:payments_banktransfer_changelist")
            + f"?status__exact={BankTransfer.Status.WAITING.value}"
        )
    if kind in PER_PROVIDER and provider_id.isdigit():
        return reverse("admin:catalog_provider_change", args=[provider_id])
    return reverse("admin:index")  # the dashboard lists the stuck orders


# The conditions


def _conditions(*, now: datetime, alerts: dict[str, Alert]) -> list[Condition]:
    conditions = [_in_review(), _stuck(now), _unmatched_transfers()]
    watched = providers_watch()
    calls = _calls_by_provider()
    for watch in watched:
        conditions += [
            _low_balance(watch),
            _sync_failing(watch),
            _provider_errors(watch, calls.get(watch.provider.pk, {})),
        ]
    # A provider deactivated or deleted is no longer watched: what fired about it recovers.
    watched_keys = {condition.key for condition in conditions}
    for key, alert in alerts.items():
        if key.partition(":")[0] in PER_PROVIDER and key not in watched_keys:
            conditions.append(Condition(key, alert.title, False, "The provider is deactivated or deleted."))
    return conditions


def _orders(count: int) -> str:
    return "1 order" if count == 1 else f"{count} orders"


def _in_review() -> Condition:
    count = orders_in_review()
    if not count:
        return Condition(IN_REVIEW, "Orders in review", False, "No order waits in review.")
    return Condition(
        IN_REVIEW,
        "Orders in review",
        True,
        _orders(count),
        "An operator must decide each: resubmit it, set the provider's order id, or fail and refund it.",
    )


def _stuck(now: datetime) -> Condition:
    count, oldest = stuck_orders(now=now, limit=STUCK_LISTED)
    if not count:
        return Condition(STUCK, "Stuck orders", False, "No order is stuck.")
    hours = settings.ORDER_STUCK_AFTER / 3600
    lines = [
        f"#{order.pk} {order.get_status_display()} since {_when(order.status_changed_at)}: "
        f"{order.service} at {order.provider or 'no provider'}"
        for order in oldest
    ]
    if count > len(oldest):
        lines.append(f"... and {count - len(oldest)} more.")
    return Condition(
        STUCK,
        "Stuck orders",
        True,
        f"{_orders(count)} without a status change for over {hours:g} h",
        "The oldest:\n" + "\n".join(lines),
    )


def _unmatched_transfers() -> Condition:
    count = unmatched_transfers()
    title = "Unmatched bank transfers"
    if not count:
        return Condition(UNMATCHED_TRANSFERS, title, False, "No bank transfer waits for an operator.")
    return Condition(
        UNMATCHED_TRANSFERS,
        title,
        True,
        "1 transfer to assign" if count == 1 else f"{count} transfers to assign",
        "Their memo matched no customer: an operator assigns each to its customer, or ignores it.",
    )


def _low_balance(watch: ProviderWatch) -> Condition:
    provider = watch.provider
    key, title = f"{LOW_BALANCE}:{provider.pk}", f"Low balance at {provider.name}"
    balance = "unknown" if provider.balance is None else format_money(provider.balance, provider.currency)
    if not watch.low:
        return Condition(key, title, False, f"The balance is {balance}.")
    checked = f", checked {_when(provider.balance_checked_at)}" if provider.balance_checked_at else ""
    lines = [f"Balance: {balance}{checked}."]
    if provider.low_balance is not None:
        lines.append(f"Alert below: {format_money(provider.low_balance, provider.currency)}.")
    if watch.spend_per_day is not None:
        lines.append(f"Spend per day (last 7 days): {format_money(watch.spend_per_day, provider.currency)}.")
    summary = f"{balance} left"
    if watch.days_left is not None:
        summary += f", {watch.days_left} days at the last week's spend"
    return Condition(key, title, True, summary, "\n".join(lines))


def _sync_failing(watch: ProviderWatch) -> Condition:
    provider = watch.provider
    key, title = f"{SYNC_FAILING}:{provider.pk}", f"Sync failing at {provider.name}"
    if not watch.sync_failing:
        return Condition(key, title, False, "The last sync of its services succeeded.")
    return Condition(
        key,
        title,
        True,
        "the last sync failed" + (f" at {_when(provider.last_sync_at)}" if provider.last_sync_at else ""),
        provider.last_sync_message or "No message.",
    )


def _calls_by_provider() -> dict[int, dict[str, int]]:
    """The calls made to each provider so far, by outcome (catalog.models.UpstreamCallCount), in one query."""
    calls: dict[int, dict[str, int]] = {}
    rows = UpstreamCallCount.objects.values_list("provider_id", "outcome").annotate(calls=Sum("calls"))
    for provider_id, outcome, count in rows.order_by():
        calls.setdefault(provider_id, {})[outcome] = count
    return calls


def _provider_errors(watch: ProviderWatch, calls: dict[str, int]) -> Condition:
    """Judged by `_errors_judged` against the counts of the last check, remembered in the alert's state."""
    provider = watch.provider
    calls = {outcome: calls.get(outcome, 0) for outcome in Outcome.values}
    key, title = f"{PROVIDER_ERRORS}:{provider.pk}", f"{provider.name} answering errors"
    return Condition(key, title, None, "", calls=calls)


def _errors_judged(condition: Condition, state: dict) -> Condition:
    """Firing when, of the calls since the last check, at least ALERT_PROVIDER_ERRORS failed and at least
    half; recovered when there were calls and fewer failed; unchanged without calls, at the first look and
    after the counts went down (rows deleted): those set the next check's starting point."""
    before, counts = state.get("calls"), condition.calls or {}
    if not isinstance(before, dict) or any(counts.get(outcome, 0) < n for outcome, n in before.items()):
        return condition
    delta = {outcome: n - before.get(outcome, 0) for outcome, n in counts.items()}
    calls = sum(delta.values())
    if not calls:
        return condition
    failed = calls - delta.get(Outcome.OK, 0)
    firing = failed >= settings.ALERT_PROVIDER_ERRORS and failed * 2 >= calls
    by_outcome = ", ".join(
        f"{Outcome(outcome).label.lower()} {count}"
        for outcome, count in delta.items()
        if count and outcome != Outcome.OK
    )
    return replace(
        condition,
        firing=firing,
        summary=f"{failed} of {calls} calls failed since the last check",
        detail=f"Failed calls: {by_outcome}." if failed else "",
    )


# Deciding and telling


def _decide(alert: Alert, condition: Condition, now: datetime) -> tuple[Condition, dict, str | None]:
    """The condition judged, what to change on the alert's row for it, and the email to send (FIRING,
    REMINDER, RECOVERED or None)."""
    if condition.calls is not None:
        condition = _errors_judged(condition, alert.state)
    changes: dict = {}
    state = {"calls": condition.calls} if condition.calls is not None else {}
    if state != alert.state:
        changes["state"] = state
    email = None
    if condition.firing:
        since = alert.since if alert.firing else now
        if not alert.firing:
            changes.update(firing=True, since=now, resolved_at=None)
        last = alert.notified_at
        if last is None or now - last >= timedelta(seconds=settings.ALERT_EVERY):
            email = REMINDER if _told(last, since) else FIRING
            changes["notified_at"] = now
        detail = f"{condition.summary}\n{condition.detail}".strip()
        if (alert.title, alert.detail) != (condition.title, detail):
            changes.update(title=condition.title, detail=detail)
    elif condition.firing is False and alert.firing:
        changes.update(firing=False, resolved_at=now)
        if _told(alert.notified_at, alert.since):
            email = RECOVERED
    return condition, changes, email


def _told(notified_at: datetime | None, since: datetime | None) -> bool:
    """Whether staff were emailed about the firing that began at `since`."""
    return notified_at is not None and since is not None and notified_at >= since


def _apply(condition: Condition, now: datetime) -> Sent | None:
    """Decides again on the row locked, writes the change and queues the email: of two checks at once,
    the second finds the first's change made."""
    Alert.objects.get_or_create(key=condition.key, defaults={"title": condition.title})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(key=condition.key)
        condition, changes, email = _decide(alert, condition, now)
        if not changes:
            return None
        since = alert.since
        for field, value in changes.items():
            setattr(alert, field, value)
        alert.save(update_fields=[*changes, "updated_at"])
        if email is None:
            return None
        subject, body = _email(alert, condition, email, now=now, since=since)
        staff_notify(subject=subject, body=body)
    return Sent(alert.key, email, subject)


def _email(alert: Alert, condition: Condition, kind: str, *, now: datetime, since: datetime | None):
    link = f"{settings.PANEL_URL}{alert_link(alert.key)}"
    every = timesince(now - timedelta(seconds=settings.ALERT_EVERY), now)
    if kind == RECOVERED:
        lasted = f", after {timesince(since, now)}" if since else ""
        subject = f"Recovered: {alert.title}"
        body = [
            f"{alert.title}: recovered {_when(now)}{lasted}.",
            condition.summary.rstrip(".") + ".",
            "",
            link,
        ]
    else:
        subject = f"{'Still: ' if kind == REMINDER else ''}{alert.title}: {condition.summary}"
        lasting = f", for {timesince(alert.since, now)}" if kind == REMINDER else ""
        body = [
            f"{alert.title}: {condition.summary}.",
            *([condition.detail] if condition.detail else []),
            "",
            f"Firing since {_when(alert.since)}{lasting}.",
            link,
            "",
            f"Staff hear of this when it starts, at most once every {every} while it lasts, and when it "
            "recovers.",
        ]
    return subject, "\n".join(body) + "\n"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")
