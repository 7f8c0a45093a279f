"""Every customer text is escaped wherever it shows: the message, an attachment's file name and a canned
reply, on the customer's pages and in the admin's list and thread."""

import pytest
from django.urls import reverse

from support.models import CannedReply
from support.services import ticket_staff_reply

from .conftest import open_ticket, png

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
NAME = "<img src=x onerror=alert(1)>.png"


@pytest.fixture
def hostile(alice, staff):
    ticket = open_ticket(alice, body=f"Hello {XSS}", files=[png(NAME)])
    canned = CannedReply.objects.create(title=f"Title {XSS}", body=f"Canned {XSS}")
    ticket_staff_reply(ticket=ticket, author=staff, body="", canned_id=canned.pk)
    return ticket


def _assert_escaped(page: str):
    assert XSS not in page and "<img src=x" not in page
    assert ESCAPED in page


def test_the_customer_pages_escape_messages_file_names_and_canned_replies(alice_client, hostile):
    page = alice_client.get(reverse("support:detail", args=[hostile.pk])).content.decode()
    _assert_escaped(page)
    assert f"Hello {ESCAPED}" in page and f"Canned {ESCAPED}" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_the_admin_thread_escapes_everything(staff_client, hostile):
    page = staff_client.get(reverse("admin:support_ticket_change", args=[hostile.pk])).content.decode()
    _assert_escaped(page)
    assert f"Hello {ESCAPED}" in page and f"Canned {ESCAPED}" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page
    assert f"Title {ESCAPED}" in page  # the canned reply chooser
    # the canned texts for the chooser's script: JSON with <, > escaped, never a closing </script>
    assert "Canned \\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in page


def test_the_admin_lists_escape_them_too(staff_client, hostile):
    _assert_escaped(staff_client.get(reverse("admin:support_ticket_changelist")).content.decode())
    _assert_escaped(staff_client.get(reverse("admin:support_cannedreply_changelist")).content.decode())
