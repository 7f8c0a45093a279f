"""reseller/db.py on its own: the bulk write (and compare-and-swap) that every status change, refund and
polling batch goes through, and the claiming of due rows that lets overlapping sweeps split the work.

Unmarked tests run on whatever database the run uses (SQLite locally, PostgreSQL in CI). Those about
PostgreSQL's casts are marked `postgresql` and run in the test's transaction; only the race between two
sweeps needs real commits (`transaction=True`).
"""

import json
import threading
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as django_timezone

from catalog.models import Service
from orders.models import Order, Status
from reseller import db
from reseller.db import bulk_update, claim_batches, claim_due, group_by
from tests.factories import OrderFactory, ServiceFactory, UserFactory
from tests.helpers import run_together

PLUS_7 = timezone(timedelta(hours=7))
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# Everything a hand-built statement can get wrong: quotes, commas and parentheses (the VALUES list),
# backslashes (escaping), placeholders of every paramstyle, control characters, non-ASCII.
AWKWARD = (
    'it\'s "quoted", with, commas (and parens); a \\ backslash, \\\\ two, \\n not a newline,\n'
    "a newline\tand a tab, %s %(name)s $1 ? ::text -- not a comment, ünïcödé 日本語 🎉"
)


def orders(count, **fields):
    """`count` orders of one customer and one service, in one insert."""
    service, user = ServiceFactory(), UserFactory()
    return Order.objects.bulk_create(OrderFactory.build_batch(count, user=user, service=service, **fields))


def same(stored, written):
    """Equal and of the same type (True is not 1, 1.0 is not 1), datetimes as instants; JSON by its text."""
    if isinstance(written, datetime):
        return isinstance(stored, datetime) and stored.astimezone(UTC) == written.astimezone(UTC)
    if isinstance(written, dict | list):
        return json.dumps(stored, sort_keys=True) == json.dumps(written, sort_keys=True)
    return type(stored) is type(written) and stored == written


def assert_round_trip(rows, values):
    """Writes `values[i]` into `rows[i]` with bulk_update; each column reads back exactly as written."""
    for row, changes in zip(rows, values, strict=True):
        for name, value in changes.items():
            setattr(row, name, value)
    model = type(rows[0])

    written = bulk_update(rows, sorted(values[0]))

    assert written == {row.pk for row in rows}
    stored = model.objects.in_bulk([row.pk for row in rows])
    for row, changes in zip(rows, values, strict=True):
        for name, value in changes.items():
            assert same(getattr(stored[row.pk], name), value), (name, getattr(stored[row.pk], name), value)


@pytest.mark.postgresql
@pytest.mark.django_db
def test_every_order_column_type_round_trips_exactly_through_the_postgresql_casts():
    """On PostgreSQL every value goes in as `%s::<column type>`: a cast to the wrong precision or type
    would round money, shift a time or truncate a count without an error. Extremes of each type the
    orders use: 5- and 8-place decimals at their largest and smallest, nullable ones, 64-bit counts
    (negative remains of an over-delivery), times in other zones (one in a DST fold) and none."""
    values = [
        {
            "charge": Decimal("999999999999999.99999"),
            "refund": Decimal("999999999999999.99998"),
            "upstream_charge": Decimal("-0.00001"),
            "rate": Decimal("9999999999999999.99999999"),
            "cost_rate": Decimal("0.00000001"),
            "exchange_rate": Decimal("123456789012.12345678"),
            "quantity": 2**63 - 1,
            "start_count": 2**63 - 1,
            "remains": -(2**63) + 1,  # -(2**63) itself: see test_the_smallest_bigint_round_trips
            "submit_attempts": 32767,
            "comments": AWKWARD,
            "error": AWKWARD,
            "link": "https://example.com/p?a=1,2&b='x'&c=\"y\"#(z)",
            "next_check_at": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=PLUS_7),
            "submitted_at": datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=NEW_YORK),  # the second 1:30
            "finished_at": datetime(1970, 1, 1, tzinfo=UTC),
        },
        {
            "charge": Decimal("0.00001"),
            "refund": Decimal(0),
            "upstream_charge": None,
            "rate": Decimal("-1.5"),
            "cost_rate": Decimal("1E-8"),
            "exchange_rate": Decimal("25000.5"),
            "quantity": 0,
            "start_count": None,
            "remains": None,
            "submit_attempts": 0,
            "comments": "",
            "error": "",
            "link": "https://example.com/",
            "next_check_at": None,
            "submitted_at": None,
            "finished_at": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        },
    ]

    assert_round_trip(orders(2), values)


