"""Importing a provider's services into the catalog, in a bounded number of queries whatever its size."""

import logging
from dataclasses import dataclass, field
from decimal import ROUND_CEILING

from django.db import transaction
from django.utils import timezone

from . import upstream
from .models import Category, Provider, Service
from .pricing import RATE_PLACES
from .services import PRICE_FIELDS, provider_client, service_apply_prices

log = logging.getLogger(__name__)

BATCH = 1000
STATE_FIELDS = ["is_available", "is_enabled", "enabled_before_vanish"]
UNCATEGORIZED = "Other"


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    repriced: int = 0
    vanished: int = 0
    returned: int = 0
    skipped: list[str] = field(default_factory=list)

    def __str__(self):
        text = (
            f"{self.created} new, {self.updated} updated ({self.repriced} repriced), "
            f"{self.vanished} vanished, {self.returned} back"
        )
        return text + (f", {len(self.skipped)} unreadable skipped" if self.skipped else "")


def provider_sync_services(*, provider: Provider, enable_new: bool | None = None) -> SyncResult:
    """Upserts one catalog row per upstream service. Raises upstream.UpstreamError (recorded on the provider).

    The operator's fields survive; a service missing upstream is disabled, never deleted, and comes back
    enabled only if it was enabled when it vanished.
    """
    try:
        offered, problems = provider_client(provider=provider).services()
    except upstream.UpstreamError as exc:
        _record(provider, ok=False, message=f"Sync failed: {exc}")
        raise
    if enable_new is None:
        enable_new = provider.enable_new_services
    with transaction.atomic():
        result = _upsert(provider, _unique(offered), enable_new)
    result.skipped = [problem.message for problem in problems]
    _record(provider, ok=True, message=f"Synced: {result}")
    log.info("provider %s: sync: %s", provider.name, result)
    return result


def _unique(offered: list[upstream.Service]) -> dict[str, upstream.Service]:
    by_id: dict[str, upstream.Service] = {}
    for service in offered:
        by_id.setdefault(service.service_id, service)
    return by_id


def _upsert(provider: Provider, offered: dict[str, upstream.Service], enable_new: bool) -> SyncResult:
    result = SyncResult()
    existing = {
        s.upstream_id: s for s in Service.objects.filter(provider=provider).select_related("category")
    }
    categories = _categories({_category_name(offer) for offer in offered.values()})
    new, changed, fields = [], [], set()
    for upstream_id, offer in offered.items():
        service = existing.get(upstream_id)
        if service is None:
            service = Service(provider=provider, upstream_id=upstream_id, sort_order=0)
            service.category = categories[_category_name(offer)]
            _copy_upstream(service, offer)
            service.is_enabled = enable_new and service.is_sellable_type
            service_apply_prices(service=service, provider=provider, category=service.category)
            new.append(service)
            continue
        dirty = _copy_upstream(service, offer)
        if not service.is_available:
            service.is_available = True
            service.is_enabled = service.enabled_before_vanish
            result.returned += 1
            dirty.update(STATE_FIELDS)
        if service.is_enabled and not service.is_sellable_type:
            service.is_enabled = False
            dirty.add("is_enabled")
        if service_apply_prices(service=service, provider=provider, category=service.category):
            result.repriced += 1
            dirty.update(PRICE_FIELDS)
        if dirty:
            changed.append(service)
            fields |= dirty
    for upstream_id, service in existing.items():
        if upstream_id not in offered and service.is_available:
            service.enabled_before_vanish = service.is_enabled
            service.is_available = service.is_enabled = False
            result.vanished += 1
            changed.append(service)
            fields.update(STATE_FIELDS)
    Service.objects.bulk_create(new, batch_size=BATCH)
    # Only the columns that changed somewhere: a CASE per column per row is what makes bulk_update slow.
    if changed:
        Service.objects.bulk_update(changed, sorted(fields), batch_size=BATCH)
    result.created, result.updated = len(new), len(changed) - result.vanished
    return result


def _copy_upstream(service: Service, offer: upstream.Service) -> set[str]:
    """Copies the provider's fields onto the row; returns the names of those that changed."""
    values = {
        "upstream_name": offer.name[:500],
        "type": offer.type[:100],
        "upstream_category": offer.category[:255],
        "upstream_description": offer.description,
        "rate": offer.rate.quantize(RATE_PLACES, rounding=ROUND_CEILING),
        "min_quantity": max(offer.min, 0),
        "max_quantity": max(offer.max, offer.min, 0),
        "refill": offer.refill,
        "cancel": offer.cancel,
        "dripfeed": offer.dripfeed,
        "raw": offer.raw,
    }
    dirty = set()
    for name, value in values.items():
        if getattr(service, name, None) != value:
            setattr(service, name, value)
            dirty.add(name)
    return dirty


def _category_name(offer: upstream.Service) -> str:
    return (offer.category or UNCATEGORIZED)[:255]


def _categories(names: set[str]) -> dict[str, Category]:
    """Categories by name, creating the missing ones (three queries at most)."""
    found = {c.name: c for c in Category.objects.filter(name__in=names)}
    missing = names - found.keys()
    if missing:
        Category.objects.bulk_create([Category(name=name) for name in missing], ignore_conflicts=True)
        found = {c.name: c for c in Category.objects.filter(name__in=names)}
    return found


def _record(provider: Provider, *, ok: bool, message: str) -> None:
    changes = {"last_sync_at": timezone.now(), "last_sync_ok": ok, "last_sync_message": message[:2000]}
    Provider.objects.filter(pk=provider.pk).update(**changes)
    for name, value in changes.items():
        setattr(provider, name, value)
