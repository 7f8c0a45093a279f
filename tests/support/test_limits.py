"""A customer cannot flood: at most SUPPORT_MAX_OPEN_TICKETS tickets not closed, at most
SUPPORT_MESSAGES_PER_MINUTE messages a minute (openings included), counted in the database; staff are not
limited. Two posts at once cannot both slip past the limit (PostgreSQL, real row locks)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from support.errors import SupportError
from support.models import Ticket, TicketMessage
from support.services import ticket_close, ticket_reply
from tests.helpers import run_together

from .conftest import open_ticket

pytestmark = pytest.mark.django_db


def _age(minutes=2):
    """Every message so far written long enough ago to be out of the per-minute window."""
    from django.utils import timezone

    TicketMessage.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_the_sixth_open_ticket_is_refused_and_closing_one_lets_a_new_one_open(alice, alice_client):
    tickets = []
    for _ in range(5):
        tickets.append(open_ticket(alice))
        _age()
    response = alice_client.post(reverse("support:new"), {"subject": "other", "body": "Sixth"})
    assert response.status_code == 422
    assert "You already have 5 open tickets" in response.content.decode()
    assert Ticket.objects.count() == 5

    ticket_close(ticket=tickets[0], by=alice, by_staff=False)
    response = alice_client.post(reverse("support:new"), {"subject": "other", "body": "Sixth"})
    assert response.status_code == 302 and Ticket.objects.count() == 6


def test_the_sixth_message_within_a_minute_is_refused(alice, alice_client, ticket):
    for i in range(4):  # the opening was the first
        ticket_reply(ticket=ticket, author=alice, body=f"Message {i}", by_staff=False)
    response = alice_client.post(reverse("support:reply", args=[ticket.pk]), {"body": "Sixth"})
    assert response.status_code == 422
    assert "You can send at most 5 messages a minute" in response.content.decode()
    assert ticket.messages.count() == 5

    _age()  # a minute later
    assert alice_client.post(reverse("support:reply", args=[ticket.pk]), {"body": "Later"}).status_code == 302


def test_openings_count_against_the_per_minute_limit(alice):
    for _ in range(5):
        open_ticket(alice)
        for ticket in Ticket.objects.exclude(status="closed"):
            ticket_close(ticket=ticket, by=alice, by_staff=False)
    with pytest.raises(SupportError, match="at most 5 messages a minute"):
        open_ticket(alice)


def test_staff_are_not_limited(alice, staff, ticket):
    for i in range(8):
        ticket_reply(ticket=ticket, author=staff, body=f"Staff {i}", by_staff=True)
    assert ticket.messages.count() == 9


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_posts_at_once_cannot_exceed_the_per_minute_limit(alice):
    """Replies to five different tickets at once (the tickets' own locks do not meet): the customer's
    row lock counts them one at a time."""
    tickets = [open_ticket(alice, body=f"Ticket {i}") for i in range(5)]
    _age()

    def post(i):
        return ticket_reply(ticket=tickets[i % 5], author=alice, body=f"At once {i}", by_staff=False)

    results = run_together(10, post)
    refused = [result for result in results if isinstance(result, SupportError)]
    assert len(refused) == 5, results
    assert all("at most 5 messages a minute" in str(error.message) for error in refused)
    assert TicketMessage.objects.filter(author=alice, body__startswith="At once").count() == 5


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_tickets_opened_at_once_cannot_exceed_the_open_limit(alice, settings):
    settings.SUPPORT_MESSAGES_PER_MINUTE = 100
    results = run_together(8, lambda i: open_ticket(alice, body=f"At once {i}"))
    assert sum(isinstance(result, SupportError) for result in results) == 3, results
    assert Ticket.objects.filter(user=alice).count() == 5