@pytest.mark.postgresql
@pytest.mark.django_db
def test_the_smallest_bigint_round_trips():
    """Model.save() stores -(2**63) in a BigIntegerField; the bulk write must too."""
    assert_round_trip(orders(1), [{"remains": -(2**63), "start_count": -(2**63)}])


@pytest.mark.postgresql
@pytest.mark.django_db
def test_every_service_column_type_round_trips_exactly_through_the_postgresql_casts():
    """The catalog's types: JSON (the provider's raw record, objects and arrays, with awkward strings and
    a number beyond a double), booleans both ways, 64-bit bounds, nullable decimals and small integers."""
    raw = {
        "name": AWKWARD,
        "nested": [1, 2.5, None, True, False, {"empty": [], "zero": 0}],
        "big": 2**53 + 1,
        "true_is_not_1": 1,
    }
    values = [
        {
            "raw": raw,
            "refill": True,
            "cancel": False,
            "dripfeed": True,
            "is_available": False,
            "is_enabled": False,
            "min_quantity": 0,
            "max_quantity": 2**63 - 1,
            "upstream_name": AWKWARD,
            "upstream_description": AWKWARD * 3,
            "rate": Decimal("0.00000001"),
            "fixed_rate": None,
            "markup_percent": Decimal("-9999999.99"),
            "refill_days": None,
        },
        {
            "raw": [AWKWARD, {"a": "b"}],
            "refill": False,
            "cancel": True,
            "dripfeed": False,
            "is_available": True,
            "is_enabled": True,
            "min_quantity": 2**63 - 1,
            "max_quantity": 1,
            "upstream_name": "",
            "upstream_description": "",
            "rate": Decimal("9999999999999999.99999999"),
            "fixed_rate": Decimal("12.34567891"),
            "markup_percent": None,
            "refill_days": 32767,
        },
    ]
    services = [ServiceFactory(), ServiceFactory()]

    assert_round_trip([Service.objects.get(pk=service.pk) for service in services], values)


@pytest.mark.django_db
def test_strings_that_look_like_array_syntax_or_null_round_trip_as_written():
    """PostgreSQL gets each column as one array literal: a string reading NULL, braces or quotes is
    still that string, and None beside strings is still NULL."""
    tricky = ["NULL", "null", "{a,b}", '"', "\\", "", " padded ", "a,b", "}"]
    rows = orders(len(tricky) + 1)
    values = [{"comments": text, "poll_error": text, "upstream_charge": None} for text in tricky]
    values.append({"comments": "x", "poll_error": "", "upstream_charge": Decimal("1.5")})

    assert_round_trip(rows, values)


@pytest.mark.django_db
def test_a_partial_instance_holds_the_values_given_and_loads_the_others_when_read():
    (order,) = orders(1, comments="kept in the row")

    partial = db.partial_instance(Order, ["id", "status", "quantity"], [order.pk, "pending", 5])

    assert (partial.pk, partial.status, partial.quantity) == (order.pk, "pending", 5)
    assert partial.get_deferred_fields() >= {"comments", "link"}
    assert partial.comments == "kept in the row"  # read from the database on first use
    partial.status = "canceled"
    partial.save(update_fields=["status"])
    assert Order.objects.get(pk=order.pk).status == "canceled"


