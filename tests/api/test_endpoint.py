"""The endpoint as clients meet it: transport, authentication, JSON whatever happens, isolation."""

import logging

import pytest
from django.test import Client

from orders.models import Order
from reseller.accounts.services import api_key_rotate
from tests.factories import OrderFactory
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_both_spellings_answer_directly_by_post_and_by_get_query_string(client, alice, path, method):
    if method == "get":
        response = client.get(f"{path}?key={alice.key}&action=balance")
    else:
        response = client.post(path, {"key": alice.key, "action": "balance"})

    assert response.status_code == 200, "answered, not redirected"
    assert response.json() == {"balance": "100.00000", "currency": "USD"}


def test_post_fields_win_over_the_query_string(client, alice):
    response = client.post("/api/v2?action=services&key=wrong", {"key": alice.key, "action": "balance"})

    assert response.json()["balance"] == "100.00000"


@pytest.mark.parametrize("key", [None, "", "not-a-key", "0" * 48])
def test_a_missing_or_wrong_key_is_an_invalid_api_key(client, alice, key):
    data = {"action": "balance"} if key is None else {"key": key, "action": "balance"}

    response = client.post("/api/v2", data)

    assert (response.status_code, response.json()) == (200, {"error": "Invalid API key"})


def test_the_key_of_a_deactivated_customer_is_invalid(alice):
    type(alice.user).objects.filter(pk=alice.user.pk).update(is_active=False)

    assert alice.call("balance") == {"error": "Invalid API key"}


def test_a_session_cookie_alone_is_not_accepted(client, alice, likes):
    client.force_login(alice.user)

    answer = client.post("/api/v2", {"action": "add", "service": likes.pk, "link": LINK, "quantity": 100})

    assert answer.json() == {"error": "Invalid API key"}
    assert not Order.objects.exists()


def test_no_csrf_token_is_needed(alice):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice.user)  # a browser that is also logged in still posts without a token

    response = strict.post("/api/v2", {"key": alice.key, "action": "balance"})

    assert (response.status_code, response.json()["currency"]) == (200, "USD")


@pytest.mark.parametrize("action", [None, "", "nonsense", "Balance"])
def test_a_missing_or_unknown_action_is_an_incorrect_request(client, alice, action):
    data = {"key": alice.key} if action is None else {"key": alice.key, "action": action}

    assert client.post("/api/v2", data).json() == {"error": "Incorrect request"}


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_other_methods_get_a_json_error(client, alice, method):
    response = getattr(client, method)(f"/api/v2?key={alice.key}&action=balance")

    assert response["Content-Type"] == "application/json"
    assert (response.status_code, response.json()) == (200, {"error": "Incorrect request"})


@pytest.mark.parametrize("path", ["/api/v2/foo", "/api/v2/orders/1/", "/api/v2//"])
def test_a_wrong_path_under_the_endpoint_is_json_never_html(path):
    response = Client(enforce_csrf_checks=True).post(path, {"action": "balance"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not found"}


def test_an_unexpected_failure_is_an_internal_error_logged_without_the_key(alice, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("reseller.api.actions.wallet_balance", broken)

    with caplog.at_level(logging.DEBUG):
        answer = alice.call("balance")

    assert answer == {"error": "Internal error"}
    assert "database on fire" in caplog.text, "the traceback is logged for us"
    assert alice.key not in caplog.text


def test_the_key_is_never_logged(alice, likes, caplog):
    with caplog.at_level(logging.DEBUG):
        alice.call("balance")
        alice.call("add", service=likes.pk, link=LINK, quantity=100)
        alice.call("status", method="get", order=1)
        alice.call("nonsense")

    assert caplog.records, "something was logged, so the check means something"
    assert alice.key not in caplog.text
    assert alice.key[:8] not in caplog.text


def test_answers_are_never_cached(alice, client):
    response = client.post("/api/v2", {"key": alice.key, "action": "balance"})

    assert "no-store" in response["Cache-Control"]


def test_a_successful_answer_never_carries_an_error_key(alice, likes):
    order_id = alice.call("add", service=likes.pk, link=LINK, quantity=100)["order"]

    for answer in (
        alice.call("balance"),
        alice.call("status", order=order_id),
        alice.call("add", service=likes.pk, link=LINK, quantity=100),
    ):
        assert "error" not in answer
    assert all("error" not in entry for entry in alice.call("services"))


# Isolation: Charlie should have no access to Alice's stuff --------------------------------------------------


def test_another_customers_order_is_an_incorrect_order_id(alice, charlie):
    order = OrderFactory(user=alice.user)

    assert charlie.call("status", order=order.pk) == {"error": "Incorrect order ID"}
    assert charlie.call("status", orders=str(order.pk)) == {str(order.pk): {"error": "Incorrect order ID"}}
    assert alice.call("status", order=order.pk)["status"] == "Pending"


def test_a_key_sees_its_own_balance_only(alice, charlie, likes):
    alice.call("add", service=likes.pk, link=LINK, quantity=1000)

    assert charlie.call("balance")["balance"] == "100.00000"
    assert alice.call("balance")["balance"] == "99.45400"


def test_a_rotated_key_stops_working_at_once(alice):
    new_key = api_key_rotate(user=alice.user)

    assert alice.call("balance") == {"error": "Invalid API key"}
    alice.key = new_key
    assert alice.call("balance")["currency"] == "USD"


def test_a_nul_byte_in_the_key_is_an_invalid_key_not_an_error(client, alice, caplog):
    response = client.post("/api/v2", {"key": alice.key + "\x00", "action": "balance"})

    assert response.json() == {"error": "Invalid API key"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize("field", ["link", "comments", "service"])
def test_a_nul_byte_in_any_field_is_an_incorrect_request_and_places_nothing(alice, comments, field):
    fields = {"service": comments.pk, "link": LINK, "comments": "a\nb\nc\nd\ne"}
    fields[field] = fields[field] + "\x00" if field != "service" else f"{comments.pk}\x00"

    assert alice.call("add", **fields) == {"error": "Incorrect request"}
    assert not Order.objects.exists()


def test_a_broken_multipart_body_is_an_incorrect_request(client, alice):
    response = client.generic("POST", "/api/v2", b"--x\r\nbroken", content_type="multipart/form-data")

    assert (response.status_code, response.json()) == (200, {"error": "Incorrect request"})
