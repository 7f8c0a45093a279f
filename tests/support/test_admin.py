"""Staff in admin: the list (waiting tickets first), the thread with a reply form (canned replies, close
after replying), and one-click Refill, Cancel and Poll now on the ticket's orders through the orders app's
own services."""

import pytest
from django.urls import reverse

from orders.models import Refill, Source, Status
from support.models import CannedReply, TicketStatus
from support.services import ticket_close, ticket_reply
from tests.helpers import place, reload, set_outcome

from .conftest import open_ticket, png

pytestmark = pytest.mark.django_db

S = TicketStatus


def _thread(staff_client, ticket):
    return staff_client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()


def test_the_list_shows_waiting_tickets_first_then_the_latest(alice, charlie, staff, staff_client):
    answered = open_ticket(alice, body="answered one")
    ticket_reply(ticket=answered, author=staff, body="ok", by_staff=True)
    open_ticket(charlie, body="old question")
    open_ticket(alice, body="new question")
    ticket_reply(ticket=answered, author=staff, body="latest activity, but answered", by_staff=True)

    page = staff_client.get(reverse("admin:support_ticket_changelist")).content.decode()
    positions = [page.index(text) for text in ("new question", "old question", "answered one")]
    assert positions == sorted(positions)


def test_the_list_is_searchable_by_username_and_filterable_by_status(alice, charlie, staff_client):
    open_ticket(alice, body="from alice")
    open_ticket(charlie, body="from charlie")
    page = staff_client.get(reverse("admin:support_ticket_changelist"), {"q": "charlie"}).content.decode()
    assert "from charlie" in page and "from alice" not in page
    page = staff_client.get(reverse("admin:support_ticket_changelist"), {"status__exact": "closed"})
    assert "from alice" not in page.content.decode()


def test_the_thread_shows_messages_attachments_and_orders_with_their_status(alice, staff_client, completed):
    ticket = open_ticket(alice, orders=completed[:1], body="Please refill", files=[png("proof.png")])
    page = _thread(staff_client, ticket)
    assert "Please refill" in page
    attachment = ticket.messages.get().attachments.get()
    assert reverse("support:attachment", args=[attachment.pk]) in page and "proof.png" in page
    assert f'data-order="{completed[0].pk}"' in page and 'data-status="completed"' in page
    for action in ("refill", "cancel", "poll"):
        assert reverse("admin:support_ticket_order_action", args=[ticket.pk, completed[0].pk, action]) in page