@pytest.mark.django_db
def test_only_the_named_fields_are_written():
    """Other fields changed in memory stay as the database has them: a poll writing its answer fields
    must not carry a stale status or charge along."""
    order, other = orders(2)
    order.error, order.status, order.charge, order.comments = "written", Status.FAILED, Decimal(9), "not"
    other.error = "not named in objs"

    assert bulk_update([order], ["error"]) == {order.pk}

    stored = Order.objects.in_bulk([order.pk, other.pk])
    assert stored[order.pk].error == "written"
    assert (stored[order.pk].status, stored[order.pk].charge, stored[order.pk].comments) == (
        Status.QUEUED,
        Decimal("1.3"),
        "",
    )
    assert stored[other.pk].error == ""


@pytest.mark.django_db
def test_nothing_to_write_runs_no_statement(django_assert_num_queries):
    """A polling batch where nothing changed calls it with no objects: no statement, not an empty VALUES."""
    with django_assert_num_queries(0):
        assert bulk_update([], ["error"]) == set()
        assert bulk_update([Order(pk=1)], []) == set()


@pytest.mark.django_db
def test_more_objects_than_one_statement_holds_are_written_in_several(monkeypatch):
    """On SQLite, past MAX_PARAMS parameters the objects go in several statements, and every one is written.
    Three parameters a row (id, error, remains) under a limit of 7: two rows a statement, four statements.
    PostgreSQL takes one array per column, so one statement whatever the number of rows."""
    rows = orders(7)
    monkeypatch.setattr(db, "MAX_PARAMS", 7)
    for index, row in enumerate(rows):
        row.error, row.remains = f"answer {index}", -index

    with CaptureQueriesContext(connection) as queries:
        written = bulk_update(rows, ["error", "remains"])

    assert written == {row.pk for row in rows}
    statements = 1 if connection.vendor == "postgresql" else 4
    assert sum(query["sql"].startswith("WITH v(") for query in queries) == statements
    stored = Order.objects.in_bulk([row.pk for row in rows])
    assert [(stored[row.pk].error, stored[row.pk].remains) for row in rows] == [
        (f"answer {index}", -index) for index in range(7)
    ]


@pytest.mark.django_db
def test_the_answer_is_exactly_the_rows_written():
    """A row that is gone (deleted since it was loaded) is not written and not in the answer."""
    kept, gone = orders(2)
    Order.objects.filter(pk=gone.pk).delete()
    kept.error = gone.error = "x"

    assert bulk_update([kept, gone], ["error"]) == {kept.pk}
    assert Order.objects.get(pk=kept.pk).error == "x"
    assert not Order.objects.filter(pk=gone.pk).exists()


@pytest.mark.django_db
def test_a_compare_and_swap_skips_the_rows_changed_since_they_were_loaded():
    """Two of four orders moved on under us: those keep what the other writer wrote and are left out of
    the answer; the other two are written. The checked column need not be one of those written."""
    rows = orders(4)
    Order.objects.filter(pk__in=[rows[1].pk, rows[3].pk]).update(status=Status.SUBMITTING)
    for row in rows:
        row.error = "from a stale poll"

    written = bulk_update(rows, ["error"], only_if=("status", [Status.QUEUED] * 4))

    assert written == {rows[0].pk, rows[2].pk}
    stored = Order.objects.in_bulk([row.pk for row in rows])
    assert [stored[row.pk].error for row in rows] == ["from a stale poll", "", "from a stale poll", ""]
    assert [stored[row.pk].status for row in rows] == ["queued", "submitting", "queued", "submitting"]


