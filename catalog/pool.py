"""Upstream calls in flight: up to UPSTREAM_CONCURRENCY per provider at once, each provider in threads of its
own, so that a slow provider never holds up a fast one, and its answers handed back to the caller's thread,
which alone touches the database.

A call that fails in a way that says the provider is overloaded (upstream.backs_off) backs the provider off
(catalog/backoff.py): the calls to it still waiting are answered `BackingOff` at once, without asking it,
and the caller leaves its work for after the wait. Other providers carry on.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from reseller.sweeping import sweep_ended, sweep_started

from . import upstream
from .backoff import backoff_seconds, provider_back_off, provider_recovered
from .calls import CallTally
from .models import Provider
from .services import provider_client

log = logging.getLogger(__name__)


class BackingOff(upstream.Unreachable):
    """Not sent: the provider is being left alone for a while (an earlier call found it overloaded)."""


@dataclass
class Done:
    """A finished call: the provider, the caller's `tag`, and the answer or the UpstreamError it raised."""

    provider: Provider
    tag: Any
    answer: Any = None
    error: upstream.UpstreamError | None = None


class Calls:
    """A pool of upstream calls for one sweep. `submit` a call (a function of the provider's client), then
    `wait` for those done; `close` when finished (it also writes the call counts, catalog/calls.py)."""

    def __init__(self, limit: int | None = None):
        self.limit = limit or settings.UPSTREAM_CONCURRENCY
        self.tally = CallTally()
        self._pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
        self._pending: dict[concurrent.futures.Future, tuple[Provider, Any]] = {}
        self._queued: dict[int, int] = defaultdict(int)
        self._resting_until: dict[int, float] = {}  # provider id -> time.monotonic() deadline
        self._rest_starters: set[upstream.UpstreamError] = set()  # the errors that began a wait
        self._lock = threading.Lock()
        self._open = True
        sweep_started()  # the process set for a sweep while calls are open (reseller/sweeping.py)

    def submit(self, provider: Provider, call: Callable[[upstream.Client], Any], tag: Any = None) -> None:
        pool = self._pools.get(provider.pk)
        if pool is None:
            pool = concurrent.futures.ThreadPoolExecutor(
                self.limit, thread_name_prefix=f"upstream-{provider.pk}"
            )
            self._pools[provider.pk] = pool
        client = provider_client(provider=provider, tally=self.tally)
        future = pool.submit(self._run, provider, client, call)
        self._pending[future] = (provider, tag)
        self._queued[provider.pk] += 1

    def queued(self, provider: Provider) -> int:
        """Calls to this provider submitted and not yet handed back by `wait`."""
        return self._queued[provider.pk]

    def pending(self) -> int:
        return len(self._pending)

    def resting(self, provider: Provider) -> bool:
        """Whether this provider is being left alone (a call in this sweep found it overloaded)."""
        return self._resting_until.get(provider.pk, 0) > time.monotonic()

    def wait(self, timeout: float | None = None) -> list[Done]:
        """The calls finished by now, waiting (up to `timeout`) for at least one if none is."""
        if not self._pending:
            return []
        finished, _ = concurrent.futures.wait(
            self._pending, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        done = []
        for future in finished:
            provider, tag = self._pending.pop(future)
            self._queued[provider.pk] -= 1
            try:
                done.append(Done(provider, tag, answer=future.result()))
            except upstream.UpstreamError as exc:
                done.append(Done(provider, tag, error=exc))
                if exc in self._rest_starters:
                    self._rest_starters.discard(exc)
                    until = provider_back_off(provider=provider, error=exc)
                    log.warning("provider %s backs off until %s: %s", provider.name, until, exc)
            else:
                if not self.resting(provider):  # (a call in flight when the wait began proves nothing)
                    provider_recovered(provider=provider)
        return done

    def close(self) -> None:
        """Stops the threads (calls not yet started are dropped) and writes the call counts."""
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools.clear()
        self._pending.clear()
        if self._open:
            self._open = False
            sweep_ended()
        self.tally.flush()

    def __enter__(self) -> Calls:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _run(
        self, provider: Provider, client: upstream.Client, call: Callable[[upstream.Client], Any]
    ) -> Any:
        if self.resting(provider):
            raise BackingOff(f"{client.host}: left alone for a while (overloaded)")
        try:
            return call(client)
        except upstream.UpstreamError as exc:
            if upstream.backs_off(exc):
                self._start_rest(provider, exc)
            raise

    def _start_rest(self, provider: Provider, error: upstream.UpstreamError) -> None:
        """In the calling thread, at once, so that the calls queued behind this one are not sent; `wait`
        records it on the provider's row (one failure of many in flight at once counts once)."""
        with self._lock:
            if self.resting(provider):
                return
            failures = provider.backoff_failures + 1
            seconds = backoff_seconds(failures=failures, retry_after=getattr(error, "retry_after", None))
            self._resting_until[provider.pk] = time.monotonic() + seconds
            self._rest_starters.add(error)
