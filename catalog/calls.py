"""Counting the calls made to providers, in the database, so that every worker's calls add up (`/metrics`, the
alerts). The upstream client reports each HTTP call to `record_call` (catalog/services.py: provider_client),
or, in a sweep that makes hundreds, to a `CallTally`, which writes one row update per provider, action and
outcome when flushed instead of one per call (and is safe to report to from the sweep's threads).

Counting must never break the call it counts: it runs in its own savepoint, and a database error while
counting is logged and forgotten.
"""

import logging
import threading
from collections import defaultdict

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Outcome, UpstreamCallCount

log = logging.getLogger(__name__)


class CallTally:
    """Calls counted in memory, from any thread, until `flush` writes them (from the thread that owns the
    database connection)."""

    def __init__(self):
        self._counts: dict[tuple[int, str, str], list] = defaultdict(lambda: [0, 0.0])
        self._lock = threading.Lock()

    def add(self, *, provider_id: int, action: str, outcome: str, seconds: float) -> None:
        with self._lock:
            count = self._counts[provider_id, action, outcome]
            count[0] += 1
            count[1] += seconds

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(lambda: [0, 0.0])
        for (provider_id, action, outcome), (calls, seconds) in counts.items():
            record_call(provider_id=provider_id, action=action, outcome=outcome, seconds=seconds, calls=calls)


def record_call(*, provider_id: int, action: str, outcome: str, seconds: float, calls: int = 1) -> None:
    """`calls` more `action` calls to this provider that ended with `outcome`, and the time they took."""
    try:
        outcome = Outcome(outcome)
        with transaction.atomic():
            if not _add(provider_id, action, outcome, seconds, calls):
                try:
                    with transaction.atomic():
                        UpstreamCallCount.objects.create(
                            provider_id=provider_id,
                            action=action,
                            outcome=outcome,
                            calls=calls,
                            seconds=seconds,
                            last_at=timezone.now(),
                        )
                except IntegrityError:
                    _add(provider_id, action, outcome, seconds, calls)  # another process created it first
    except (DatabaseError, ValueError) as exc:
        log.warning(
            "upstream call not counted (provider %s, %s, %s): %s",
            provider_id,
            action,
            outcome,
            type(exc).__name__,
        )


def _add(provider_id: int, action: str, outcome: str, seconds: float, calls: int) -> bool:
    """One conditional UPDATE; False when there is no row yet."""
    return bool(
        UpstreamCallCount.objects.filter(provider_id=provider_id, action=action, outcome=outcome).update(
            calls=F("calls") + calls, seconds=F("seconds") + seconds, last_at=timezone.now()
        )
    )
