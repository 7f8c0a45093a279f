"""Django's Redis cache, kept going while Redis is down.

What the panel keeps in its cache is rate-limit counts (allauth's login limits, the API's) and short-lived
caching: nothing that is lost if Redis restarts. So when Redis cannot be reached, an operation is served
from this process's memory instead of failing the request (a login answered 500 because allauth could
not count it). Limits then hold per process: looser, never gone. After a failure Redis is left alone for
RETRY_AFTER seconds (no timeout paid per request), then tried again; the first success goes back to it.
Connections time out after a fraction of a second (settings.py sets the pool's socket timeouts), so a
Redis that hangs costs one short wait per RETRY_AFTER, not a stuck worker.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER = 5.0  # seconds Redis is left alone after a failure
LOCAL_ENTRIES = 10_000


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._local = LocMemCache(
            f"redis-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "MAX_ENTRIES": LOCAL_ENTRIES},
        )
        self._down_until = 0.0
        self._outage = False

    @property
    def reachable(self) -> bool:
        """False while Redis is left alone after a failure (callers with a client of their own skip it)."""
        return time.monotonic() >= self._down_until

    def unreachable(self, exc: BaseException) -> None:
        """Redis failed: leave it alone for RETRY_AFTER seconds; one warning per outage."""
        self._down_until = time.monotonic() + RETRY_AFTER
        if not self._outage:
            self._outage = True
            log.warning("cache: Redis is unreachable (%s); serving from each process's memory", exc)

    def reached(self) -> None:
        if self._outage:
            self._outage, self._down_until = False, 0.0
            log.warning("cache: Redis is back")

    def _either(self, name, *args, **kwargs):
        if self.reachable:
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as exc:
                self.unreachable(exc)
            else:
                self.reached()
                return result
        return getattr(self._local, name)(*args, **kwargs)

    def clear(self):
        self._local.clear()
        return self._either("clear")


def _either_way(name: str):
    def operation(self, *args, **kwargs):
        return self._either(name, *args, **kwargs)

    operation.__name__ = operation.__qualname__ = name
    return operation


# Every operation of Django's cache API but clear (which empties both): Redis if it answers, else memory.
for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
):
    setattr(FallbackRedisCache, _name, _either_way(_name))