@pytest.mark.django_db
def test_a_compare_and_swap_over_several_statements_checks_each_row_against_its_own_value(monkeypatch):
    """Each row is checked against its own expected value, also in the second and later statements (an
    index that restarted at each chunk would check rows against their neighbours' values). Rows start in
    different statuses; three of them, one in each of three statements, moved on since they were loaded."""
    start = [
        Status.QUEUED,
        Status.PENDING,
        Status.IN_PROGRESS,
        Status.QUEUED,
        Status.PENDING,
        Status.PROCESSING,
    ]
    rows = orders(len(start))
    for row, status in zip(rows, start, strict=True):
        row.status = status
    bulk_update(rows, ["status"])
    moved = {rows[1].pk, rows[2].pk, rows[5].pk}
    Order.objects.filter(pk__in=moved).update(status=Status.COMPLETED)
    monkeypatch.setattr(db, "MAX_PARAMS", 6)  # id, status, expected: two rows a statement
    expected = [row.status for row in rows]
    for row in rows:
        row.status = Status.FAILED

    with CaptureQueriesContext(connection) as queries:
        written = bulk_update(rows, ["status"], only_if=("status", expected))

    statements = 1 if connection.vendor == "postgresql" else 3  # (PostgreSQL: one array per column)
    assert sum(query["sql"].startswith("WITH v(") for query in queries) == statements
    assert written == {row.pk for row in rows} - moved
    stored = Order.objects.in_bulk([row.pk for row in rows])
    assert [stored[row.pk].status for row in rows] == [
        "failed",
        "completed",
        "completed",
        "failed",
        "failed",
        "completed",
    ]


@pytest.mark.django_db
def test_a_compare_and_swap_from_null_writes_the_rows_still_null():
    """The docstring's promise, "written only while its row still holds values[i]", for NULL: a row
    that still holds NULL, as expected, must be written."""
    (row,) = orders(1)
    row.next_check_at = datetime(2030, 1, 1, tzinfo=UTC)

    assert bulk_update([row], ["next_check_at"], only_if=("next_check_at", [None])) == {row.pk}
    assert Order.objects.get(pk=row.pk).next_check_at == datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_string_longer_than_its_column_is_refused_not_cut():
    """Model.save() raises DataError for a string over max_length on PostgreSQL; a bulk write that
    stored the first 500 characters instead would lose the rest of an error message without a word."""
    (row,) = orders(1)
    row.error = "x" * 501

    with pytest.raises(DataError):
        bulk_update([row], ["error"])


class Clock:
    """Stands in for django.utils.timezone inside reseller.db: a time that only the test moves."""

    def __init__(self):
        self.at = django_timezone.now()

    def now(self):
        return self.at


@pytest.mark.django_db
def test_ids_claims_exactly_those_rows_due_or_not():
    """A "poll now" names orders whether due or not: it claims exactly those of them that the query
    covers, writes `also` with the claim, and leaves every other row alone."""
    later, due, never_checked, outside = orders(4)
    now = django_timezone.now()
    Order.objects.filter(pk=later.pk).update(next_check_at=now + timedelta(hours=1))
    Order.objects.filter(pk=due.pk).update(next_check_at=now - timedelta(hours=1))
    Order.objects.filter(pk=outside.pk).update(status=Status.COMPLETED)
    rows = Order.objects.filter(status=Status.QUEUED)

    claimed = claim_due(
        rows, ids=[later.pk, due.pk, outside.pk], batch_size=10, interval=60, poll_error="claimed"
    )

    assert sorted(claimed) == sorted([later.pk, due.pk])
    stored = Order.objects.in_bulk([later.pk, due.pk, never_checked.pk, outside.pk])
    for pk in claimed:
        assert stored[pk].poll_error == "claimed"
        assert (
            now + timedelta(seconds=59)
            < stored[pk].next_check_at
            <= django_timezone.now() + timedelta(seconds=60)
        )
    for pk in (never_checked.pk, outside.pk):
        assert (stored[pk].next_check_at, stored[pk].poll_error) == (None, "")


