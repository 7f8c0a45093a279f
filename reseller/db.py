"""Database helpers, with no imports of ours: bulk writes, a bulk compare-and-swap, claiming due rows.

`bulk_update` and `bulk_insert` send one array per column instead of one parameter per value: on
PostgreSQL `UPDATE ... FROM unnest(%s, %s, ...)`, whose text is the same for 10 rows or 10,000, so it costs
nothing to build, convert or plan (the polling benchmark spent most of its time there with Django's
`bulk_update`, whose CASE-per-column-per-row statements grow with the batch, and then with a `VALUES` list of
30,000 parameters). SQLite has no arrays and gets the `VALUES` list. Written here because no maintained
library does this for psycopg 3 (django-bulk-load is psycopg2-only).
"""

import queue
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connections, models, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.base import ModelState
from django.db.models.lookups import In
from django.utils import timezone

MAX_PARAMS = 30_000  # SQLite's VALUES lists: at most this many parameters per statement
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
    """
    if not objs or not fields:
        return set()
    model = type(objs[0])
    connection = _connection(using)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    checked = meta.get_field(only_if[0]) if only_if is not None else None
    quote = connection.ops.quote_name
    names = [quote(column.column) for column in columns]
    values = [_values(column, objs, connection) for column in columns]
    types = list(columns)
    if checked is not None:
        names.append(_EXPECTED)
        values.append(_prepared(checked, only_if[1], connection))
        types.append(checked)
    pk = quote(meta.pk.column)
    where = f"t.{pk} = v.{pk}"
    if checked is not None:
        same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"  # NULL included
        where += f" AND t.{quote(checked.column)} {same} v.{_EXPECTED}"
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1 : len(columns)])
    # SQLite's RETURNING names the updated table's columns only, and unqualified.
    returning = f"t.{pk}" if connection.vendor == "postgresql" else pk
    written = set()
    with connection.cursor() as cursor:
        for source, params in _rows_source(connection, names, types, values):
            cursor.execute(
                f"WITH v({', '.join(names)}) AS ({source}) "  # noqa: S608 (names from model meta)
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM v "
                f"WHERE {where} RETURNING {returning}",
                params,
            )
            written.update(pk for (pk,) in cursor.fetchall())
    return written


def bulk_insert(model: type[models.Model], rows: Sequence[dict[str, Any]], *, using: str = "default") -> int:
    """Inserts one row per dict (field name -> value; every dict with the same keys), without building model
    instances or running `save()`: for append-only rows such as history, written a thousand at a time.
    Fields left out get their database default, so pass every field without one. Returns how many."""
    if not rows:
        return 0
    connection = _connection(using)
    fields = [model._meta.get_field(name) for name in rows[0]]
    # (a row missing a key is the caller's KeyError)
    values = [_prepared(field, [row[field.name] for row in rows], connection) for field in fields]
    _insert(connection, model, fields, values)
    return len(rows)


def _insert(
    connection, model: type[models.Model], fields: list, values: list[list], *, returning=None
) -> list:
    """INSERT of the rows (one list of prepared values per field); the `returning` column of each row
    inserted, in the order inserted, if asked for."""
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in fields]
    back = f" RETURNING {quote(returning.column)}" if returning is not None else ""
    written = []
    with connection.cursor() as cursor:
        for source, params in _rows_source(connection, names, fields, values):
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608 (model meta)
                f"SELECT * FROM ({source}) AS v{back}",
                params,
            )
            if returning is not None:
                written += [value for (value,) in cursor.fetchall()]
    return written


def insert_instances(objs: Sequence[models.Model], *, using: str = "default") -> None:
    """Inserts new model instances as `bulk_create` does (their primary keys set from the database), on
    PostgreSQL as one array per column: without the per-object, per-field work of `bulk_create` (a tenth of
    a polling batch that refunds hundreds of orders). For models whose fields need no `pre_save` (no
    auto_now); elsewhere this is `bulk_create`."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    if any(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) for field in fields):
        raise NotSupportedError(f"{meta.label} has auto_now fields: use bulk_create")
    connection = _connection(using)
    if connection.vendor != "postgresql":
        model.objects.using(using).bulk_create(objs)
        return
    values = [_values(field, objs, connection) for field in fields]
    pks = _insert(connection, model, fields, values, returning=meta.pk)  # as bulk_create, relies on the order
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, using


def _connection(using: str):
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotSupportedError(f"reseller.db speaks PostgreSQL and SQLite, not {connection.vendor}")
    return connection


