"""Celery beat's scheduler, with a heartbeat: `/healthz` tells a beat that stopped ticking from one that has
nothing to send (settings.CELERY_BEAT_SCHEDULER)."""

import logging
import time

from celery.beat import PersistentScheduler
from django.db import close_old_connections

from .heartbeats import BEAT, heartbeat

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 15.0  # seconds; also the longest beat sleeps between two ticks


class HeartbeatScheduler(PersistentScheduler):
    """The default scheduler (a schedule file), writing heartbeat(BEAT) at most every 15 s. Beat ticks at
    least that often, whatever its schedule, so a live beat always looks alive."""

    _last_beat: float | None = None

    def tick(self, *args, **kwargs):
        self._heartbeat()
        return min(super().tick(*args, **kwargs), HEARTBEAT_EVERY)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self._last_beat is not None and now - self._last_beat < HEARTBEAT_EVERY:
            return
        self._last_beat = now
        try:
            # Beat has no requests to end: a connection broken by a database restart is dropped here.
            close_old_connections()
            heartbeat(BEAT)
        except Exception as exc:  # beat goes on sending tasks; /healthz will say it looks dead
            log.warning("beat: heartbeat not written: %s", type(exc).__name__)
