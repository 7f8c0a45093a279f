"""What a request to /api/v2 must be before it is read: our Host, a body of a bounded size, no files. Each
refusal is JSON and changes nothing."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from orders.models import Order
from reseller.api.middleware import NO_FILES, ApiMiddleware
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


def test_a_body_over_the_limit_is_refused_unread(settings):
    request = RequestFactory().post("/api/v2", data=b"", content_type="application/x-www-form-urlencoded")
    request.META["CONTENT_LENGTH"] = str(100 * 1024 * 1024)
    request.META["wsgi.input"] = Unreadable()

    response = ApiMiddleware(lambda request: None)(request)

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    limit = settings.API_MAX_BODY_BYTES // 1024
    assert json.loads(response.content) == {"error": f"Request too large (at most {limit} KB)"}


def test_a_body_under_the_limit_is_read(alice):
    assert "balance" in alice.call("balance", padding="x" * 100_000)


def test_a_multipart_body_may_carry_fields_but_not_files(alice, likes):
    fields = {"key": alice.key, "action": "add", "service": likes.pk, "link": LINK, "quantity": 100}

    with_fields = alice.client.post("/api/v2", fields)  # multipart, as PHP's curl sends an array
    with_a_file = alice.client.post(
        "/api/v2", {**fields, "comments": SimpleUploadedFile("a.txt", b"x" * 1000)}
    )

    assert "order" in with_fields.json()
    assert with_a_file.json() == {"error": NO_FILES}
    assert Order.objects.count() == 1


def test_a_foreign_host_is_told_so_in_json(alice):
    response = alice.client.post("/api/v2", {"key": alice.key, "action": "balance"}, HTTP_HOST="evil.example")

    assert (response.status_code, response["Content-Type"]) == (400, "application/json")
    assert response.json() == {"error": "Unknown host"}


def test_a_content_length_that_is_no_number_is_told_so(client):
    response = client.post("/api/v2", data=b"", content_type="text/plain", CONTENT_LENGTH="ten")

    assert response.status_code == 400 and response.json() == {"error": "Content-Length is not a number"}


def test_errors_django_answers_on_api_paths_are_json_and_pages_keep_theirs(client):
    api = client.get("/api/v2/orders", HTTP_HOST="evil.example")  # refused by Django before any view
    page = client.get("/orders/", HTTP_HOST="evil.example")

    assert (api.status_code, api["Content-Type"], api.json()) == (
        400,
        "application/json",
        {"error": "Bad request"},
    )
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
