"""The one writer of a ticket's status and of its history: `ticket_move`, a compare-and-swap on the status
along TRANSITIONS (support/models.py) that writes one TicketEvent per move made, and `ticket_note` for a
history row that moves nothing. Of a customer closing
the ticket while staff answer it, one wins and the other learns it lost."""

from django.db import transaction
from django.utils import timezone

from .errors import SupportError
from .models import TRANSITIONS, Ticket, TicketEvent


class MoveNotAllowed(SupportError):
    """The table has no such move: a bug in the caller, or a stale row."""


def ticket_move(ticket: Ticket, to: str, *, by, source: str, note: str = "", **changes) -> bool:
    """Moves the ticket from the status it was loaded with to `to` (with `changes`, other columns written
    in the same statement). True if this call made the move, False if the ticket had moved meanwhile.
    Raises MoveNotAllowed for a move the table does not allow."""
    source_status = ticket.status
    if to not in TRANSITIONS.get(source_status, ()):
        raise MoveNotAllowed(f"A ticket cannot move from {source_status} to {to}.")
    now = timezone.now()
    with transaction.atomic():
        moved = Ticket.objects.filter(pk=ticket.pk, status=source_status).update(
            status=to, updated_at=now, **changes
        )
        if not moved:
            return False
        TicketEvent.objects.create(
            ticket_id=ticket.pk,
            old_status=source_status,
            new_status=to,
            source=source,
            created_by=by,
            note=note[:500],
            created_at=now,
        )
    ticket.status = to
    ticket.updated_at = now
    for name, value in changes.items():
        setattr(ticket, name, value)
    return True


def ticket_note(ticket: Ticket, *, by, source: str, note: str) -> None:
    """A history row that moves nothing: the ticket opened, or what staff did to one of its orders."""
    TicketEvent.objects.create(
        ticket_id=ticket.pk,
        old_status=ticket.status,
        new_status=ticket.status,
        source=source,
        created_by=by,
        note=note[:500],
        created_at=timezone.now(),
    )
