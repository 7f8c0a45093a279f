"""The one writer of order and refill statuses, and of their history.

Every status change (placement aside, which creates the row) goes through `orders_move` or `refills_move`:
the move must be in the table of allowed moves (orders/models.py), it is a compare-and-swap from the status
the row had when loaded, so of two workers making the same move one wins and the other learns it lost,
and the winner writes one history row per move. A move into a final status refunds what the order is owed
(orders/refunds.py), in the same transaction: a refund is never paid by the loser of a move; then it sends
`orders_finished` (orders/signals.py), still in that transaction, which is how an affiliate's commission is
earned once. A move that starts following an order upstream (placed there, not final) gives it its status
checks (OrderCheck, first due at the move's `next_check_at`), and one that stops it takes them away.

Many moves go in one statement (a polling batch moves a thousand orders at once), one move is a list of one.
Moves join the caller's transaction (no savepoint of their own, for speed): a caller that wants to carry on
after a failed move, such as a unique upstream id refused, wraps the move in `transaction.atomic()`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from reseller.db import bulk_insert, bulk_update

from .errors import OrderError
from .models import (
    ACTIVE,
    FINAL,
    FINAL_REFILL,
    REFILL_TRANSITIONS,
    TRANSITIONS,
    Order,
    OrderCheck,
    OrderEvent,
    Refill,
    RefillEvent,
    RefillStatus,
    Source,
    Status,
)
from .refunds import orders_refund, refund_owed
from .signals import orders_finished


class MoveNotAllowed(OrderError):
    """The table of allowed moves has no such move: a bug in the caller, or a stale row."""


@dataclass
class Move:
    """A status change to make: `row` (an Order or a Refill) as loaded, the status it goes `to`, who makes
    it (`source`, `by`) and why (`note`), and other columns to write with it (`changes`)."""

    row: Any
    to: str
    source: str
    note: str = ""
    by: Any = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Machine:
    model: type[models.Model]
    event: type[models.Model]
    key: str  # the history row's foreign key to the moved row
    noun: str
    transitions: dict[str, frozenset[str]]
    final: frozenset[str]
    statuses: type[models.TextChoices]


ORDERS = _Machine(Order, OrderEvent, "order", "An order", TRANSITIONS, FINAL, Status)
REFILLS = _Machine(Refill, RefillEvent, "refill", "A refill", REFILL_TRANSITIONS, FINAL_REFILL, RefillStatus)


def order_move(order: Order, to: str, *, source: str, note: str = "", by=None, **changes) -> bool:
    """Moves one order; True if this call made the move, False if the order had moved meanwhile."""
    return bool(orders_move([Move(order, to, source, note, by, changes)]))


def orders_move(moves: Sequence[Move]) -> list[Move]:
    """Makes the moves that still can be made, refunding what each final one earns; returns those made.

    Raises MoveNotAllowed (nothing written) when a move is not in the table. The moved rows are updated in
    memory; the others are left as they were loaded.
    """
    staged = _stage(ORDERS, moves)  # refuses a move not in the table before anything is written
    with transaction.atomic(savepoint=False):
        owed = {}
        for move, order in zip(moves, staged, strict=True):
            if move.to in FINAL and (amount := refund_owed(order)) > 0:
                order.refund = amount
                owed[order.pk] = amount
        for move, order in zip(moves, staged, strict=True):
            if move.to in FINAL:
                order.final_cost = order.cost_when_final()
        was = {move.row.pk: move.row.status for move in moves}
        made = _write(ORDERS, moves, staged, extra=["refund"] if owed else [])
        _follow(made, was)
        refunds = [(move.row, owed[move.row.pk]) for move in made if move.row.pk in owed]
        if refunds:
            orders_refund(refunds=refunds)
        finished = [move.row for move in made if move.to in FINAL]
        if finished:
            orders_finished.send(sender=Order, orders=finished)
    return made


def _follow(made: list[Move], was: dict[int, str]) -> None:
    """Orders placed upstream and not final are followed (orders/polling.py): a move that starts following
    one gives it its checks, first due when the move's `next_check_at` says (at once without one); a move
    that ends it takes them away."""
    start, stop = [], []
    for move in made:
        order, followed = move.row, was[move.row.pk] in ACTIVE
        if move.to in ACTIVE and not followed and order.upstream_id:
            start.append(
                OrderCheck(
                    order_id=order.pk,
                    provider_id=order.provider_id,
                    next_check_at=move.changes.get("next_check_at"),
                )
            )
        elif move.to not in ACTIVE and followed:
            stop.append(order.pk)
    if start:
        OrderCheck.objects.bulk_create(
            start,
            update_conflicts=True,
            unique_fields=["order"],
            update_fields=["provider", "next_check_at"],
        )
    if stop:
        OrderCheck.objects.filter(order_id__among=stop).delete()


def refill_move(refill: Refill, to: str, *, source: str, note: str = "", by=None, **changes) -> bool:
    """Moves one refill; True if this call made the move."""
    return bool(refills_move([Move(refill, to, source, note, by, changes)]))


def refills_move(moves: Sequence[Move]) -> list[Move]:
    """`orders_move` for refills (which move no money)."""
    staged = _stage(REFILLS, moves)
    with transaction.atomic(savepoint=False):
        return _write(REFILLS, moves, staged, extra=[])


def order_created(*, order: Order) -> None:
    """The first row of a new order's history."""
    OrderEvent.objects.create(order=order, new_status=order.status, source=Source.PLACEMENT)