def test_staff_reply_from_admin_answers_the_ticket(alice_client, staff_client, ticket):
    response = staff_client.post(reverse("admin:support_ticket_reply", args=[ticket.pk]), {"body": "On it."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.ANSWERED and ticket.unread_by_customer
    message = ticket.messages.last()
    assert message.by_staff and message.body == "On it."
    assert "On it." in alice_client.get(ticket.get_absolute_url()).content.decode()


def test_a_canned_reply_fills_an_empty_reply_and_can_close_the_ticket(staff_client, ticket):
    canned = CannedReply.objects.create(title="Refill done", body="We refilled your order. Thank you!")
    page = _thread(staff_client, ticket)
    assert f'<option value="{canned.pk}">Refill done</option>' in page
    assert "We refilled your order. Thank you!" in page  # for the chooser's script

    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    staff_client.post(url, {"canned": canned.pk, "body": "", "close_after": "on"})
    ticket.refresh_from_db()
    assert ticket.messages.last().body == "We refilled your order. Thank you!"
    assert ticket.status == S.CLOSED
    assert list(ticket.events.values_list("new_status", flat=True)) == [S.OPEN, S.ANSWERED, S.CLOSED]


def test_a_typed_reply_wins_over_the_canned_one(staff_client, ticket):
    canned = CannedReply.objects.create(title="Thanks", body="Thanks!")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    staff_client.post(url, {"canned": canned.pk, "body": "Edited: thanks, Alice!"})
    assert ticket.messages.last().body == "Edited: thanks, Alice!"


def test_an_empty_reply_without_a_canned_one_is_refused(staff_client, ticket):
    response = staff_client.post(reverse("admin:support_ticket_reply", args=[ticket.pk]), {"body": " "})
    assert response.status_code == 422
    assert "Write a reply or choose a canned reply." in response.content.decode()
    assert ticket.messages.count() == 1


def test_staff_close_a_ticket_and_reopen_it_by_replying(staff_client, ticket):
    staff_client.post(reverse("admin:support_ticket_close", args=[ticket.pk]))
    assert reload(ticket).status == S.CLOSED
    staff_client.post(reverse("admin:support_ticket_reply", args=[ticket.pk]), {"body": "One more thing"})
    assert reload(ticket).status == S.ANSWERED


def test_refill_from_the_ticket_creates_a_refill_of_the_order(alice, staff, staff_client, completed):
    order = completed[0]
    ticket = open_ticket(alice, orders=[order])
    url = reverse("admin:support_ticket_order_action", args=[ticket.pk, order.pk, "refill"])
    response = staff_client.post(url, follow=True)

    refill = Refill.objects.get(order=order)
    assert refill.user == alice
    assert f"Order {order.pk}: refill {refill.pk} requested." in response.content.decode()
    # The refill's history names the staff member who asked for it, and so does the ticket's.
    event = refill.events.get()
    assert (event.source, event.created_by) == (Source.OPERATOR, staff)
    assert f"Order {order.pk}: refill {refill.pk} requested. (staff, {staff.username})" in _thread(
        staff_client, ticket
    )

    again = staff_client.post(url, follow=True).content.decode()  # the orders app's own rule: one open refill
    assert Refill.objects.filter(order=order).count() == 1
    assert f"Order {order.pk}:" in again


def test_cancel_from_the_ticket_asks_the_provider(alice, staff, staff_client, followers):
    (order,) = place(alice, followers)
    assert order.status == Status.PENDING
    ticket = open_ticket(alice, orders=[order])
    url = reverse("admin:support_ticket_order_action", args=[ticket.pk, order.pk, "cancel"])
    response = staff_client.post(url, follow=True)

    assert reload(order).cancel_requested_at is not None
    assert "cancel requested" in response.content.decode()
    note = order.events.get(note__icontains="cancel")
    assert (note.source, note.created_by) == (Source.OPERATOR, staff)


def test_poll_now_from_the_ticket_updates_the_order(alice, staff_client, followers, simulator):
    (order,) = place(alice, followers)
    ticket = open_ticket(alice, orders=[order])
    set_outcome(simulator, order, "Completed")
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)

    url = reverse("admin:support_ticket_order_action", args=[ticket.pk, order.pk, "poll"])
    response = staff_client.post(url, follow=True)
    assert reload(order).status == Status.COMPLETED
    assert f"Order {order.pk}: polled" in response.content.decode()


def test_an_order_not_on_the_ticket_cannot_be_acted_on(alice, staff_client, completed):
    ticket = open_ticket(alice, orders=[completed[0]])
    url = reverse("admin:support_ticket_order_action", args=[ticket.pk, completed[1].pk, "refill"])
    response = staff_client.post(url, follow=True)
    assert f"Order {completed[1].pk} is not on ticket {ticket.pk}." in response.content.decode()
    assert not Refill.objects.exists()


def test_actions_need_a_post(alice, staff_client, completed):
    ticket = open_ticket(alice, orders=[completed[0]])
    url = reverse("admin:support_ticket_order_action", args=[ticket.pk, completed[0].pk, "refill"])
    assert staff_client.get(url).status_code == 302
    assert not Refill.objects.exists()


def test_the_thread_shows_the_history(alice, staff, staff_client, ticket):
    ticket_reply(ticket=ticket, author=staff, body="Hi", by_staff=True)
    ticket_close(ticket=ticket, by=alice, by_staff=False)
    page = _thread(staff_client, ticket)
    assert "Open &rarr; Answered (staff, operator)" in page
    assert "Answered &rarr; Closed (customer, alice)" in page
    assert "Opened (customer, alice)" in page


def test_a_mistyped_ticket_address_is_not_found(staff_client):
    assert staff_client.get("/admin/support/ticket/abc/change/").status_code == 404
    assert staff_client.get("/admin/support/ticket/999999/change/").status_code == 404


def test_a_reply_whose_close_fails_is_not_sent_either(staff_client, ticket, monkeypatch):
    """Reply and close go together: a reply kept while the page says it failed would be sent twice."""
    from support import services
    from support.errors import SupportError

    def closed_meanwhile(**kwargs):
        raise SupportError("This ticket is already closed.")

    monkeypatch.setattr(services, "ticket_close", closed_meanwhile)
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])

    response = staff_client.post(url, {"body": "Done.", "close_after": "on"})

    assert response.status_code == 422
    assert "This ticket is already closed." in response.content.decode()
    assert ticket.messages.count() == 1 and reload(ticket).status == S.OPEN
