"""What `/healthz` checks: the database, the broker, the cache, and that polling and beat are alive.

Each check answers a small dict with "ok"; one that raises fails with the name of its error's class only
(an error's text may carry a broker URL with its password).
"""

import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection

from reseller.heartbeats import BEAT, POLL, heartbeat_age

log = logging.getLogger(__name__)

TIMEOUT = 2  # seconds, to reach the broker


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "detail": "eager"}  # tasks run inline: no broker to reach
    url = settings.CELERY_BROKER_URL
    options = {"socket_timeout": TIMEOUT, **settings.CELERY_BROKER_TRANSPORT_OPTIONS}
    with Connection(url, connect_timeout=TIMEOUT, transport_options=options) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)
    return {"ok": True}


def check_cache() -> dict:
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    ok = cache.get(key) == value
    cache.delete(key)
    return {"ok": ok} if ok else {"ok": False, "error": "the value read back is not the one written"}


def _fresh(name: str, max_age: int) -> dict:
    age = heartbeat_age(name)
    seconds = None if age is None else round(age.total_seconds(), 1)
    return {
        "ok": seconds is not None and seconds < max_age,
        "age_seconds": seconds,
        "max_age_seconds": max_age,
    }


def check_poll() -> dict:
    """The last order polling sweep that finished (orders/tasks.py)."""
    return _fresh(POLL, settings.HEALTH_POLL_MAX_AGE)


def check_beat() -> dict:
    """Beat's last tick (reseller/beat.py)."""
    return _fresh(BEAT, settings.HEALTH_BEAT_MAX_AGE)


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
    "poll": check_poll,
    "beat": check_beat,
}


def health() -> dict:
    """{"status": "ok" or "fail", "checks": {name: {"ok": ..., ...}}}: "ok" only when every check is."""
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    status = "ok" if all(check["ok"] for check in checks.values()) else "fail"
    return {"status": status, "checks": checks}


def _run(name: str, check: Callable[[], dict]) -> dict:
    try:
        return check()
    except Exception as exc:
        log.warning("health check %s failed: %s", name, type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}