@pytest.mark.django_db
def test_claimed_values_read_as_the_orm_reads_them():
    """The claim returns the values asked for as `values_list` would: JSON decoded, decimals exact, in
    the order asked, for the rows it claimed."""
    (order,) = orders(1)
    Order.objects.filter(pk=order.pk).update(
        upstream_fields={"posts": "5", "expiry": "01/02/2030"},
        child_orders=[7, 8],
        upstream_charge=Decimal("0.12345"),
        start_count=12,
    )
    fields = ("upstream_fields", "child_orders", "upstream_charge", "start_count", "status")
    expected = Order.objects.values_list("pk", *fields).get(pk=order.pk)

    claimed = claim_due(Order.objects.all(), ids=None, batch_size=5, interval=60, values=fields)

    assert claimed == [expected]
    assert claimed[0][1] == {"posts": "5", "expiry": "01/02/2030"}
    assert claimed[0][3] == Decimal("0.12345")


@pytest.mark.django_db
def test_claim_batches_goes_through_ids_a_batch_at_a_time():
    """A "poll now" of many orders, none due: every id is claimed, `batch_size` at a time, in order."""
    rows = orders(7)
    Order.objects.update(next_check_at=django_timezone.now() + timedelta(hours=1))  # none due
    ids = [row.pk for row in rows]

    batches = list(claim_batches(Order.objects.all(), ids=ids, batch_size=3, interval=60))

    assert [sorted(batch) for batch in batches] == [sorted(ids[:3]), sorted(ids[3:6]), ids[6:]]


@pytest.mark.django_db
def test_a_claimed_row_is_not_due_again_until_its_interval_has_passed(monkeypatch):
    """What keeps a sweep from checking the same order twice in a row, and an order from never being
    checked again: due again exactly `interval` seconds after its claim. claim_batches without ids stops
    once nothing is due."""
    clock = Clock()
    monkeypatch.setattr(db, "timezone", clock)
    ids = sorted(row.pk for row in orders(5))
    rows = Order.objects.all()

    first = list(claim_batches(rows, ids=None, batch_size=2, interval=60))
    assert [len(batch) for batch in first] == [2, 2, 1]
    assert sorted(pk for batch in first for pk in batch) == ids
    assert claim_due(rows, ids=None, batch_size=10, interval=60) == []
    clock.at += timedelta(seconds=59)
    assert claim_due(rows, ids=None, batch_size=10, interval=60) == []
    clock.at += timedelta(seconds=1)
    assert sorted(claim_due(rows, ids=None, batch_size=10, interval=60)) == ids


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_claiming_at_once_split_the_rows_with_none_twice_and_none_left(monkeypatch):
    """Two overlapping sweeps. Each holds its first batch, claimed but not committed, until the other has
    claimed its own (the barrier, after the claim's one statement, inside its transaction): without FOR
    UPDATE both would take the same rows, without SKIP LOCKED the second would wait for the first, which
    waits for it (a deadlock, broken by the barrier's timeout). Between them they claim every row exactly
    once."""
    ids = {row.pk for row in orders(100)}
    first_claims, seen = threading.Barrier(2), threading.local()
    met = []
    real_claim = db._claim_returning

    def claim_then_wait_once(*args, **kwargs):
        claimed = real_claim(*args, **kwargs)
        if not getattr(seen, "met", False):
            seen.met = True
            first_claims.wait(timeout=5)
            met.append(threading.get_ident())
        return claimed

    monkeypatch.setattr(db, "_claim_returning", claim_then_wait_once)

    results = run_together(
        2,
        lambda i: [
            pk
            for batch in claim_batches(Order.objects.all(), ids=None, batch_size=10, interval=60)
            for pk in batch
        ],
    )

    assert all(isinstance(result, list) for result in results), results
    first, second = results
    assert len(met) == 2, "both sweeps held their first batch at once"
    assert first and second, "both sweeps got work"
    assert len(first) + len(second) == len(ids), "no row claimed twice"
    assert set(first) | set(second) == ids, "no row left out"
    assert not Order.objects.filter(db.due_now()).exists()