def refills_created(*, refills: Sequence[Refill], by=None, source: str = Source.CUSTOMER) -> None:
    """The first row of each new refill's history: who asked for it (the customer, or staff for them)."""
    RefillEvent.objects.bulk_create(
        RefillEvent(refill=refill, new_status=refill.status, source=source, created_by=by)
        for refill in refills
    )


def orders_note(*, orders: Sequence[Order], note: str, source: str, by=None) -> None:
    """A history row that changes no status (a cancel asked for, an id that arrived late)."""
    OrderEvent.objects.bulk_create(
        OrderEvent(
            order=order,
            old_status=order.status,
            new_status=order.status,
            source=source,
            note=note[:500],
            created_by=by,
        )
        for order in orders
    )


def _stage(machine: _Machine, moves: Sequence[Move]) -> list:
    """A copy of each row as the move leaves it; the rows themselves change only once the move is made."""
    now = timezone.now()
    staged = []
    for move in moves:
        status = move.row.status
        if move.to not in machine.transitions[status]:
            raise MoveNotAllowed(
                f"{machine.noun} cannot go from {machine.statuses(status).label} to "
                f"{machine.statuses(move.to).label}."
            )
        row = _copy(move.row)
        row.status, row.updated_at = move.to, now
        if machine is ORDERS:
            row.status_changed_at = now
        if move.to in machine.final:
            row.finished_at, row.next_check_at = now, None
        for name, value in move.changes.items():
            setattr(row, name, value)
        if machine is ORDERS and move.to in ACTIVE:
            row.next_check_at = None  # an order's own is a queued one's retry; a followed one's: OrderCheck
        staged.append(row)
    return staged


def _copy(row):
    """A shallow copy of a model instance, for writing only: a tenth of what copy.copy costs."""
    staged = object.__new__(type(row))
    staged.__dict__ = row.__dict__.copy()
    return staged


def _write(machine: _Machine, moves: Sequence[Move], staged: list, *, extra: list[str]) -> list[Move]:
    """The compare-and-swap of every staged row from its loaded status, then the history of those made."""
    if not moves:
        return []
    columns = ["status", "updated_at", *extra]
    if machine is ORDERS:
        columns.append("status_changed_at")
    if any(move.to in machine.final for move in moves):
        columns += ["finished_at", "next_check_at"]
        if machine is ORDERS:
            columns.append("final_cost")
    columns += sorted({name for move in moves for name in move.changes} - set(columns))
    written = bulk_update(staged, columns, only_if=("status", [move.row.status for move in moves]))
    attnames = [machine.model._meta.get_field(name).attname for name in columns]
    made, events = [], []
    now = timezone.now()
    for move, row in zip(moves, staged, strict=True):
        if row.pk not in written:
            continue
        # Plain rows, not model instances: a batch writes a thousand of them.
        events.append(
            {
                machine.key: move.row.pk,
                "old_status": move.row.status,
                "new_status": move.to,
                "source": move.source,
                "note": move.note[:500],
                "created_by": getattr(move.by, "pk", move.by),
                "created_at": now,
            }
        )
        for attname in attnames:
            setattr(move.row, attname, getattr(row, attname))
        made.append(move)
    bulk_insert(machine.event, events)
    return made
