"""Emails: a staff reply emails the customer (unless they turned emails off), with an escaped excerpt and
a link to the ticket; a customer's new ticket or reply emails staff (unless SUPPORT_EMAIL_STAFF is off)."""

import pytest
from django.urls import reverse

from support.services import ticket_reply

from .conftest import open_ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

PANEL_URL = "http://panel.example"


@pytest.fixture(autouse=True)
def _panel_url(settings):
    settings.PANEL_URL = PANEL_URL


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def quiet_ticket(alice, settings):
    settings.SUPPORT_EMAIL_STAFF = False
    ticket = open_ticket(alice)
    settings.SUPPORT_EMAIL_STAFF = True
    return ticket


def test_a_staff_reply_emails_the_customer(mailoutbox, committed, staff, quiet_ticket):
    with committed():
        ticket_reply(ticket=quiet_ticket, author=staff, body="Refilled <b>now</b> & done.", by_staff=True)

    (message,) = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == f"[Reseller] New reply on your ticket {quiet_ticket.pk}"
    link = f"{PANEL_URL}{reverse('support:detail', args=[quiet_ticket.pk])}"
    html = message.alternatives[0][0]
    assert link in message.body and link in html
    assert "Refilled <b>now</b> & done." in message.body
    assert "Refilled &lt;b&gt;now&lt;/b&gt; &amp; done." in html and "<b>now" not in html
    assert f"{PANEL_URL}/account/#preferences" in message.body


def test_no_email_when_the_customer_turned_emails_off(mailoutbox, committed, alice, staff, quiet_ticket):
    alice.email_notifications = False
    alice.save()
    with committed():
        ticket_reply(ticket=quiet_ticket, author=staff, body="Answer", by_staff=True)
    assert mailoutbox == []


def test_a_new_ticket_and_a_customer_reply_email_staff(mailoutbox, committed, alice, staff):
    with committed():
        ticket = open_ticket(alice, body="My order is stuck")
    (opened,) = mailoutbox
    assert opened.to == ["operator@example.com"]
    assert opened.subject == f"[Reseller] alice opened ticket {ticket.pk} (order)"
    assert "My order is stuck" in opened.body
    assert f"{PANEL_URL}/admin/support/ticket/{ticket.pk}/change/" in opened.body

    with committed():
        ticket_reply(ticket=ticket, author=alice, body="Still stuck", by_staff=False)
    assert mailoutbox[1].subject == f"[Reseller] alice replied to ticket {ticket.pk} (order)"
    assert all("alice@example.com" not in message.to for message in mailoutbox)


def test_staff_emails_can_be_turned_off(mailoutbox, committed, alice, staff, settings):
    settings.SUPPORT_EMAIL_STAFF = False
    with committed():
        open_ticket(alice)
    assert mailoutbox == []
