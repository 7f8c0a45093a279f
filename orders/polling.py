"""Following placed orders upstream: one `status` call per 100 orders, many calls in flight, bulk writes,
refunds exactly once.

A sweep claims a provider's due orders a batch at a time, by moving their next check forward under
`SELECT ... FOR UPDATE SKIP LOCKED`, so that overlapping sweeps, in any number of workers, split the work:
an order is checked once per interval. The checks are rows of their own (OrderCheck, kept by the moves as
orders start and stop being followed): a claim writes those, never the wide order row. Each provider's
status calls go through its own threads, up to UPSTREAM_CONCURRENCY at once (catalog/pool.py), and the
sweep claims more as answers come back, so a slow provider never holds up a fast one; a provider that
throttles or fails is left alone for a while, its orders checked again when the wait is over.

Answers are applied a few hundred orders at a time by ORDER_POLL_WRITERS threads, each with its own
connection, while this one claims and reads on (in this thread, inside a caller's transaction or on
SQLite), against the orders as their claim read them, with no second read: every write is a
compare-and-swap from the status the claim saw, and status changes are moves (orders/moves.py), so of two
appliers of the same answer (a sweep and an operator's "poll now") one moves the order and refunds it,
and the other finds it moved.

Beat's sweep (`orders_poll_fan_out`) only counts what is due and hands the polling to up to
ORDER_POLL_FAN_OUT tasks per provider, each running `orders_poll` for it: as many workers, on as many
machines, as there are to take them. A task claims when it runs, so one that waited in the queue, ran twice
or was lost claims nothing stale and skips nothing: what it did not claim stays due.
"""

import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, Count, F, TextField, When
from django.db.models.functions import Cast, Least
from django.utils import timezone

from catalog import protocol, upstream
from catalog.backoff import not_backing_off
from catalog.models import Provider
from catalog.pool import BackingOff, Calls, Done
from reseller.db import Writer, bulk_update, claim_due, due_now, group_by, partial_instance
from reseller.enqueue import enqueue_after_commit

from .models import (
    ACTIVE,
    FINAL,
    FROM_UPSTREAM,
    SHARE_REFUNDED,
    SUBSCRIPTION_FROM_UPSTREAM,
    TRANSITIONS,
    Order,
    OrderCheck,
    Source,
    Status,
)
from .moves import Move, orders_move

log = logging.getLogger(__name__)
User = get_user_model()
POLL_PROVIDER = "orders.tasks.orders_poll_provider"
# What an answer changes besides the status (a move writes these with it).
ANSWER_FIELDS = [
    "start_count",
    "remains",
    "upstream_charge",
    "poll_error",
    "runs_done",
    "posts_done",
    "child_orders",
]
APPLY_WAIT = 0.25  # seconds an answer may wait for others, to be applied with them
AHEAD = 2  # calls queued per provider, per call in flight: the next answers are on their way


@dataclass
class PollResult:
    due: int = 0
    checked: int = 0
    changed: int = 0
    refunded: int = 0
    errors: int = 0
    calls: int = 0
    batches: int = 0
    skipped: int = 0  # claimed but not asked: their provider was backing off

    def __str__(self):
        return (
            f"{self.checked} orders checked, {self.changed} changed, {self.refunded} refunded, "
            f"{self.errors} errors, {self.calls} status calls"
        )


def orders_poll(
    *,
    order_ids: list[int] | None = None,
    batch_size: int | None = None,
    every: bool = False,
    provider_ids: list[int] | None = None,
) -> PollResult:
    """One sweep over the orders due for a check (of `provider_ids` only, if given), in this process;
    exactly `order_ids` for "poll now"; with `every`, all open orders whether due or not (`due` then says
    how many were)."""
    result = PollResult()
    if every:
        result.due = OrderCheck.objects.filter(due_now()).count()
        order_ids = list(OrderCheck.objects.values_list("pk", flat=True))
    size = batch_size or settings.ORDER_POLL_BATCH
    with (
        Calls() as calls,
        Writer(lambda changing: _apply(changing, result), threads=settings.ORDER_POLL_WRITERS) as writer,
    ):
        sweep = _Sweep(calls, writer, result, size)
        if order_ids is not None:
            sweep.through(order_ids)
        else:
            providers = Provider.objects.filter(not_backing_off())
            if provider_ids is not None:
                providers = providers.filter(pk__in=provider_ids)
            sweep.run(list(providers))
    return result


