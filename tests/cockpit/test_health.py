"""`/healthz`: each failure reported on its own, 503 when one fails, always JSON; with the real Redis (6379)
for the broker and the cache, and nothing listening on port 1 for the failures."""

from datetime import timedelta

import pytest
from django.db import connections
from django.db.utils import load_backend
from django.utils import timezone

from reseller.heartbeats import BEAT, POLL, heartbeat, heartbeat_age

pytestmark = pytest.mark.django_db

REDIS_BROKER = "redis://127.0.0.1:6379/15"
REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/14",
    }
}
CLOSED_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


@pytest.fixture
def alive():
    """Beat ticked and a polling sweep finished a moment ago."""
    heartbeat(BEAT)
    heartbeat(POLL)


@pytest.fixture
def redis(settings):
    settings.CELERY_BROKER_URL = REDIS_BROKER
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.CACHES = REDIS_CACHE


def healthz(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def failing(report):
    return sorted(name for name, check in report["checks"].items() if not check["ok"])


def test_it_answers_200_when_everything_works(client, alive, redis):
    status, report = healthz(client)

    assert (status, report["status"], failing(report)) == (200, "ok", [])
    assert set(report["checks"]) == {"database", "broker", "cache", "poll", "beat"}
    assert 0 <= report["checks"]["poll"]["age_seconds"] < 5
    assert 0 <= report["checks"]["beat"]["age_seconds"] < 5


def test_an_unreachable_broker_fails_alone(client, alive, redis, settings):
    settings.CELERY_BROKER_URL = "redis://:broker-pass-123@127.0.0.1:1/0"

    status, report = healthz(client)

    assert (status, report["status"], failing(report)) == (503, "fail", ["broker"])
    assert report["checks"]["broker"] == {"ok": False, "error": "OperationalError"}
    assert "broker-pass-123" not in str(report) and "127.0.0.1:1" not in str(report)


def test_an_eager_panel_has_no_broker_to_reach(client, alive, redis, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = True

    status, report = healthz(client)

    assert status == 200
    assert report["checks"]["broker"] == {"ok": True, "detail": "eager"}


def test_an_unreachable_cache_fails_alone(client, alive, redis, settings):
    settings.CACHES = CLOSED_CACHE

    status, report = healthz(client)

    assert (status, failing(report)) == (503, ["cache"])
    assert report["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}


def test_a_stale_poll_fails(client, alive, redis, settings):
    settings.HEALTH_POLL_MAX_AGE = 300
    heartbeat(POLL, at=timezone.now() - timedelta(seconds=301))

    status, report = healthz(client)

    assert (status, failing(report)) == (503, ["poll"])
    assert 301 <= report["checks"]["poll"]["age_seconds"] < 310
    assert report["checks"]["poll"]["max_age_seconds"] == 300


def test_a_beat_that_never_ticked_fails(client, redis):
    heartbeat(POLL)

    status, report = healthz(client)

    assert (status, failing(report)) == (503, ["beat"])
    assert report["checks"]["beat"] == {"ok": False, "age_seconds": None, "max_age_seconds": 120}


def test_a_stale_beat_fails(client, alive, redis):
    heartbeat(BEAT, at=timezone.now() - timedelta(minutes=5))

    status, report = healthz(client)

    assert (status, failing(report)) == (503, ["beat"])


def test_a_fresh_install_without_beat_or_worker_fails_both(client, redis):
    status, report = healthz(client)

    assert (status, failing(report)) == (503, ["beat", "poll"])


@pytest.fixture
def database_down(db, tmp_path):
    """The default connection swapped for a real one to a database that does not answer (a file that cannot
    be opened, or a PostgreSQL port nobody listens on); the test's own connection is put back after."""
    working = connections["default"]
    dead = dict(working.settings_dict)
    if working.vendor == "sqlite":
        dead["NAME"] = str(tmp_path / "no-such-folder" / "db.sqlite3")
    else:
        dead.update(HOST="127.0.0.1", PORT="1", PASSWORD="db-pass-123")
    connections["default"] = load_backend(dead["ENGINE"]).DatabaseWrapper(dead, "default")
    yield
    connections["default"].close()
    connections["default"] = working


def test_a_database_that_does_not_answer_fails_as_json_not_a_500(client, redis, database_down):
    status, report = healthz(client)

    assert status == 503
    assert report["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert failing(report) == ["beat", "database", "poll"]  # the heartbeats live in the database too
    assert "db-pass-123" not in str(report)


def test_it_is_exempt_from_the_https_redirect(client, alive, redis, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_it_refuses_post(client):
    assert client.post("/healthz").status_code == 405


# What writes the heartbeats -------------------------------------------------------------------------------


@pytest.fixture
def scheduler(tmp_path):
    from reseller.beat import HeartbeatScheduler
    from reseller.celery import app

    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "celerybeat-schedule"))
    yield scheduler
    scheduler.close()


@pytest.mark.django_db(transaction=True)  # beat runs outside any transaction, and drops a connection in one
def test_beat_writes_its_heartbeat_as_it_ticks_at_most_every_15_seconds(scheduler):
    assert scheduler.tick() <= 15  # it never sleeps longer, whatever its schedule
    first = heartbeat_age(BEAT)
    scheduler.tick()

    assert first is not None and first < timedelta(seconds=5)
    assert heartbeat_age(BEAT) > first  # not written again within 15 s


def test_beat_goes_on_when_the_database_does_not_answer(scheduler, database_down, caplog):
    assert scheduler.tick() <= 15

    assert "heartbeat not written: OperationalError" in caplog.text


def test_a_finished_polling_sweep_writes_the_poll_heartbeat(db):
    from orders.tasks import orders_poll

    orders_poll()

    assert heartbeat_age(POLL) < timedelta(seconds=5)


def test_a_polling_sweep_that_fails_writes_none(db, monkeypatch):
    from orders import polling
    from orders.tasks import orders_poll

    def fail(**kwargs):
        raise RuntimeError("the sweep broke")

    monkeypatch.setattr(polling, "orders_poll_fan_out", fail)
    with pytest.raises(RuntimeError):
        orders_poll()

    assert heartbeat_age(POLL) is None
