"""The rate limits, per customer and per address for wrong keys, counted in the configured cache (locmem
locally, Redis in CI), or in the process while the cache is down."""

import socket

import pytest
from django.test import override_settings

from reseller.accounts.services import api_key_rotate

pytestmark = pytest.mark.django_db
LIMITED = {"error": "Too many requests, retry later"}


@override_settings(API_RATE_LIMIT="3/h")
def test_a_key_over_its_limit_is_told_to_retry_later(alice, client):
    answers = [alice.call("balance") for _ in range(3)]
    response = client.post("/api/v2", {"key": alice.key, "action": "balance"})

    assert all(answer["currency"] == "USD" for answer in answers)
    assert (response.status_code, response.json()) == (200, LIMITED)
    assert 0 < int(response["Retry-After"]) <= 3600


@override_settings(API_RATE_LIMIT="3/h")
def test_the_limit_is_per_customer(alice, charlie):
    for _ in range(4):
        alice.call("balance")

    assert alice.call("balance") == LIMITED
    assert charlie.call("balance")["currency"] == "USD"


@override_settings(API_RATE_LIMIT="3/h")
def test_rotating_the_key_does_not_reset_the_limit(alice):
    for _ in range(3):
        alice.call("balance")

    alice.key = api_key_rotate(user=alice.user)

    assert alice.call("balance") == LIMITED


@override_settings(API_RATE_LIMIT="3/h")
def test_a_limited_request_changes_nothing(alice, likes):
    for _ in range(3):
        alice.call("balance")

    assert alice.call("add", service=likes.pk, link="https://x.example/p", quantity=100) == LIMITED
    assert not likes.orders.exists()


@override_settings(API_RATE_LIMIT="3/h")
def test_wrong_keys_are_refused_before_they_count(alice, client):
    for _ in range(5):
        client.post("/api/v2", {"key": "wrong", "action": "balance"})

    assert alice.call("balance")["currency"] == "USD"


def test_the_default_limit_lets_a_busy_script_through(alice):
    answers = [alice.call("balance") for _ in range(50)]

    assert all("error" not in answer for answer in answers)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_cache():
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": "reseller.cache.FallbackRedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            }
        }
    )


def test_when_the_cache_is_down_the_limit_holds_in_each_process(alice, charlie, caplog):
    with unreachable_cache(), override_settings(API_RATE_LIMIT="3/h"):
        answers = [alice.call("balance") for _ in range(4)]
        other = charlie.call("balance")

    assert [answer.get("currency") for answer in answers] == ["USD", "USD", "USD", None]
    assert answers[-1] == LIMITED
    assert other["currency"] == "USD"
    assert caplog.text.count("Redis is unreachable") == 1  # not a line per request


@override_settings(API_BAD_KEY_LIMIT="3/h")
def test_an_address_that_keeps_sending_wrong_keys_is_refused_even_a_right_one(alice, client):
    wrong = [client.post("/api/v2", {"key": f"wrong{i}", "action": "balance"}).json() for i in range(3)]
    over = client.post("/api/v2", {"key": "wrong", "action": "balance"})
    right = client.post("/api/v2", {"key": alice.key, "action": "balance"})
    elsewhere = client.post("/api/v2", {"key": alice.key, "action": "balance"}, REMOTE_ADDR="203.0.113.9")

    assert wrong == [{"error": "Invalid API key"}] * 3
    assert over.json() == LIMITED and 0 < int(over["Retry-After"]) <= 3600
    assert right.json() == LIMITED and 0 < int(right["Retry-After"]) <= 3600
    assert elsewhere.json()["currency"] == "USD"


@override_settings(API_BAD_KEY_LIMIT="3/h")
def test_wrong_keys_are_counted_while_the_cache_is_down_too(client):
    with unreachable_cache():
        answers = [client.post("/api/v2", {"key": "wrong", "action": "balance"}).json() for _ in range(4)]

    assert answers == [{"error": "Invalid API key"}] * 3 + [LIMITED]
