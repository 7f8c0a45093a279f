"""The endpoint's short way through: past the pages' middleware, the rate limit in one round trip, the
service read by SQL made once, `status` read as plain values. Each must answer exactly as before."""

import socket
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.test import override_settings

from catalog.models import Service
from orders.models import Order, Status
from reseller.api import limits
from reseller.api.actions import order_answer
from reseller.api.middleware import HTTPS_REQUIRED
from reseller.api.selectors import api_order_states_for_user, api_service_get
from tests.factories import OrderFactory
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


# The middleware -------------------------------------------------------------------------------------------


def test_an_answer_sets_no_cookie_and_keeps_the_security_headers(alice, likes):
    response = alice.client.post(
        "/api/v2",
        {"key": alice.key, "action": "add", "service": likes.pk, "link": LINK, "quantity": 100},
        headers={"Accept-Language": "vi"},
    )

    assert "order" in response.json()
    assert not response.cookies
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Language"] == "en"
    assert "no-store" in response["Cache-Control"]


def test_plain_http_gets_a_json_error_that_repeats_no_key_and_does_nothing(alice, likes):
    with override_settings(SECURE_SSL_REDIRECT=True):
        response = alice.client.get(
            "/api/v2", {"key": alice.key, "action": "add", "service": likes.pk, "link": LINK, "quantity": 100}
        )

    assert response.status_code == 200 and "Location" not in response
    assert response.json() == {"error": HTTPS_REQUIRED}
    assert alice.key not in response.content.decode()
    assert not Order.objects.exists()


def test_over_https_the_answer_carries_the_security_headers(alice, settings):
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 3600
    response = alice.client.post("/api/v2", {"key": alice.key, "action": "balance"}, secure=True)

    assert "balance" in response.json()
    assert response["Strict-Transport-Security"] == "max-age=3600"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_other_api_paths_go_the_usual_way(client):
    assert client.get("/api/").status_code == 200  # the docs page, with its session and language
    assert client.get("/api/v2/nothing").json() == {"error": "Not found"}


def test_an_add_makes_a_fixed_number_of_queries(alice, likes, django_assert_max_num_queries):
    alice.call("add", service=likes.pk, link=LINK, quantity=100)  # the key's last use is written once

    # The key, the service, the order and its history row, the wallet's five, savepoints; no field loaded
    # late (a deferred one would add a query), and SQLite's BEGIN and COMMIT counted among them there.
    with django_assert_max_num_queries(14):
        assert "order" in alice.call("add", service=likes.pk, link=LINK, quantity=100)


# The service, read by SQL made once ------------------------------------------------------------------------


def test_the_service_is_read_with_every_field_and_its_provider_as_the_orm_reads_them(
    likes, django_assert_num_queries
):
    likes.raw = {"rate": "0.42", "note": "kept as sent"}
    likes.save()
    expected = Service.objects.select_related("provider").get(pk=likes.pk)

    with django_assert_num_queries(1):
        service = api_service_get(service_id=likes.pk)
        provider = service.provider

    for field in Service._meta.concrete_fields:
        assert getattr(service, field.attname) == getattr(expected, field.attname), field.name
    for field in provider._meta.concrete_fields:
        assert getattr(provider, field.attname) == getattr(expected.provider, field.attname), field.name
    assert service.raw == {"rate": "0.42", "note": "kept as sent"}
    assert isinstance(service.price_rate, Decimal)
    assert not service._state.adding


def test_an_unknown_service_is_none(db):
    assert api_service_get(service_id=987654) is None
    assert api_service_get(service_id=None) is None


# status, read as plain values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.PARTIAL, "start_count": 12, "remains": 30, "refund": Decimal("0.3")},
        {"status": Status.IN_PROGRESS, "runs": 4, "interval": 10, "runs_done": 2, "child_orders": [7, 8]},
        {
            "status": Status.ACTIVE,
            "service_type": "Subscriptions",
            "upstream_fields": {"expiry": "01/02/2030", "posts": "5"},
            "posts_done": 3,
            "child_orders": [9],
        },
        {"status": Status.QUEUED, "remains": None, "start_count": None},
    ],
    ids=["partial", "dripfeed", "subscription", "queued"],
)
def test_an_order_s_state_answers_as_the_order_does(alice, fields):
    order = OrderFactory(user=alice.user, **fields)

    state = api_order_states_for_user(user=alice.user, order_ids=[order.pk])[order.pk]

    assert order_answer(state) == order_answer(Order.objects.get(pk=order.pk))


def test_states_are_only_the_customer_s_own(alice, charlie):
    mine, theirs = OrderFactory(user=alice.user), OrderFactory(user=charlie.user)

    found = api_order_states_for_user(user=alice.user, order_ids=[mine.pk, theirs.pk, 999999])

    assert list(found) == [mine.pk]


# The rate limit -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "split"), [("600/m", (600, 60)), ("10/5m", (10, 300)), ("3/H", (3, 3600)), ("5/", (5, 1))]
)
def test_a_rate_is_a_count_per_period(rate, split):
    assert limits.rate_split(rate) == split


def test_a_rate_that_is_none_raises():
    with pytest.raises(ValueError, match="not a rate"):
        limits.rate_split("often")


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        return False
    return True


MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOCAL_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/13",
    }
}


@pytest.fixture(params=["locmem", "redis"])
def any_cache(request):
    """The cache the limiter counts in: memory, and Redis (db 13 of the local server) when one runs."""
    if request.param == "locmem":
        with override_settings(CACHES=MEMORY):
            yield caches["default"]
        return
    if not redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    with override_settings(CACHES=LOCAL_REDIS):
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


def test_each_request_counts_one_within_its_window(any_cache):
    counts = [limits.usage_count(name="user:1", rate="3/h") for _ in range(5)]

    assert [usage.count for usage in counts] == [1, 2, 3, 4, 5]
    assert [usage.over for usage in counts] == [False, False, False, True, True]
    assert all(0 < usage.time_left <= 3600 for usage in counts)
    assert limits.usage_count(name="user:2", rate="3/h").count == 1, "another customer counts apart"


def test_the_count_is_kept_as_the_cache_keeps_integers_and_expires_with_its_window(any_cache):
    usage = limits.usage_count(name="user:7", rate="5/m")
    key = next(k for k in _keys(any_cache) if "user:7" in k)

    assert any_cache.get(key) == usage.count == 1
    if hasattr(any_cache, "_cache") and hasattr(any_cache._cache, "get_client"):
        ttl = any_cache._cache.get_client().ttl(any_cache.make_and_validate_key(key))
        assert 0 < ttl <= 60 + limits.EXPIRY_FUDGE


def _keys(cache):
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):  # Redis: its keys, less the prefix
        return [key.decode().split(":", 2)[2] for key in cache._cache.get_client().keys("*api-rate*")]
    return [key.split(":", 2)[2] for key in cache._cache]


def test_a_window_ends_at_a_moment_of_its_own_within_the_period():
    ends = {limits._window_end(f"user:{n}", 3600, 1_000_000) for n in range(20)}

    assert len(ends) > 1, "windows do not all turn over at once"
    assert all(1_000_000 <= end < 1_000_000 + 3600 for end in ends)
    assert limits._window_end("user:1", 1, 1_000_000) == 1_000_000
