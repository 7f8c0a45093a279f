"""Reads for the API, always scoped to the key's customer: another customer's id is simply not found."""

from collections.abc import Iterable

from django.db.models import QuerySet

from catalog.models import Service
from orders.models import Order, Refill
from orders.selectors import sellable_services

from .models import IdempotencyKey


def api_service_list() -> QuerySet[Service]:
    """What customers can buy, in catalog order (the same list as the order form's)."""
    return sellable_services()


def api_service_get(*, service_id: int | None) -> Service | None:
    """Any service by our id (order placement decides whether it can be sold), else None."""
    if service_id is None:
        return None
    return Service.objects.select_related("provider", "category").filter(pk=service_id).first()


def api_orders_for_user(*, user, order_ids: Iterable[int]) -> dict[int, Order]:
    """The customer's own orders among these ids, by id; the others are left out."""
    ids = set(order_ids)
    if not ids:
        return {}
    return {
        order.pk: order for order in Order.objects.filter(user=user, pk__in=ids).select_related("service")
    }


def api_refills_for_user(*, user, refill_ids: Iterable[int]) -> dict[int, Refill]:
    """The customer's own refills among these ids, by id."""
    ids = set(refill_ids)
    if not ids:
        return {}
    return {refill.pk: refill for refill in Refill.objects.filter(order__user=user, pk__in=ids)}


def idempotency_key_get(*, user, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).first()
