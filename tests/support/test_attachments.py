"""Attachments: images only (decoded by Pillow, whatever the name or declared type), size- and
count-limited, stored under a random name, served with the type Pillow read and nosniff."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from support.models import Attachment, Ticket, TicketMessage

from .conftest import HTML, SVG, image_bytes, png

pytestmark = pytest.mark.django_db


def _post(client, *files, body="See the screenshot"):
    return client.post(reverse("support:new"), {"subject": "order", "body": body, "images": list(files)})


def test_a_png_is_stored_under_a_random_name_and_served_to_the_owner_and_staff(
    alice_client, staff_client, settings
):
    response = _post(alice_client, png("my screen.png", content_type="application/octet-stream"))
    assert response.status_code == 302

    attachment = Attachment.objects.get()
    assert attachment.original_name == "my screen.png" and attachment.content_type == "image/png"
    assert attachment.file.name.startswith("support/") and "my screen" not in attachment.file.name
    assert (settings.MEDIA_ROOT / attachment.file.name).exists()

    for client in (alice_client, staff_client):
        served = client.get(reverse("support:attachment", args=[attachment.pk]))
        assert served.status_code == 200
        assert served["Content-Type"] == "image/png"
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Disposition"] == 'inline; filename="my screen.png"'
        assert b"".join(served.streaming_content) == image_bytes()

    page = alice_client.get(Ticket.objects.get().get_absolute_url()).content.decode()
    assert f'src="{reverse("support:attachment", args=[attachment.pk])}"' in page


@pytest.mark.parametrize(
    "fmt, content_type", [("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")]
)
def test_jpeg_gif_and_webp_are_accepted_with_the_type_pillow_reads(alice_client, fmt, content_type):
    upload = SimpleUploadedFile("photo.png", image_bytes(fmt), content_type="image/png")
    assert _post(alice_client, upload).status_code == 302
    assert Attachment.objects.get().content_type == content_type


@pytest.mark.parametrize(
    "name, content, declared",
    [
        ("drawing.svg", SVG, "image/svg+xml"),
        ("innocent.png", HTML, "image/png"),
        ("notes.txt", b"just text", "text/plain"),
        ("broken.png", image_bytes()[:40], "image/png"),
        ("icon.bmp", image_bytes("BMP"), "image/bmp"),
    ],
)
def test_anything_but_a_real_image_is_refused_and_nothing_is_created(alice_client, name, content, declared):
    response = _post(alice_client, SimpleUploadedFile(name, content, content_type=declared))
    assert response.status_code == 422
    page = response.content.decode()
    assert f"{name} is not an image: only PNG, JPEG, GIF and WebP images can be attached." in page
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_an_oversized_image_is_refused(alice_client, settings):
    settings.SUPPORT_ATTACHMENT_MAX_BYTES = 100
    response = _post(alice_client, SimpleUploadedFile("big.png", image_bytes(size=(64, 64)), "image/png"))
    assert response.status_code == 422
    assert "big.png is larger than 100\xa0bytes." in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_more_images_than_allowed_are_refused(alice_client):
    response = _post(alice_client, *(png(f"shot{i}.png") for i in range(4)))
    assert response.status_code == 422
    assert "At most 3 images per message." in response.content.decode()
    assert not TicketMessage.objects.exists()


def test_a_reply_can_carry_images_too_and_a_bad_one_stops_the_reply(alice, alice_client, ticket):
    url = reverse("support:reply", args=[ticket.pk])
    assert alice_client.post(url, {"body": "Here", "images": [png(), png("b.png")]}).status_code == 302
    assert Attachment.objects.filter(message__ticket=ticket).count() == 2

    bad = SimpleUploadedFile("x.png", SVG, content_type="image/png")
    assert alice_client.post(url, {"body": "And this", "images": [bad]}).status_code == 422
    assert ticket.messages.count() == 2


def test_a_file_name_with_folders_and_control_characters_is_cleaned(alice_client):
    _post(alice_client, png("../../etc/\x00pass\nwd.png"))
    assert Attachment.objects.get().original_name == "passwd.png"


def test_a_phone_cameras_jpeg_with_a_multi_picture_block_is_a_jpeg(alice_client):
    """Pillow names such a JPEG "MPO"; browsers show it as the JPEG it is."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(buffer, format="MPO")

    response = _post(alice_client, SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), "image/jpeg"))

    assert response.status_code == 302
    assert Attachment.objects.get().content_type == "image/jpeg"


def test_staff_who_may_not_see_tickets_cannot_fetch_an_attachment(alice_client):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.factories import UserFactory

    _post(alice_client, png())
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(clerk)

    response = client.get(reverse("support:attachment", args=[Attachment.objects.get().pk]))

    assert response.status_code == 404


def test_a_post_larger_than_its_images_may_be_is_refused_before_it_is_read(
    alice_client, settings, monkeypatch
):
    """From its Content-Length: Django never parses (nor spools to disk) what comes after."""
    from django.http.multipartparser import MultiPartParser

    settings.SUPPORT_ATTACHMENT_MAX_BYTES = 1000
    settings.SUPPORT_ATTACHMENTS_PER_MESSAGE = 1
    parsed = []
    original = MultiPartParser.parse
    monkeypatch.setattr(MultiPartParser, "parse", lambda self: parsed.append(1) or original(self))
    big = SimpleUploadedFile("big.png", b"\0" * 200_000, "image/png")

    response = _post(alice_client, big)

    assert response.status_code == 413
    page = response.content.decode()
    assert "A message can carry at most 1 image of at most 1000" in page and "Nothing was sent" in page
    assert parsed == [] and not Ticket.objects.exists()

    assert _post(alice_client, png()).status_code == 302  # one that fits goes through
    assert parsed == [1]


def test_an_image_that_fails_to_store_leaves_no_file_of_the_message_behind(alice, settings, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    from support.services import ticket_open

    saved = []
    original = FileSystemStorage._save

    def save_then_fail(self, name, content):
        if saved:
            raise OSError("disk full")
        saved.append(original(self, name, content))
        return saved[-1]

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        ticket_open(user=alice, subject="order", order_ids=[], body="Two screenshots", files=[png(), png()])

    assert saved and not (settings.MEDIA_ROOT / saved[0]).exists()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
