from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from catalog.models import Category, Service
from catalog.service_types import SELLABLE_TYPES
from reseller.params import whole_number

from .models import (
    CANCEL_REFUSED_NOTE,
    CANCEL_REQUESTED_NOTE,
    CUSTOMER_REFILL_STATUS,
    CUSTOMER_STATUS,
    CustomerStatus,
    Order,
    RefillEvent,
    RefillStatus,
    Source,
    statuses_shown_as,
)


def order_list_for_user(*, user, status: str = "", search: str = "") -> QuerySet[Order]:
    orders = Order.objects.filter(user=user).select_related("service").prefetch_related("refills")
    if status:
        orders = orders.filter(status__in=statuses_shown_as(status))
    search = search.strip()
    if search:
        match = Q(link__icontains=search)
        if (number := whole_number(search.lstrip("#"))) is not None:
            match |= Q(pk=number)
        orders = orders.filter(match)
    return orders.order_by("-id")


def order_get_for_user(*, user, public_id: str) -> Order:
    """The customer's own order, else 404 (never another customer's, never a hint that it exists)."""
    orders = Order.objects.select_related("service", "provider").prefetch_related("refills")
    return get_object_or_404(orders, user=user, public_id=public_id)


def orders_for_user_by_public_id(*, user, public_ids: list[str]) -> list[Order]:
    orders = Order.objects.filter(user=user, public_id__in=public_ids[:100])
    return list(orders.select_related("service", "provider").prefetch_related("refills"))


def sellable_services(*, category_id: int | None = None) -> QuerySet[Service]:
    services = Service.objects.filter(
        is_enabled=True, provider__is_active=True, type__in=SELLABLE_TYPES
    ).select_related("provider", "category")
    if category_id:
        services = services.filter(category_id=category_id)
    return services.order_by("category__sort_order", "category__name", "sort_order", "id")


def sellable_categories() -> QuerySet[Category]:
    return Category.objects.filter(services__in=sellable_services()).distinct().order_by("sort_order", "name")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """The order's history and its refills', oldest first, as the customer reads it: the statuses they
    know (our internal steps folded in), their own cancel requests, never the operator's notes."""
    entries, shown = [], None
    for event in order.events.all():
        if event.old_status == event.new_status:  # a note
            if event.source == Source.CUSTOMER and event.note == CANCEL_REQUESTED_NOTE:
                entries.append(TimelineEntry(event.created_at, _("Cancel requested")))
            elif event.source == Source.CUSTOMER and event.note.startswith(CANCEL_REFUSED_NOTE):
                entries.append(TimelineEntry(event.created_at, _("The provider refused to cancel")))
            continue
        status = CUSTOMER_STATUS[event.new_status]
        if status != shown:
            entries.append(TimelineEntry(event.created_at, CustomerStatus(status).label))
            shown = status
    refills_shown: dict[int, str] = {}
    for event in RefillEvent.objects.filter(refill__order=order).order_by("created_at", "id"):
        status = RefillStatus(CUSTOMER_REFILL_STATUS.get(event.new_status, event.new_status))
        if refills_shown.get(event.refill_id) == status:
            continue
        refills_shown[event.refill_id] = status
        text = _("Refill %(id)s: %(status)s") % {"id": event.refill_id, "status": status.label}
        entries.append(TimelineEntry(event.created_at, text))
    return sorted(entries, key=lambda entry: entry.at)
