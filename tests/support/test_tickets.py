"""A customer's tickets: opened about their own orders, a thread answered both ways with its status moving
along the table (a history row per move), closed, and the unread badges on both sides."""

import pytest
from django.urls import reverse

from support.models import Ticket, TicketEvent, TicketMessage, TicketStatus
from support.services import ticket_close, ticket_reply
from tests.helpers import place, reload

from .conftest import open_ticket

pytestmark = pytest.mark.django_db

S = TicketStatus


def test_a_customer_opens_a_ticket_about_their_own_orders_shown_as_links_with_their_status(
    alice, alice_client, completed
):
    ids = f"#{completed[0].pk}, {completed[1].pk}"
    response = alice_client.post(
        reverse("support:new"), {"subject": "refill", "orders": ids, "body": "They dropped."}, follow=True
    )

    ticket = Ticket.objects.get(user=alice)
    assert response.redirect_chain[-1][0] == reverse("support:detail", args=[ticket.pk])
    assert ticket.status == S.OPEN and ticket.subject == "refill" and ticket.unread_by_staff
    assert sorted(ticket.orders.values_list("pk", flat=True)) == [completed[0].pk, completed[1].pk]
    page = response.content.decode()
    for order in completed[:2]:
        assert f'href="{order.get_absolute_url()}"' in page
    assert page.count('data-status="completed"') == 2
    assert "They dropped." in page


def test_the_order_page_link_prefills_the_order(alice_client, completed):
    order = completed[0]
    detail = alice_client.get(order.get_absolute_url()).content.decode()
    assert f"{reverse('support:new')}?orders={order.pk}" in detail
    form = alice_client.get(reverse("support:new"), {"orders": order.pk}).content.decode()
    assert f'value="{order.pk}"' in form


def test_a_customer_cannot_name_charlies_order_and_nothing_is_created(
    alice_client, charlie, likes, completed
):
    (theirs,) = place(charlie, likes)
    ids = f"{completed[0].pk} {theirs.pk}"
    response = alice_client.post(reverse("support:new"), {"subject": "order", "orders": ids, "body": "Hi"})

    assert response.status_code == 422
    assert f"You have no order {theirs.pk}." in response.content.decode()
    assert not Ticket.objects.exists() and not TicketMessage.objects.exists()


@pytest.mark.parametrize("typed", ["12abc", "1-2", "１２"])
def test_order_numbers_that_are_not_numbers_are_refused(alice_client, typed):
    response = alice_client.post(reverse("support:new"), {"subject": "order", "orders": typed, "body": "Hi"})
    assert response.status_code == 422
    assert "is not an order number" in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_empty_message_is_refused(alice_client):
    response = alice_client.post(reverse("support:new"), {"subject": "order", "body": "   "})
    assert response.status_code == 422
    assert not Ticket.objects.exists()


def test_a_post_with_no_fields_at_all_is_refused_with_the_forms_errors(alice_client):
    response = alice_client.post(reverse("support:new"), {})

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_thread_goes_both_ways_and_its_status_follows(alice, alice_client, staff, ticket):
    assert ticket.status == S.OPEN
    ticket_reply(ticket=ticket, author=staff, body="Checking it now.", by_staff=True)
    assert reload(ticket).status == S.ANSWERED

    response = alice_client.post(reverse("support:reply", args=[ticket.pk]), {"body": "Thanks, any news?"})
    assert response.status_code == 302
    assert reload(ticket).status == S.CUSTOMER_REPLY

    ticket_reply(ticket=ticket, author=staff, body="Done: refilled.", by_staff=True)
    assert reload(ticket).status == S.ANSWERED
    response = alice_client.post(reverse("support:close", args=[ticket.pk]))
    assert response.status_code == 302
    assert reload(ticket).status == S.CLOSED

    moves = list(TicketEvent.objects.filter(ticket=ticket).values_list("old_status", "new_status", "source"))
    assert moves == [
        (S.OPEN, S.OPEN, "customer"),  # opened
        (S.OPEN, S.ANSWERED, "staff"),
        (S.ANSWERED, S.CUSTOMER_REPLY, "customer"),
        (S.CUSTOMER_REPLY, S.ANSWERED, "staff"),
        (S.ANSWERED, S.CLOSED, "customer"),
    ]
    page = alice_client.get(reverse("support:detail", args=[ticket.pk])).content.decode()
    texts = ["Where is my order?", "Checking it now.", "Thanks, any news?", "Done: refilled."]
    positions = [page.index(text) for text in texts]
    assert positions == sorted(positions)  # oldest first
    assert page.count("ticket-message from-staff") == 2
    assert "This ticket is closed" in page and 'id="reply-form"' not in page