def _values(column: models.Field, objs: Sequence[models.Model], connection) -> list:
    return _prepared(column, [getattr(obj, column.attname) for obj in objs], connection)


# Django's own fields whose values, already of this Python type, PostgreSQL takes as they are: their
# `get_db_prep_save` (a few calls deep for each value, a third of a batch's writing) changes nothing.
_PLAIN = {
    **dict.fromkeys(
        [
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveBigIntegerField,
            models.PositiveSmallIntegerField,
        ],
        int,
    ),
    models.CharField: str,
    models.TextField: str,
    models.DecimalField: Decimal,
    models.BooleanField: bool,
    models.DateTimeField: datetime,
    models.UUIDField: uuid.UUID,
}


def _prepared(field: models.Field, values: Sequence[Any], connection) -> list:
    """The values as the database takes them: through `get_db_prep_save`, unless (on PostgreSQL) every
    one already is what that would return (None, or the plain type of one of Django's own fields; a
    datetime with its time zone)."""
    target = field.target_field if type(field) is models.ForeignKey else field
    kind = _PLAIN.get(type(target)) if connection.vendor == "postgresql" else None
    if kind is str:  # a choices enum member is its value (a str subclass, which psycopg dumps one by one)
        values = [str.__str__(value) if isinstance(value, str) else value for value in values]
    if kind is not None and all(
        value is None or (type(value) is kind and (kind is not datetime or value.tzinfo is not None))
        for value in values
    ):
        return list(values)
    return [field.get_db_prep_save(value, connection) for value in values]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# How a value of each plain type is written in a PostgreSQL array literal ('{1,NULL,3}').
_ELEMENT = {
    int: str,
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    str: _quoted,
    datetime: lambda value: _quoted(value.isoformat()),
    date: lambda value: _quoted(value.isoformat()),
    uuid.UUID: str,
}


def _array_text(values: list) -> str | list:
    """A column's values as one PostgreSQL array literal when all are None or of one plain type (psycopg
    quotes a list element by element in Python, which took longer than the statement ran), else the list
    itself for psycopg to send."""
    kind = next((type(value) for value in values if value is not None), int)
    write = _ELEMENT.get(kind)
    if write is None or any(value is not None and type(value) is not kind for value in values):
        return values
    return "{" + ",".join("NULL" if value is None else write(value) for value in values) + "}"


_ELEMENT_TYPES: dict[tuple[models.Field, str], str] = {}


def _element_type(field: models.Field, connection) -> str:
    """The column's type without length or precision, once per field: `db_type` of a foreign key builds a
    new field of its target's type at every call (a tenth of a polling batch's time)."""
    if getattr(field, "model", None) is None:  # an expression's own field: not kept (there is no end to them)
        return _TYPMOD.sub("", field.db_type(connection))
    key = (field, connection.alias)
    if (found := _ELEMENT_TYPES.get(key)) is None:
        found = _ELEMENT_TYPES[key] = _TYPMOD.sub("", field.db_type(connection))
    return found


def _one_value(column: list) -> bool:
    """Whether every row holds the same plain value (of one type: True and 1 are not the same here)."""
    if len(column) < 2:
        return False
    first = column[0]
    kind = type(first)
    if kind not in _ELEMENT and first is not None:
        return False
    return all(type(value) is kind and value == first for value in column)


