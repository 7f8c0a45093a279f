"""Leaving a provider alone while it is overloaded: after a 429, a 5xx, a timeout or no connection
(upstream.backs_off), sweeps skip it until `Provider.backoff_until`. The wait doubles with each failure in a
row (UPSTREAM_BACKOFF_BASE, at most UPSTREAM_BACKOFF_MAX, or what its Retry-After asks, up to an hour), and
the first call that succeeds ends it. Kept on the provider's row, so every worker on every machine knows.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from . import upstream
from .models import Provider


def backoff_seconds(*, failures: int, retry_after: float | None = None) -> float:
    """How long to leave a provider alone after `failures` failures in a row (1 for the first)."""
    wait = min(settings.UPSTREAM_BACKOFF_MAX, settings.UPSTREAM_BACKOFF_BASE * 2 ** min(failures - 1, 20))
    return max(wait, retry_after or 0)


def provider_back_off(*, provider: Provider, error: upstream.UpstreamError) -> datetime:
    """Records one more failure in a row and returns until when the provider is left alone."""
    failures = provider.backoff_failures + 1
    retry_after = getattr(error, "retry_after", None)
    until = timezone.now() + timedelta(seconds=backoff_seconds(failures=failures, retry_after=retry_after))
    Provider.objects.filter(pk=provider.pk).update(
        backoff_until=until, backoff_failures=F("backoff_failures") + 1
    )
    provider.backoff_until, provider.backoff_failures = until, failures
    return until


def provider_recovered(*, provider: Provider) -> None:
    """A call succeeded: the backing off is over (one write, only if there was one)."""
    if provider.backoff_failures or provider.backoff_until:
        Provider.objects.filter(pk=provider.pk).update(backoff_until=None, backoff_failures=0)
        provider.backoff_until, provider.backoff_failures = None, 0


def not_backing_off(prefix: str = "") -> Q:
    """Rows (providers, or through `prefix` what belongs to one) whose provider may be called now."""
    until = f"{prefix}backoff_until"
    return Q(**{f"{until}__isnull": True}) | Q(**{f"{until}__lte": timezone.now()})
