from celery import shared_task
from django.conf import settings

from .services import idempotency_keys_purge as purge


@shared_task
def idempotency_keys_purge():
    """Beat (hourly): stored `add` answers are kept API_IDEMPOTENCY_HOURS, long enough for any retry."""
    return purge(older_than_hours=settings.API_IDEMPOTENCY_HOURS)
