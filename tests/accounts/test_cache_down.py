"""Logins with the cache's Redis stopped: a Redis server of the test's own, on its own port, stopped and
started again between logins. allauth counts logins in the cache; with Redis gone they are counted in the
process (reseller/cache.py) and the login still works, never a 500."""

import os
import shutil
import time

import pytest
import redis
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.helpers import RedisServer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not shutil.which("redis-server") and not os.environ.get("CI"),
        reason="needs redis-server (CI installs it)",
    ),
]


@pytest.fixture
def server():
    server = RedisServer()
    server.start()
    caches = {
        "default": {
            "BACKEND": "reseller.cache.FallbackRedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches):
        yield server
    if server.process.poll() is None:
        server.stop()


def log_in(user):
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    return response, client


def test_logins_work_before_during_and_after_a_redis_outage(server, caplog):
    user = UserFactory(username="dora")

    before, _ = log_in(user)
    server.stop()
    during, client = log_in(user)
    dashboard = client.get(reverse("dashboard"))
    server.start()
    time.sleep(5.1)  # Redis is left alone for 5 s after a failure, then tried again
    after, _ = log_in(user)

    assert [before.status_code, during.status_code, after.status_code] == [302, 302, 302]
    assert during.url == reverse("dashboard") and dashboard.status_code == 200
    assert "Redis is unreachable" in caplog.text and "Redis is back" in caplog.text
    cache.set("probe", 1)
    assert redis.Redis(port=server.port).exists(cache.make_key("probe"))  # in Redis again


def test_wrong_passwords_are_still_limited_while_redis_is_down(server, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    settings.AXES_FAILURE_LIMIT = 100  # axes (in the database) would lock first; this is about the cache
    user = UserFactory(username="dora")
    server.stop()

    answers = [
        Client().post(reverse("account_login"), {"login": "dora", "password": "wrong"}) for _ in range(5)
    ]
    right, _ = log_in(user)

    assert all(answer.status_code == 200 for answer in answers)  # the form again, with its error
    limited = ["Too many failed login attempts" in answer.content.decode() for answer in answers]
    assert limited == [False, False, False, True, True]  # counted in this process: the limit holds
    assert right.status_code == 200 and "Too many failed login attempts" in right.content.decode()