def test_a_second_customer_message_keeps_an_open_ticket_open(alice, ticket):
    ticket_reply(ticket=ticket, author=alice, body="Also this.", by_staff=False)
    assert reload(ticket).status == S.OPEN
    assert list(TicketEvent.objects.values_list("note", flat=True)) == ["opened"]  # no move


def test_a_closed_ticket_refuses_a_customer_reply_but_staff_reopen_it(alice, alice_client, staff, ticket):
    ticket_close(ticket=ticket, by=alice, by_staff=False)
    response = alice_client.post(reverse("support:reply", args=[ticket.pk]), {"body": "One more thing"})

    assert response.status_code == 422
    assert "This ticket is closed: open a new one" in response.content.decode()
    assert ticket.messages.count() == 1

    ticket_reply(ticket=ticket, author=staff, body="Reopening: we found something.", by_staff=True)
    assert reload(ticket).status == S.ANSWERED


def test_closing_twice_says_it_is_closed_already(alice_client, ticket):
    alice_client.post(reverse("support:close", args=[ticket.pk]))
    response = alice_client.post(reverse("support:close", args=[ticket.pk]), follow=True)
    assert "This ticket is already closed." in response.content.decode()
    assert list(TicketEvent.objects.values_list("note", flat=True)) == ["opened", "closed"]


def test_the_customer_sees_a_badge_after_a_staff_reply_until_they_read_it(alice_client, staff, ticket):
    home = alice_client.get(reverse("support:list")).content.decode()
    assert 'id="support-unread"' not in home

    ticket_reply(ticket=ticket, author=staff, body="Answer", by_staff=True)
    listing = alice_client.get(reverse("dashboard")).content.decode()
    assert '<span class="badge badge-info" id="support-unread"' in listing
    assert 'title="Tickets with a new reply">1</span>' in listing
    assert "New reply" in alice_client.get(reverse("support:list")).content.decode()

    alice_client.get(reverse("support:detail", args=[ticket.pk]))
    assert not reload(ticket).unread_by_customer
    assert 'id="support-unread"' not in alice_client.get(reverse("support:list")).content.decode()


def test_staff_see_a_customer_reply_as_unread_until_they_open_the_ticket(alice, staff, staff_client, ticket):
    ticket_reply(ticket=ticket, author=staff, body="Answer", by_staff=True)
    assert not reload(ticket).unread_by_staff
    ticket_reply(ticket=ticket, author=alice, body="Reply", by_staff=False)
    assert reload(ticket).unread_by_staff

    staff_client.get(reverse("admin:support_ticket_change", args=[ticket.pk]))
    assert not reload(ticket).unread_by_staff


def test_the_list_shows_the_newest_activity_first_with_status_and_order_count(alice, alice_client, completed):
    older = open_ticket(alice, orders=completed[:2], body="Older")
    newer = open_ticket(alice, subject="payment", body="Newer")
    ticket_reply(ticket=older, author=alice, body="Bump", by_staff=False)

    page = alice_client.get(reverse("support:list")).content.decode()
    assert page.index(f'id="ticket-{older.pk}"') < page.index(f'id="ticket-{newer.pk}"')
    assert "Payment" in page and 'data-status="open"' in page
    row = page[page.index(f'id="ticket-{older.pk}"') :]
    assert '<td class="num" data-label="Orders">2</td>' in row[: row.index("</tr>")]


def test_the_list_pages_and_htmx_gets_only_the_table(alice, alice_client, settings):
    settings.SUPPORT_PAGE_SIZE = 2
    settings.SUPPORT_MESSAGES_PER_MINUTE = 10
    tickets = [open_ticket(alice, body=f"Question {i}") for i in range(3)]
    first = alice_client.get(reverse("support:list")).content.decode()
    assert "Page 1 of 2" in first and f'id="ticket-{tickets[0].pk}"' not in first

    second = alice_client.get(reverse("support:list"), {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert second.lstrip().startswith('<div id="ticket-table">') and "<html" not in second
    assert f'id="ticket-{tickets[0].pk}"' in second