def test_group_by_keeps_the_groups_and_their_rows_in_the_order_first_seen():
    """One status call per provider, in the order the batch met them, each with its orders in order."""
    rows = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]

    assert group_by(rows, key=lambda row: row[0]) == [[("b", 1), ("b", 3)], [("a", 2), ("a", 5)], [("c", 4)]]


@pytest.mark.django_db
def test_bulk_insert_writes_plain_rows_without_model_instances():
    from orders.models import OrderEvent
    from reseller.db import bulk_insert

    rows = orders(3)
    now = django_timezone.now()
    written = bulk_insert(
        OrderEvent,
        [
            {
                "order": row.pk,
                "old_status": "",
                "new_status": "queued",
                "source": "poll",
                "note": f"n{i}",
                "created_by": None,
                "created_at": now,
            }
            for i, row in enumerate(rows)
        ],
    )

    assert written == 3
    assert sorted(OrderEvent.objects.filter(source="poll").values_list("order_id", "note")) == sorted(
        (row.pk, f"n{i}") for i, row in enumerate(rows)
    )
    assert bulk_insert(OrderEvent, []) == 0


@pytest.mark.django_db
def test_rows_with_parent_reads_what_select_related_reads_in_one_query(django_assert_num_queries):
    ServiceFactory()  # another service, of another provider: not in the answer
    service = ServiceFactory(upstream_name="Likes", min_quantity=10)
    wanted = Service.objects.select_related("provider").get(pk=service.pk)
    by_pk = db.rows_with_parent(Service, "provider", "pk", connection.alias)

    with django_assert_num_queries(1):
        [found] = by_pk(service.pk)
        provider = found.provider

    assert [getattr(found, f.attname) for f in Service._meta.concrete_fields] == [
        getattr(wanted, f.attname) for f in Service._meta.concrete_fields
    ]
    assert [getattr(provider, f.attname) for f in provider._meta.concrete_fields] == [
        getattr(wanted.provider, f.attname) for f in provider._meta.concrete_fields
    ]
    assert not found._state.adding and found._state.db == connection.alias
    assert by_pk(service.pk + 1000) == []


