"""Support tests' helpers: uploads kept in a temporary media folder, images made by Pillow, a staff member
with a client, tickets opened through the service."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def image_bytes(fmt="PNG", size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def png(name="screenshot.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(), content_type=content_type)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def staff(db):
    from tests.factories import StaffFactory

    return StaffFactory(username="operator", email="operator@example.com")


@pytest.fixture
def staff_client(staff):
    """Overrides the shared one: these tests need the staff member too."""
    from django.test import Client

    client = Client()
    client.force_login(staff)
    return client


def open_ticket(user, *, subject="order", orders=(), body="Where is my order?", files=()):
    from support.services import ticket_open

    return ticket_open(
        user=user, subject=subject, order_ids=[order.pk for order in orders], body=body, files=list(files)
    )


@pytest.fixture
def ticket(alice):
    """Alice's ticket, Open, with one message and no orders."""
    return open_ticket(alice)
