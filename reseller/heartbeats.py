"""Heartbeats: the last time something happened, kept in the database so that every process sees them (the
cache may be local to one process). One row per name, written with one statement."""

from datetime import datetime, timedelta

from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"  # celery beat's scheduler ticked (reseller/beat.py)
POLL = "poll"  # an order polling sweep finished (orders/tasks.py)


def heartbeat(name: str, *, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})


def heartbeat_age(name: str, *, now: datetime | None = None) -> timedelta | None:
    """How long ago `name` last beat; None if it never did."""
    at = Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
    return None if at is None else (now or timezone.now()) - at
