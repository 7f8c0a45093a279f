"""The API's rate limit: requests per customer in fixed windows, counted in the Django cache.

The same windows as django-ratelimit's (which this replaced): `count/[multiplier]period`, each customer's
window ending at a moment of its own (a jitter from the name, so windows do not all turn over at once).
It counted with three round trips to Redis per request (add, exists, incr), each through a new client; on
Redis this counts with one (SET NX and INCR in a pipeline) on a kept client, on any other cache with Django's
add and incr.

With Redis down, counting goes on in each process's memory (reseller/cache.py): the limit then holds per
web process instead of across them, which is looser but never gone, and the API never fails with its cache.
"""

import math
import re
import time
import zlib
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from reseller.cache import UNREACHABLE, FallbackRedisCache

RATE = re.compile(r"(\d+)/(\d*)([smhd])?", re.IGNORECASE)
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
EXPIRY_FUDGE = 5  # seconds a window's count outlives it, as django-ratelimit kept it


@dataclass(frozen=True)
class Usage:
    count: int  # requests in this window, this one included
    limit: int
    time_left: int  # seconds until the window turns over

    @property
    def over(self) -> bool:
        return self.count > self.limit


def rate_split(rate: str) -> tuple[int, int]:
    """ "600/m" as (600, 60), "10/5m" as (10, 300). Raises ValueError for anything else."""
    match = RATE.fullmatch(rate.strip())
    if not match:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiplier, period = match.groups()
    return int(count), PERIODS[(period or "s").lower()] * int(multiplier or 1)


def usage_count(*, name: str, rate: str) -> Usage:
    """Counts one more request for `name` (a customer, an address) and says where its window stands."""
    limit, period = rate_split(rate)
    now = int(time.time())
    window_end = _window_end(name, period, now)
    key = f"api-rate:{name}:{limit}/{period}s:{window_end}"
    count = _shared_count(key, period + EXPIRY_FUDGE)
    return Usage(count=count, limit=limit, time_left=window_end - now)


# Addresses over their limit of wrong keys, in this process (address -> when their window ends): their
# next requests are refused before any key is looked at, a right one included, without asking the cache.
_blocked: dict[str, float] = {}
BLOCKED_KEPT = 10_000  # addresses kept at most; past it (a flood from many) the shared counts still hold


def any_blocked() -> bool:
    """Whether any address is refused now (the usual case is none: no address to look up)."""
    return bool(_blocked)


def blocked_for(address: str) -> int:
    """Seconds this address is still refused for its wrong keys; 0 when it is not."""
    until = _blocked.get(address)
    if until is None:
        return 0
    left = math.ceil(until - time.time())
    if left <= 0:
        _blocked.pop(address, None)
        return 0
    return left


def bad_key_count(*, address: str, rate: str) -> Usage:
    """Counts one more wrong key from `address`; over `rate`, the address is refused until the window ends."""
    usage = usage_count(name=f"bad-key:{address}", rate=rate)
    if usage.over:
        if len(_blocked) >= BLOCKED_KEPT:
            _blocked.clear()
        _blocked[address] = time.time() + max(usage.time_left, 1)
    return usage


def _shared_count(key: str, timeout: int) -> int:
    cache = caches["default"]
    if isinstance(cache, RedisCache) and getattr(cache, "reachable", True):
        try:
            return _redis_count(cache, key, timeout)
        except UNREACHABLE as exc:
            if not isinstance(cache, FallbackRedisCache):
                raise
            cache.unreachable(exc)  # counted below, in this process's memory, until Redis is back
    if cache.add(key, 1, timeout):
        return 1
    return cache.incr(key)


def _window_end(name: str, period: int, now: int) -> int:
    if period == 1:
        return now
    end = now - now % period + zlib.crc32(name.encode()) % period
    return end + period if end < now else end


def _redis_count(cache: RedisCache, key: str, timeout: int) -> int:
    """The window's count after this request, in one round trip: the key made if missing (0, expiring with
    the window), then incremented. Stored as Django's Redis cache stores integers, so `cache.get` reads it."""
    key = cache.make_and_validate_key(key)
    with _client(cache).pipeline(transaction=False) as pipe:
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return pipe.execute()[1]


def _client(cache: RedisCache):
    """A Redis client on the cache's connection pool, kept with the cache: Django's makes a new client for
    every call, and building one (its table of reply parsers) cost more than the round trip."""
    client = cache.__dict__.get("_api_rate_client")
    if client is None:
        client = cache.__dict__["_api_rate_client"] = cache._cache.get_client(write=True)
    return client