def _rows_source(connection, names: list[str], types: list[models.Field], values: list[list]):
    """(SQL yielding the rows, its parameters), once on PostgreSQL (one array per column; `unnest` needs
    each array's type, without length or precision, which a cast would cut to where a write refuses), in
    chunks of VALUES lists on SQLite. On PostgreSQL a column holding one value in every row (a batch's
    time of writing, its source) is sent once, not as an array of copies."""
    if connection.vendor == "postgresql":
        selected, arrays, aliases, scalars, columns = [], [], [], [], []
        for index, (field, column) in enumerate(zip(types, values, strict=True)):
            element = _element_type(field, connection)
            if index > 0 and _one_value(column):  # (the first, a key, keeps unnest's rows)
                selected.append(f"CAST(%s AS {element})")
                scalars.append(column[0])
            else:
                selected.append(f"u.c{index}")
                arrays.append(f"CAST(%s AS {element}[])")
                aliases.append(f"c{index}")
                columns.append(_array_text(column))
        yield (
            f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})",  # noqa: S608
            [*scalars, *columns],  # (in the order of the text: the selected values come first)
        )
        return
    count = len(values[0])
    limit = min(MAX_PARAMS, connection.features.max_query_params or MAX_PARAMS)
    per_statement = max(1, limit // len(names))
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    for start in range(0, count, per_statement):
        stop = min(count, start + per_statement)
        params = [column[index] for index in range(start, stop) for column in values]
        yield f"VALUES {', '.join([row] * (stop - start))}", params


def claim_due(
    rows: QuerySet,
    *,
    ids: Iterable[Any] | None,
    batch_size: int,
    interval: int,
    values: Sequence[str] = (),
    **also,
) -> list:
    """Claims up to `batch_size` rows due for a check (or exactly `ids`, due or not) by moving their next
    check `interval` seconds on, under SKIP LOCKED, so that overlapping sweeps split the rows between them.
    Returns their primary keys, or with `values`, a tuple (pk, *values) per row. `also` are further columns
    written with the claim."""
    with transaction.atomic(using=rows.db):
        rows = rows.filter(pk__among=list(ids)) if ids is not None else rows.filter(due_now())
        ordered = rows.order_by(F("next_check_at").asc(nulls_first=True), "pk").select_for_update(
            skip_locked=True, of=("self",)
        )
        later = timezone.now() + timedelta(seconds=interval)
        if connections[rows.db].vendor == "postgresql":
            claimed = _claim_returning(ordered[:batch_size], values, {"next_check_at": later, **also})
            return [row[0] for row in claimed] if not values else claimed
        if values:
            claimed = list(ordered.values_list("pk", *values)[:batch_size])
            pks = [row[0] for row in claimed]
        else:
            claimed = pks = list(ordered.values_list("pk", flat=True)[:batch_size])
        if claimed:
            rows.model.objects.filter(pk__among=pks).update(next_check_at=later, **also)
    return claimed


def _claim_returning(rows: QuerySet, values: Sequence[str], writes: dict[str, Any]) -> list[tuple]:
    """PostgreSQL's claim in one statement: the rows locked (SKIP LOCKED) by a sub-select, written and
    returned by one UPDATE, the values converted as the ORM converts them."""
    model, connection = rows.model, connections[rows.db]
    meta, quote = model._meta, connection.ops.quote_name
    select, params = rows.values_list("pk").query.get_compiler(rows.db).as_sql()
    written = [meta.get_field(name) for name in writes]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in written)
    read = RowReader(model, ["pk", *values], using=rows.db)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} FROM ({select}) AS due(claimed) "  # noqa: S608 (model meta)
            f"WHERE t.{pk} = due.claimed RETURNING {read.columns('t')}",
            [*(field.get_db_prep_save(writes[field.name], connection) for field in written), *params],
        )
        return [read(row) for row in cursor.fetchall()]


class RowReader:
    """Reads raw rows of `fields` (names or attnames, "pk" too) of `model` as the ORM would return them
    from `values_list`: each column through the database's and the field's converters (JSON decoded,
    decimals and datetimes as Django makes them). For SQL written by hand."""

    def __init__(self, model: type[models.Model], fields: Sequence[str], *, using: str = "default"):
        self.alias, meta = using, model._meta
        connection = connections[using]
        self.fields = [meta.pk if name == "pk" else meta.get_field(name) for name in fields]
        self.quoted = [connection.ops.quote_name(field.column) for field in self.fields]
        self.converters = []
        for index, field in enumerate(self.fields):
            column = field.get_col(meta.db_table)
            found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if found:
                self.converters.append((index, column, found))

    def columns(self, table: str | None = None) -> str:
        """The columns to select, in order, each prefixed by `table` (a quoted alias or name) if given."""
        return ", ".join(f"{table}.{name}" if table else name for name in self.quoted)

    def __call__(self, row: Sequence[Any]) -> tuple:
        if not self.converters:
            return tuple(row)
        values, connection = list(row), connections[self.alias]
        for index, column, converters in self.converters:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return tuple(values)


