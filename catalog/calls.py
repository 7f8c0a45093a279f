"""Counting the calls made to providers, in the database, so that every worker's calls add up (`/metrics`, the
alerts). The upstream client reports each HTTP call to `record_call` (catalog/services.py: provider_client).

Counting must never break the call it counts: it runs in its own savepoint, and a database error while
counting is logged and forgotten.
"""

import logging

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Outcome, UpstreamCallCount

log = logging.getLogger(__name__)


def record_call(*, provider_id: int, action: str, outcome: str, seconds: float) -> None:
    """One more `action` call to this provider that ended with `outcome`, and the time it took."""
    try:
        outcome = Outcome(outcome)
        with transaction.atomic():
            if not _add(provider_id, action, outcome, seconds):
                try:
                    with transaction.atomic():
                        UpstreamCallCount.objects.create(
                            provider_id=provider_id,
                            action=action,
                            outcome=outcome,
                            calls=1,
                            seconds=seconds,
                            last_at=timezone.now(),
                        )
                except IntegrityError:
                    _add(provider_id, action, outcome, seconds)  # another process created it first
    except (DatabaseError, ValueError) as exc:
        log.warning(
            "upstream call not counted (provider %s, %s, %s): %s",
            provider_id,
            action,
            outcome,
            type(exc).__name__,
        )


def _add(provider_id: int, action: str, outcome: str, seconds: float) -> bool:
    """One conditional UPDATE; False when there is no row yet."""
    return bool(
        UpstreamCallCount.objects.filter(provider_id=provider_id, action=action, outcome=outcome).update(
            calls=F("calls") + 1, seconds=F("seconds") + seconds, last_at=timezone.now()
        )
    )
