"""Reads for the API, always scoped to the key's customer: another customer's id is simply not found."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from catalog.models import Service
from orders.models import Order, Refill
from orders.selectors import sellable_services
from reseller.db import rows_with_parent

from .models import IdempotencyKey


def api_service_list() -> QuerySet[Service]:
    """What customers can buy, in catalog order (the same list as the order form's)."""
    return sellable_services()


def api_service_get(*, service_id: int | None) -> Service | None:
    """Any service by our id, with its provider (order placement decides whether it can be sold), else
    None. By SQL made once per process: every `add` asks it."""
    if service_id is None:
        return None
    found = rows_with_parent(Service, "provider", "pk", connection.alias)(service_id)
    return found[0] if found else None


def api_orders_for_user(*, user, order_ids: Iterable[int]) -> dict[int, Order]:
    """The customer's own orders among these ids, by id; the others are left out."""
    ids = set(order_ids)
    if not ids:
        return {}
    return {
        order.pk: order for order in Order.objects.filter(user=user, pk__in=ids).select_related("service")
    }


@dataclass(frozen=True)
class OrderState:
    """What a `status` answer says of an order, read as plain values: building 100 Order rows (and their
    services) was most of a 100-id status. Its two tests are the model's own."""

    id: int
    charge: Decimal
    refund: Decimal
    status: str
    start_count: int | None
    remains: int | None
    quantity: int
    service_type: str
    upstream_fields: dict
    posts_done: int | None
    child_orders: list
    runs: int | None
    runs_done: int | None

    is_subscription = Order.is_subscription
    is_dripfeed = Order.is_dripfeed


STATE_FIELDS = tuple(OrderState.__dataclass_fields__)


def api_order_states_for_user(*, user, order_ids: Iterable[int]) -> dict[int, OrderState]:
    """The customer's own orders among these ids, as their states, by id; the others are left out."""
    ids = set(order_ids)
    if not ids:
        return {}
    rows = Order.objects.filter(user=user, pk__in=ids).order_by().values_list(*STATE_FIELDS)
    return {row[0]: OrderState(*row) for row in rows}


def api_refills_for_user(*, user, refill_ids: Iterable[int]) -> dict[int, Refill]:
    """The customer's own refills among these ids, by id."""
    ids = set(refill_ids)
    if not ids:
        return {}
    return {refill.pk: refill for refill in Refill.objects.filter(order__user=user, pk__in=ids)}


def idempotency_key_get(*, user, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).first()