def partial_instance(
    model: type[models.Model], attnames: Sequence[str], values: Sequence[Any], using="default"
):
    """An instance of `model` holding only these fields' values (attnames, as `RowReader` reads them), as
    `from_db` would make it with the others deferred (reading one of those loads it), but without running
    `__init__` over every field or its pre_init and post_init signals: a polling batch builds a thousand
    orders, and building them through `__init__` took longer than reading them."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding, state.db = False, using
    return instance


def model_loader(model: type[models.Model], using: str = "default") -> tuple[str, Callable]:
    """For SQL written by hand that selects whole rows: the quoted columns of every concrete field of
    `model`, table-qualified, and a function making an instance of their values as the ORM would (the
    converters, then `from_db`)."""
    names = [field.attname for field in model._meta.concrete_fields]
    read = RowReader(model, names, using=using)
    table = connections[using].ops.quote_name(model._meta.db_table)
    return read.columns(table), lambda values: model.from_db(using, names, read(values))


@cache
def rows_with_parent(
    model: type[models.Model], relation: str, by: str, using: str = "default"
) -> Callable[[Any], list]:
    """A function answering the rows of `model` whose `by` column ("pk" too) equals its argument, each
    with its `relation` (a forward foreign key) loaded: what `filter(by=value).select_related(relation)`
    reads, by SQL made once per process, for reads every API request makes (building them through the ORM
    took longer than running them)."""
    meta, quote = model._meta, connections[using].ops.quote_name
    foreign_key = meta.get_field(relation)
    parent = foreign_key.related_model
    columns, load = model_loader(model, using)
    parent_columns, load_parent = model_loader(parent, using)
    table, parent_table = quote(meta.db_table), quote(parent._meta.db_table)
    where = quote((meta.pk if by == "pk" else meta.get_field(by)).column)
    sql = (  # our own table and column names, quoted; the value is a parameter
        f"SELECT {columns}, {parent_columns} FROM {table} INNER JOIN {parent_table} "  # noqa: S608
        f"ON {table}.{quote(foreign_key.column)} = {parent_table}.{quote(parent._meta.pk.column)} "
        f"WHERE {table}.{where} = %s"
    )
    split = len(meta.concrete_fields)

    def rows(value) -> list:
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [value])
            found = cursor.fetchall()
        instances = []
        for row in found:
            instance = load(row[:split])
            setattr(instance, relation, load_parent(row[split:]))
            instances.append(instance)
        return instances

    return rows


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


class Writer:
    """Runs `write(batch)` for each batch put to it in `threads` threads of their own, each with its own
    database connection, so that the caller goes on (claiming, reading, asking) while the database
    writes, and one batch's statements run while another's are built: at most `ahead` batches wait. The
    batches must not depend on one another (they may be written in any order, or at once). Only on
    PostgreSQL outside a transaction: inside one, another connection would not see the caller's rows, and
    SQLite writes one connection at a time; there each batch is written at once, in the caller's thread.
    A failed write stops the writing; its error is raised to the caller at its next `put`, or on leaving
    the `with` block."""

    def __init__(self, write: Callable[[Any], None], *, threads: int, using: str = "default", ahead: int = 2):
        connection = connections[using]
        self.write = write
        self.threaded = threads > 0 and connection.vendor == "postgresql" and not connection.in_atomic_block
        self.error: BaseException | None = None  # once set, nothing more is written
        self.raised = False
        if self.threaded:
            self.batches: queue.Queue = queue.Queue(maxsize=ahead)
            self.threads = [
                threading.Thread(target=self._run, name=f"db-writer-{index}", daemon=True)
                for index in range(threads)
            ]
            for thread in self.threads:
                thread.start()

    def put(self, batch) -> None:
        if not self.threaded:
            self.write(batch)
            return
        self._raise()
        self.batches.put(batch)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.threaded:
            for _ in self.threads:
                self.batches.put(None)  # after what is waiting
            for thread in self.threads:
                thread.join()
            if exc_info[0] is None:
                self._raise()

    def _raise(self) -> None:
        if self.error is not None and not self.raised:
            self.raised = True
            raise self.error

    def _run(self) -> None:
        try:
            while (batch := self.batches.get()) is not None:
                if self.error is None:
                    try:
                        self.write(batch)
                    except BaseException as exc:  # raised in the caller's thread
                        self.error = exc
        finally:
            connections.close_all()  # this thread's own


class Among(In):
    """`field__among=values`: `field__in`, sent on PostgreSQL as one array (`= ANY(...)`) however many
    values there are, as the bulk writes send theirs: `in` costs the ORM a few calls per value, and for
    a batch's thousand ids that took longer than the query. Plain values only (keys, not instances or a
    subquery). Registered on every field, relations too, by the reseller app."""

    lookup_name = "among"
    prepare_rhs = False  # done once for them all, below

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = _prepared(field, [value for value in self.rhs if value is not None], connection)
        if not values:
            raise EmptyResultSet
        array_type = _element_type(field, connection)
        return f"{lhs} = ANY(CAST(%s AS {array_type}[]))", (*lhs_params, _array_text(values))
