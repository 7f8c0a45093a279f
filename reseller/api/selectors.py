"""Reads for the API, always scoped to the key's customer: another customer's id is simply not found."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection, connections
from django.db.models import QuerySet

from catalog.models import Provider, Service
from orders.models import Order, Refill
from orders.selectors import sellable_services
from reseller.db import RowReader

from .models import IdempotencyKey


def api_service_list() -> QuerySet[Service]:
    """What customers can buy, in catalog order (the same list as the order form's)."""
    return sellable_services()


def api_service_get(*, service_id: int | None) -> Service | None:
    """Any service by our id, with its provider (order placement decides whether it can be sold), else
    None.

    One row of a join on the primary key, by SQL made once per process: building this query through the
    ORM took five times longer than running it, and every `add` asks it. The rows become models the way
    the ORM makes them (the database's converters, then `from_db`).
    """
    if service_id is None:
        return None
    sql, service_columns, load_service, load_provider = _service_query(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(sql, [service_id])
        row = cursor.fetchone()
    if row is None:
        return None
    service = load_service(row[:service_columns])
    service.provider = load_provider(row[service_columns:])
    return service


@cache
def _service_query(alias: str):
    service_columns, load_service = _loader(Service, alias)
    provider_columns, load_provider = _loader(Provider, alias)
    quote = connections[alias].ops.quote_name
    service, provider = quote(Service._meta.db_table), quote(Provider._meta.db_table)
    foreign_key = quote(Service._meta.get_field("provider").column)
    provider_key, service_key = quote(Provider._meta.pk.column), quote(Service._meta.pk.column)
    # Our own table and column names, quoted; the id is a parameter.
    sql = (
        f"SELECT {service_columns}, {provider_columns} FROM {service} "  # noqa: S608
        f"INNER JOIN {provider} ON {service}.{foreign_key} = {provider}.{provider_key} "
        f"WHERE {service}.{service_key} = %s"
    )
    return sql, len(Service._meta.concrete_fields), load_service, load_provider


def _loader(model, alias: str):
    """The quoted columns of every concrete field of `model`, and a function making an instance from
    their values as the ORM would."""
    names = [field.attname for field in model._meta.concrete_fields]
    read = RowReader(model, names, using=alias)
    table = connections[alias].ops.quote_name(model._meta.db_table)
    return read.columns(table), lambda values: model.from_db(alias, names, read(values))


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
