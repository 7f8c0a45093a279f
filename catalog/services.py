from django.utils import timezone

from . import upstream
from .models import Provider


def provider_client(*, provider: Provider) -> upstream.Client:
    return upstream.Client(provider.api_url, provider.api_key)


def provider_refresh_balance(*, provider: Provider) -> upstream.Balance:
    """Asks the provider for our balance there and remembers it. Raises upstream.UpstreamError."""
    balance = provider_client(provider=provider).balance()
    Provider.objects.filter(pk=provider.pk).update(balance=balance.amount, balance_checked_at=timezone.now())
    if balance.currency and balance.currency != provider.currency:
        Provider.objects.filter(pk=provider.pk).update(currency=balance.currency)
    return balance
