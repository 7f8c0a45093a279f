"""Charlie sees none of Alice's tickets, replies, closing or attachments (404, as if they did not exist);
the anonymous are sent to log in."""

import pytest
from django.urls import reverse

from support.models import Attachment

from .conftest import open_ticket, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(alice):
    return open_ticket(alice, body="Alice's secret question", files=[png("alice-private.png")])


def test_charlie_sees_none_of_alices_tickets(charlie_client, alices):
    listing = charlie_client.get(reverse("support:list")).content.decode()
    assert "No tickets yet." in listing and f"ticket-{alices.pk}" not in listing
    assert charlie_client.get(reverse("support:detail", args=[alices.pk])).status_code == 404


def test_charlie_cannot_reply_to_or_close_alices_ticket(charlie_client, alices):
    reply = charlie_client.post(reverse("support:reply", args=[alices.pk]), {"body": "Hijack"})
    close = charlie_client.post(reverse("support:close", args=[alices.pk]))
    assert reply.status_code == 404 and close.status_code == 404
    alices.refresh_from_db()
    assert alices.status == "open" and alices.messages.count() == 1


def test_charlie_cannot_fetch_alices_attachment_but_alice_and_staff_can(
    alice_client, charlie_client, staff_client, alices
):
    attachment = Attachment.objects.get()
    url = reverse("support:attachment", args=[attachment.pk])
    assert charlie_client.get(url).status_code == 404
    assert alice_client.get(url).status_code == 200
    assert staff_client.get(url).status_code == 200


def test_the_anonymous_are_sent_to_log_in(client, alices):
    attachment = Attachment.objects.get()
    for url, method in [
        (reverse("support:list"), "get"),
        (reverse("support:new"), "get"),
        (reverse("support:detail", args=[alices.pk]), "get"),
        (reverse("support:reply", args=[alices.pk]), "post"),
        (reverse("support:close", args=[alices.pk]), "post"),
        (reverse("support:attachment", args=[attachment.pk]), "get"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_a_customer_is_not_let_into_the_admin_thread(charlie_client, alices):
    response = charlie_client.get(reverse("admin:support_ticket_change", args=[alices.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert "secret" not in response.content.decode()