def orders_poll_fan_out() -> dict[int, int]:
    """Beat's sweep: for each provider with due orders (and not backing off), up to ORDER_POLL_FAN_OUT
    `orders_poll` tasks, one per ORDER_POLL_BATCH due orders; returns the tasks queued per provider."""
    due = (
        OrderCheck.objects.filter(due_now())
        .filter(not_backing_off("provider__"))
        .values("provider_id")
        .annotate(due=Count("pk"))
        .order_by()
    )
    tasks = {}
    for row in due:
        tasks[row["provider_id"]] = min(
            settings.ORDER_POLL_FAN_OUT, -(-row["due"] // settings.ORDER_POLL_BATCH)
        )
        for _ in range(tasks[row["provider_id"]]):
            enqueue_after_commit(POLL_PROVIDER, row["provider_id"])
    return tasks


def _followed():
    """The orders followed upstream (placed there, not final): those that have checks (OrderCheck)."""
    return Order.objects.filter(status__in=ACTIVE).exclude(upstream_id="")


def orders_checks_mend() -> int:
    """Orders followed upstream without checks (their status changed outside orders/moves.py: by hand, in
    the database) get them, due at once; the sweeper runs this, so that no such order goes unasked.
    Returns how many were missing."""
    missing = _followed().filter(checks__isnull=True).values_list("pk", "provider_id")
    made = [OrderCheck(order_id=pk, provider_id=provider_id) for pk, provider_id in missing]
    OrderCheck.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


# What a claim reads of each order: enough to ask for it (its provider, its id there), to tell whether an
# answer changes anything (`_read`), and to move it and refund it (orders/moves.py) without reading it
# again; the rest of a wide row (links, comments, what `add` sent) stays unread.
CLAIMED_FIELDS = [
    "id",
    "provider_id",
    "upstream_id",
    "status",
    "service_type",
    "quantity",
    "runs",
    "upstream_fields",  # a subscription's posts
    *ANSWER_FIELDS,
    "user_id",
    "public_id",
    "charge",
    "cost",
    "exchange_rate",
    "refund",
]
PROVIDER, UPSTREAM_ID = CLAIMED_FIELDS.index("provider_id"), CLAIMED_FIELDS.index("upstream_id")
POSTS_FROM, CHILD_ORDERS = CLAIMED_FIELDS.index("upstream_fields"), CLAIMED_FIELDS.index("child_orders")
# The two JSON columns are read as text and decoded here, and what `add` sent only for a subscription (its
# posts; for any other order it is left unread): decoding them row by row was a tenth of a sweep.
_CLAIM_READ = [
    *CLAIMED_FIELDS[:POSTS_FROM],
    Case(
        When(service_type=protocol.ServiceType.SUBSCRIPTIONS, then=Cast("upstream_fields", TextField())),
        default=None,
        output_field=TextField(),
    ),
    *CLAIMED_FIELDS[POSTS_FROM + 1 : CHILD_ORDERS],
    Cast("child_orders", TextField()),
    *CLAIMED_FIELDS[CHILD_ORDERS + 1 :],
]


def _claim_read(pks: list) -> list[tuple]:
    """The claimed orders still followed, as rows of CLAIMED_FIELDS, the JSON columns as their text (what
    `add` sent None where unread); `_claimed` decodes them, only for the orders an answer came for."""
    return list(_followed().filter(pk__among=pks).values_list(*_CLAIM_READ))


def _claimed(row: tuple) -> Order:
    """The order as its claim read it (the other fields deferred: also what `add` sent, unless it is a
    subscription)."""
    order = partial_instance(Order, CLAIMED_FIELDS, row)
    values = order.__dict__
    if (sent := values["upstream_fields"]) is None:
        del values["upstream_fields"]  # deferred: read if ever asked for, as any other
    else:
        values["upstream_fields"] = json.loads(sent)
    children = values["child_orders"]
    values["child_orders"] = [] if children == "[]" else json.loads(children)
    return order


class _Sweep:
    """Claims, asks and applies: claims go out while answers come back."""

    def __init__(self, calls: Calls, writer: Writer, result: PollResult, size: int):
        self.calls, self.writer, self.result, self.size = calls, writer, result, size
        self.ready: list[Done] = []
        self.ready_since = 0.0
        self.providers: dict[int, Provider] = {}

    def run(self, providers: list[Provider]) -> None:
        """Every due order of these providers, each provider claimed as fast as its answers come back."""
        self.providers.update((provider.pk, provider) for provider in providers)
        ahead = AHEAD * self.calls.limit
        claiming = list(providers)
        while claiming or self.calls.pending():
            for provider in list(claiming):
                while not self.calls.resting(provider) and self.calls.queued(provider) < ahead:
                    claimed = self._claim(OrderCheck.objects.filter(provider=provider), ids=None)
                    if not claimed:
                        break
                    self._ask(claimed)
                if self.calls.resting(provider) or self.calls.queued(provider) < ahead:
                    claiming.remove(provider)  # nothing more due, or left alone for now
            self._collect()
        self._apply_ready()

    def through(self, order_ids: list[int]) -> None:
        """Exactly these orders (if open), due or not, a batch at a time."""
        for start in range(0, len(order_ids), self.size):
            claimed = self._claim(OrderCheck.objects.all(), ids=order_ids[start : start + self.size])
            missing = {row[PROVIDER] for row in claimed} - set(self.providers)
            self.providers.update(Provider.objects.in_bulk(missing))
            self._ask(claimed)
            while self.calls.pending():
                self._collect()
        self._apply_ready()

    def _claim(self, checks, *, ids) -> list[tuple]:
        """Claims a batch of these checks (the due ones, or exactly `ids`) and reads their orders."""
        claimed = claim_due(
            checks,
            ids=ids,
            batch_size=self.size,
            interval=settings.ORDER_POLL_INTERVAL,
            last_checked_at=timezone.now(),
        )
        if not claimed:
            return []
        self.result.batches += 1
        rows = _claim_read(claimed)
        if len(rows) < len(claimed):  # no longer followed (a status changed by hand): no more checks
            OrderCheck.objects.filter(pk__among=set(claimed) - {row[0] for row in rows}).delete()
        return rows

    def _ask(self, claimed: list[tuple]) -> None:
        for orders in group_by(claimed, lambda row: row[PROVIDER]):
            provider = self.providers[orders[0][PROVIDER]]
            for chunk in protocol.chunks(orders):
                self.result.calls += 1
                ids = [row[UPSTREAM_ID] for row in chunk]
                self.calls.submit(provider, lambda client, ids=ids: client.statuses(ids), tag=chunk)

    def _collect(self) -> None:
        """Takes the answers in; applies them once there are enough, or they have waited long enough."""
        waited = time.monotonic() - self.ready_since
        timeout = max(APPLY_WAIT - waited, 0) if self.ready else None
        done = self.calls.wait(timeout)
        if done and not self.ready:
            self.ready_since = time.monotonic()
        self.ready += done
        enough = sum(len(item.tag) for item in self.ready) >= self.size
        if enough or not self.calls.pending() or time.monotonic() - self.ready_since >= APPLY_WAIT:
            self._apply_ready()

    def _apply_ready(self) -> None:
        ready, self.ready = self.ready, []
        answers = {}
        for item in ready:
            if item.error is None:
                answers.update((row[0], (item.answer.get(row[UPSTREAM_ID]), row)) for row in item.tag)
            else:
                self._failed(item)
        if changing := _changing(answers, self.result):
            self.writer.put(changing)

    def _failed(self, item: Done) -> None:
        """A call that failed: its orders say why, and are checked again once the provider's wait is over
        (at their next check anyway, if that comes first)."""
        pks = [row[0] for row in item.tag]
        until = item.provider.backoff_until
        if isinstance(item.error, BackingOff):
            self.result.skipped += len(pks)
            self.result.calls -= 1
        else:
            log.warning(
                "provider %s: status of %d orders failed: %s", item.provider.name, len(pks), item.error
            )
            self.result.errors += len(pks)
            Order.objects.filter(pk__among=pks).update(poll_error=str(item.error)[:300])
        if until is not None:
            OrderCheck.objects.filter(pk__among=pks).update(next_check_at=Least(F("next_check_at"), until))


def _changing(answers: dict[int, tuple[object, tuple]], result: PollResult) -> dict[int, tuple]:
    """The answers that change something: each answer (its pk -> the OrderStatus or ItemError, None when it
    was not answered, with the row as claimed) is read against the order as the claim saw it, and most
    change nothing. Those are done with: their next check is already set, so they cost no write and no
    lock. Returns the others, by pk: (what changes, the status it moves to or None, the order as claimed)."""
    changing = {}
    for pk, (answer, row) in answers.items():
        if answer is None:
            continue
        order = _claimed(row)
        if isinstance(answer, upstream.ItemError):
            result.errors += 1
            changes, to = {"poll_error": answer.message[:300]}, None
        else:
            result.checked += 1
            changes, to = _read(order, answer)
        changes = {name: value for name, value in changes.items() if getattr(order, name) != value}
        if to is not None or changes:
            changing[pk] = (changes, to, order)
    return changing


def _apply(changing: dict[int, tuple], result: PollResult) -> None:
    """Writes what `_changing` found, as a compare-and-swap from the status each claim read, with no second
    read: a status change is a move (which refunds), anything else one bulk update. An order whose status
    changed meanwhile (another poller's move, an operator's) is left as that writer left it, and is asked
    again at its next check."""
    now = timezone.now()
    users = {}
    moves, updated = [], []
    cache_user = Order.user.field.set_cached_value
    for changes, to, order in changing.values():
        if to is None:
            for name, value in changes.items():
                setattr(order, name, value)
            order.updated_at = now
            updated.append(order)
            continue
        if to in FINAL:  # its refund goes through the wallet, which wants its customer (only the key)
            if (user := users.get(order.user_id)) is None:
                user = users[order.user_id] = User(pk=order.user_id)
            cache_user(order, user)
        moves.append(Move(order, to, Source.POLL, changes=changes))
    fields = sorted({name for changes, to, _ in changing.values() if to is None for name in changes})
    with transaction.atomic():
        made = orders_move(moves)
        bulk_update(updated, [*fields, "updated_at"], only_if=("status", [o.status for o in updated]))
    result.changed += len(made)
    result.refunded += sum(1 for move in made if move.row.refund)


def _read(order: Order, answer: upstream.OrderStatus) -> tuple[dict, str | None]:
    """What one answer changes on the order, and the status it moves to (None: it stays)."""
    remains = _remains(order, answer)
    changes = {
        "start_count": answer.start_count if answer.start_count is not None else order.start_count,
        "remains": remains if remains is not None else order.remains,
        "upstream_charge": answer.charge if answer.charge is not None else order.upstream_charge,
        "poll_error": "",
        "runs_done": _at_most(answer.runs, order.runs, order.runs_done),
        "posts_done": _at_most(answer.posts, order.posts, order.posts_done),
        "child_orders": list(answer.children) or order.child_orders,
    }
    to = (SUBSCRIPTION_FROM_UPSTREAM if order.is_subscription else FROM_UPSTREAM).get(answer.status)
    if to is None:
        changes["poll_error"] = f"Unexpected status {answer.status} for this order"
        return changes, None
    if to == Status.COMPLETED and order.is_subscription and remains is None:
        # Completed without saying how many: the posts last said served, else every post.
        served = order.posts_done if order.posts_done is not None else order.posts
        changes["remains"] = (order.posts - served) * order.per_post
    elif remains is None and to in SHARE_REFUNDED:
        # The refund cannot be known without what remains; the status is final, so wait for a full answer.
        changes["poll_error"] = (
            f"{to.name.capitalize()} without remains: waiting for the provider to say how many"
        )
        return changes, None
    if to == order.status:
        return changes, None
    if to not in TRANSITIONS[order.status]:
        changes["poll_error"] = f"Unexpected move from {order.status} to {to}"
        return changes, None
    return changes, to


def _at_most(count: int | None, most: int | None, known: int | None) -> int | None:
    """A count of runs done or posts served, never above what was ordered; the known one if none."""
    if count is None:
        return known
    return min(count, most) if most is not None else count


def _remains(order: Order, answer: upstream.OrderStatus) -> int | None:
    """What the answer says is undelivered, in the order's units: a subscription's unserved posts and a
    drip-feed's runs not done count in full (part 3's shapes), else the answer's own `remains`."""
    if order.is_subscription and answer.posts is not None:
        return max(order.posts - answer.posts, 0) * order.per_post
    if order.is_dripfeed and answer.remains is None and answer.runs is not None:
        return max(order.runs - answer.runs, 0) * order.per_run
    return answer.remains
