"""The ticket's state machine: only the moves in the table, as a compare-and-swap writing one history row."""

import pytest

from support.models import TRANSITIONS, TicketEvent, TicketStatus
from support.moves import MoveNotAllowed, ticket_move
from tests.helpers import reload

pytestmark = pytest.mark.django_db

S = TicketStatus


@pytest.mark.parametrize(
    "source, to",
    [(a, b) for a in S for b in S if b not in TRANSITIONS[a]],
)
def test_moves_not_in_the_table_are_refused(ticket, staff, source, to):
    ticket.status = source
    with pytest.raises(MoveNotAllowed):
        ticket_move(ticket, to, by=staff, source="staff")
    assert list(TicketEvent.objects.values_list("note", flat=True)) == ["opened"]  # nothing since


def test_the_loser_of_a_race_learns_it_lost(ticket, staff):
    stale = reload(ticket)
    assert ticket_move(ticket, S.CLOSED, by=staff, source="staff") is True
    assert ticket_move(stale, S.ANSWERED, by=staff, source="staff") is False  # it was Open when loaded
    assert reload(ticket).status == S.CLOSED
    assert list(TicketEvent.objects.values_list("old_status", "new_status")) == [
        (S.OPEN, S.OPEN),  # opened
        (S.OPEN, S.CLOSED),
    ]
