import logging

from celery import shared_task

from . import upstream
from .models import Provider
from .services import provider_refresh_balance
from .sync import provider_sync_services

log = logging.getLogger(__name__)


@shared_task
def providers_refresh_balances():
    """Beat: keep each active provider's balance fresh, so operators see when to top up."""
    for provider in Provider.objects.filter(is_active=True):
        try:
            balance = provider_refresh_balance(provider=provider)
        except upstream.UpstreamError as exc:
            log.warning("provider %s: balance check failed: %s", provider.name, exc)
        else:
            log.info("provider %s: balance %s %s", provider.name, balance.amount, balance.currency)


@shared_task
def providers_sync_services():
    """Beat (hourly): import each active provider's services; one failing provider does not stop the rest."""
    for provider in Provider.objects.filter(is_active=True):
        try:
            provider_sync_services(provider=provider)
        except upstream.UpstreamError as exc:
            log.warning("provider %s: sync failed: %s", provider.name, exc)
