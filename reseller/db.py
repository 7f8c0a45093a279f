"""Database helpers, with no imports of ours: bulk writes, a bulk compare-and-swap, claiming due rows.

`bulk_update` is one `UPDATE ... FROM (VALUES ...)` instead of Django's `bulk_update`, whose
CASE-per-column-per-row statements cost more to build and plan than the write itself (the polling benchmark
spent three quarters of its time there), and it can compare-and-swap. Written here because no maintained
library does this for psycopg 3 (django-bulk-load is psycopg2-only).
"""

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.db import NotSupportedError, connections, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

MAX_PARAMS = 30_000  # PostgreSQL allows 65,535 parameters per statement
_EXPECTED = "_expected"
_TYPMOD = re.compile(r"\(.*\)")  # varchar(20) -> varchar, numeric(20, 5) -> numeric


def bulk_update(
    objs: Sequence[models.Model],
    fields: Sequence[str],
    *,
    only_if: tuple[str, Sequence[Any]] | None = None,
    using: str = "default",
) -> set[Any]:
    """Writes `fields` of every object (matched by primary key); returns the primary keys written.

    With `only_if=(field, values)`, an object is written only while its row still holds `values[i]` in
    that column: a compare-and-swap for many rows in one statement. The others are left as they are and
    left out of the answer, so the caller knows which writes won.

    One `WITH v AS (VALUES ...) UPDATE ... FROM v ... RETURNING` per chunk, on PostgreSQL and SQLite (3.35+)
    alike; PostgreSQL needs each value cast to its column's type.
    """
    if not objs or not fields:
        return set()
    model = type(objs[0])
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError(f"bulk_update speaks PostgreSQL and SQLite, not {connection.vendor}")
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    checked = meta.get_field(only_if[0]) if only_if is not None else None
    quote = connection.ops.quote_name

    postgresql = connection.vendor == "postgresql"

    def placeholder(column):
        # PostgreSQL must be told each value's type. CAST, not `::`, which binds tighter than the minus of
        # a negative number; and no length or precision, which a cast would cut to where an UPDATE refuses.
        return f"CAST(%s AS {_TYPMOD.sub('', column.db_type(connection))})" if postgresql else "%s"

    placeholders = [placeholder(column) for column in columns]
    names = [quote(column.column) for column in columns]
    pk = quote(meta.pk.column)
    where = f"t.{pk} = v.{pk}"
    if checked is not None:
        placeholders.append(placeholder(checked))
        names.append(_EXPECTED)
        same = "IS NOT DISTINCT FROM" if postgresql else "IS"  # NULL included
        where += f" AND t.{quote(checked.column)} {same} v.{_EXPECTED}"
    row = "(" + ", ".join(placeholders) + ")"
    # SQLite's RETURNING names the updated table's columns only, and unqualified.
    returning = f"t.{pk}" if postgresql else pk
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    limit = min(MAX_PARAMS, connection.features.max_query_params or MAX_PARAMS)
    per_statement = max(1, limit // len(placeholders))
    written = set()
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = []
            for index, obj in enumerate(chunk, start=start):
                params += [
                    column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns
                ]
                if checked is not None:
                    params.append(checked.get_db_prep_save(only_if[1][index], connection))
            cursor.execute(
                f"WITH v({', '.join(names)}) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM v "  # (names from model meta)
                f"WHERE {where} RETURNING {returning}",
                params,
            )
            written.update(pk for (pk,) in cursor.fetchall())
    return written


def claim_due(rows: QuerySet, *, ids: Iterable[Any] | None, batch_size: int, interval: int, **also) -> list:
    """Claims up to `batch_size` rows due for a check (or exactly `ids`, due or not) by moving their next
    check `interval` seconds on, under SKIP LOCKED, so that overlapping sweeps split the rows between them.
    `also` are further columns written with the claim."""
    with transaction.atomic():
        rows = rows.filter(pk__in=list(ids)) if ids is not None else rows.filter(due_now())
        claimed = list(
            rows.order_by(F("next_check_at").asc(nulls_first=True), "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        if claimed:
            later = timezone.now() + timedelta(seconds=interval)
            rows.model.objects.filter(pk__in=claimed).update(next_check_at=later, **also)
    return claimed


def claim_batches(
    rows: QuerySet, *, ids: Sequence[Any] | None, batch_size: int, interval: int, **also
) -> Iterator[list]:
    """`claim_due` batch after batch: while any row is due, or through `ids` a batch at a time."""
    if ids is None:
        while claimed := claim_due(rows, ids=None, batch_size=batch_size, interval=interval, **also):
            yield claimed
        return
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        if claimed := claim_due(rows, ids=chunk, batch_size=batch_size, interval=interval, **also):
            yield claimed


def due_now() -> Q:
    """Rows whose next check has come (or was never set)."""
    return Q(next_check_at__isnull=True) | Q(next_check_at__lte=timezone.now())


def group_by(rows: Iterable, key: Callable[[Any], Hashable]) -> list[list]:
    """The rows in groups of equal `key`, first seen first (e.g. one batch of calls per provider)."""
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return list(groups.values())