@pytest.mark.django_db
def test_among_finds_what_in_finds_and_sends_the_ids_as_one_array_on_postgresql():
    rows = orders(5)
    wanted = [rows[0].pk, rows[3].pk, None, rows[3].pk, 10**12]  # a None, a repeat, one that is not there

    with CaptureQueriesContext(connection) as queries:
        found = set(Order.objects.filter(pk__among=wanted).values_list("pk", flat=True))

    assert found == set(Order.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == {rows[0].pk, rows[3].pk}
    assert list(Order.objects.filter(pk__among=[])) == []
    assert Order.objects.filter(user_id__among=[rows[0].user_id]).count() == 5  # a relation's key too
    if connection.vendor == "postgresql":
        (query,) = queries.captured_queries
        assert "= ANY(CAST(" in query["sql"]
        assert " IN (" not in query["sql"]  # one parameter, not one per id


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_writer_outside_a_transaction_writes_every_batch_on_connections_of_its_own():
    """Each batch is written in a writer thread (its own connection, its own commit), all of them before
    the `with` block ends, whatever order they were taken in."""
    rows = orders(6)
    caller = threading.get_ident()
    seen = []

    def write(pks):
        seen.append(threading.get_ident())
        Order.objects.filter(pk__in=pks).update(poll_error="written")

    with db.Writer(write, threads=2) as writer:
        for start in range(0, 6, 2):
            writer.put([row.pk for row in rows[start : start + 2]])

    assert len(seen) == 3 and caller not in seen
    assert set(Order.objects.values_list("poll_error", flat=True)) == {"written"}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_stops_the_writing_and_is_raised_in_the_callers_thread():
    def write(batch):
        if batch == 2:
            raise ValueError("refused")
        written.append(batch)

    written = []
    with pytest.raises(ValueError, match="refused"), db.Writer(write, threads=1, ahead=1) as writer:
        for batch in range(1, 10):
            writer.put(batch)
    assert written == [1]  # nothing after the failure


@pytest.mark.django_db
def test_inside_a_transaction_a_writer_writes_at_once_in_the_callers_thread():
    """Another connection would not see the caller's uncommitted rows (and SQLite has one writer)."""
    (row,) = orders(1)
    threads = []

    def write(pk):
        threads.append(threading.get_ident())
        Order.objects.filter(pk=pk).update(poll_error="written")

    with db.Writer(write, threads=2) as writer:
        writer.put(row.pk)
        assert Order.objects.get(pk=row.pk).poll_error == "written"  # already
    assert threads == [threading.get_ident()]


@pytest.mark.django_db
def test_insert_instances_writes_what_bulk_create_writes_and_gives_each_instance_its_key():
    from reseller.wallet.models import LedgerEntry

    user = UserFactory()
    kinds = [LedgerEntry.Kind.DEPOSIT, LedgerEntry.Kind.ADJUSTMENT, LedgerEntry.Kind.DEPOSIT]
    amounts = [Decimal("10.5"), Decimal("-0.00001"), Decimal("999999999.99999")]
    entries = [
        LedgerEntry(user=user, amount=amount, kind=kind, note=AWKWARD, balance_after=Decimal(0))
        for amount, kind in zip(amounts, kinds, strict=True)
    ]

    db.insert_instances(entries)

    assert all(entry.pk is not None and not entry._state.adding for entry in entries)
    stored = LedgerEntry.objects.in_bulk([entry.pk for entry in entries])
    for entry in entries:  # each key is the row of its own values (RETURNING in the order inserted)
        row = stored[entry.pk]
        assert (row.amount, row.kind, row.note, row.public_id, row.user_id) == (
            entry.amount,
            entry.kind,
            AWKWARD,
            entry.public_id,
            user.pk,
        )
        assert same(row.created_at, entry.created_at)
        assert type(row.kind) is str


@pytest.mark.django_db
def test_insert_instances_refuses_a_model_whose_fields_need_pre_save():
    from django.db import NotSupportedError

    from reseller.wallet.models import Wallet

    user = UserFactory()
    Wallet.objects.filter(user=user).delete()
    with pytest.raises(NotSupportedError, match="auto_now"):
        db.insert_instances([Wallet(user=user)])
    assert not Wallet.objects.filter(user=user).exists()


def test_a_column_holds_one_value_only_when_every_row_holds_the_same_value_of_the_same_type():
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert db._one_value([moment, moment.astimezone(PLUS_7)])  # one instant
    assert db._one_value([None, None, None])
    assert db._one_value(["pending", "pending"])
    assert not db._one_value([True, 1])
    assert not db._one_value([1, 1, 2])
    assert not db._one_value([None, 0])
    assert not db._one_value([5])  # one row: an array of one
    assert not db._one_value([[1], [1]])  # not a plain value


@pytest.mark.django_db
def test_a_column_with_one_value_in_every_row_is_sent_once_and_written_to_every_row():
    rows = orders(40)
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    for index, row in enumerate(rows):
        row.finished_at, row.poll_error, row.remains = moment, AWKWARD, index

    with CaptureQueriesContext(connection) as queries:
        written = bulk_update(rows, ["finished_at", "poll_error", "remains"])

    assert written == {row.pk for row in rows}
    stored = Order.objects.in_bulk([row.pk for row in rows])
    for index, row in enumerate(rows):
        assert stored[row.pk].finished_at == moment
        assert (stored[row.pk].poll_error, stored[row.pk].remains) == (AWKWARD, index)
    if connection.vendor == "postgresql":
        (query,) = queries.captured_queries
        assert query["sql"].count("2030-01-02") == 1  # not forty copies in an array
