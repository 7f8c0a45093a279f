from collections.abc import Iterable
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from . import pricing, upstream
from .calls import CallTally, record_call
from .models import Category, FavouriteService, Provider, Service

PRICE_FIELDS = ["cost_rate", "price_rate"]


def provider_client(*, provider: Provider, tally: CallTally | None = None) -> upstream.Client:
    """The provider's client; every call it makes is counted (catalog/calls.py), at once or in `tally`."""
    observe = partial(tally.add if tally is not None else record_call, provider_id=provider.pk)
    return upstream.Client(provider.api_url, provider.api_key, observe=observe)


def provider_refresh_balance(*, provider: Provider) -> upstream.Balance:
    """Asks the provider for our balance there and remembers it. Raises upstream.UpstreamError."""
    balance = provider_client(provider=provider).balance()
    changes = {"balance": balance.amount, "balance_checked_at": timezone.now()}
    if balance.currency:
        changes["currency"] = balance.currency
    Provider.objects.filter(pk=provider.pk).update(**changes)
    for name, value in changes.items():
        setattr(provider, name, value)
    return balance


def service_prices(*, service: Service, provider: Provider, category: Category) -> tuple[Decimal, Decimal]:
    """(cost, price) per 1000 in the panel currency under the most specific rule that applies."""
    cost = pricing.cost_rate(service.rate, provider.exchange_rate)
    rule = pricing.pick_rule(
        pricing.Rule(fixed_rate=service.fixed_rate, percent=service.markup_percent),
        pricing.Rule(fixed_rate=category.fixed_rate, percent=category.markup_percent),
        pricing.Rule(percent=provider.markup_percent),
        default_percent=settings.PANEL_DEFAULT_MARKUP_PERCENT,
    )
    return cost, pricing.list_rate(cost=cost, rule=rule, decimals=settings.PANEL_RATE_DECIMALS)


def service_apply_prices(*, service: Service, provider: Provider, category: Category) -> bool:
    """Sets the service's stored prices; True when they changed."""
    cost, price = service_prices(service=service, provider=provider, category=category)
    changed = (service.cost_rate, service.price_rate) != (cost, price)
    service.cost_rate, service.price_rate = cost, price
    return changed


def services_reprice(*, services: QuerySet[Service]) -> int:
    """Recomputes stored prices after a rule changed; writes only the rows whose price moved."""
    changed = [
        service
        for service in services.select_related("provider", "category")
        if service_apply_prices(service=service, provider=service.provider, category=service.category)
    ]
    Service.objects.bulk_update(changed, PRICE_FIELDS, batch_size=1000)
    return len(changed)


def service_rate_for(*, service: Service, user) -> Decimal:
    """The rate per 1000 this customer pays: the list price less their discount, never below cost."""
    return pricing.customer_rate(
        price=service.price_rate,
        cost=service.cost_rate,
        discount_percent=getattr(user, "discount_percent", None) or Decimal(0),
        decimals=settings.PANEL_RATE_DECIMALS,
    )


def service_cannot_be_enabled(*, service: Service) -> str | None:
    """Why this service cannot be sold, or None. (The database enforces the same with constraints.)"""
    if not service.is_sellable_type:
        return f"type {service.type!r} is not supported yet"
    if not service.is_available:
        return "the provider no longer offers it"
    return None


def services_set_enabled(*, services: Iterable[Service], enabled: bool) -> tuple[int, list[str]]:
    """Enables or disables services; returns how many changed and why the others could not be enabled."""
    changed, refused = [], []
    for service in services:
        problem = service_cannot_be_enabled(service=service) if enabled else None
        if problem:
            refused.append(f"{service}: {problem}")
        elif service.is_enabled != enabled:
            service.is_enabled = enabled
            changed.append(service)
    Service.objects.bulk_update(changed, ["is_enabled"])
    return len(changed), refused


def provider_create(
    *,
    name: str,
    api_url: str,
    api_key: str,
    currency: str = "USD",
    exchange_rate: Decimal = Decimal(1),
    markup_percent: Decimal | None = None,
) -> Provider:
    provider = Provider(
        name=name,
        api_url=api_url,
        api_key=api_key,
        currency=currency.upper(),
        exchange_rate=exchange_rate,
        markup_percent=markup_percent,
    )
    try:
        provider.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
        ) from None
    provider.save()
    return provider


def favourite_set(*, user, service: Service, favourite: bool) -> bool:
    """Stars or unstars a service for this customer; returns whether it is a favourite now. Saying the same
    twice (a double click, a resent form) changes nothing: the unique constraint keeps one row at most."""
    if favourite:
        FavouriteService.objects.get_or_create(user=user, service=service)
    else:
        FavouriteService.objects.filter(user=user, service=service).delete()
    return favourite


def favourite_toggle(*, user, service: Service) -> bool:
    """Stars the service if it is not a favourite yet, else unstars it; returns whether it is one now."""
    deleted, _ = FavouriteService.objects.filter(user=user, service=service).delete()
    if deleted:
        return False
    return favourite_set(user=user, service=service, favourite=True)
