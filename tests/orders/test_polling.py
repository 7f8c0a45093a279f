"""Following orders upstream, against the simulator over HTTP."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from catalog.simulator import SimulatorConfig
from catalog.upstream import Client
from orders.models import Order, OrderCheck, OrderEvent, Status
from orders.polling import orders_checks_mend, orders_poll
from reseller.wallet.models import LedgerEntry
from tests.conftest import SIMULATOR_KEY
from tests.helpers import balance_of, place, reload, set_outcome

LINK = "https://instagram.com/p/abc"


def place_and_submit(alice, service, count, quantity=1000):
    orders = place(alice, service, count=count, quantity=quantity)
    OrderCheck.objects.update(next_check_at=None)  # due now
    return orders


def finish(simulator):
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)


@pytest.mark.django_db
def test_orders_move_through_upstream_statuses_with_a_history_row_each(alice, likes, simulator):
    (order,) = place_and_submit(alice, likes, 1)
    set_outcome(simulator, order, "Completed", 0)

    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.2)
    orders_poll()
    assert reload(order).status == Status.IN_PROGRESS
    OrderCheck.objects.update(next_check_at=None)
    finish(simulator)
    result = orders_poll()

    order = reload(order)
    assert (order.status, order.remains, order.refund) == (Status.COMPLETED, 0, 0)
    assert order.start_count is not None and order.upstream_charge == Decimal("0.42")
    assert order.finished_at and not OrderCheck.objects.filter(order=order).exists()  # no longer followed
    assert list(order.events.filter(source="poll").values_list("old_status", "new_status")) == [
        ("pending", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert (result.checked, result.changed, result.refunded) == (1, 1, 0)


@pytest.mark.django_db
def test_a_partial_order_refunds_the_undelivered_share_exactly_once(alice, likes, simulator):
    (order,) = place_and_submit(alice, likes, 1, quantity=999)  # charge 0.54546 (rounded up)
    set_outcome(simulator, order, "Partial", 333)
    finish(simulator)

    orders_poll()
    Order.objects.update(status=Status.IN_PROGRESS)  # as if a retry saw it again
    orders_checks_mend()  # the sweeper follows orders whose status was changed by hand
    orders_poll()

    order = reload(order)
    assert order.charge == Decimal("0.54546")
    assert (order.status, order.remains, order.refund) == (Status.PARTIAL, 333, Decimal("0.18182"))
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1
    assert balance_of(alice) == Decimal("100") - Decimal("0.54546") + Decimal("0.18182")


@pytest.mark.django_db
def test_a_canceled_order_is_refunded_in_full_and_over_delivery_refunds_nothing(alice, likes, simulator):
    canceled, over = place_and_submit(alice, likes, 2)
    set_outcome(simulator, canceled, "Canceled", 1000)
    set_outcome(simulator, over, "Completed", -5)
    finish(simulator)

    orders_poll()

    assert (reload(canceled).status, reload(canceled).refund) == (Status.CANCELED, canceled.charge)
    assert (reload(over).status, reload(over).remains, reload(over).refund) == (Status.COMPLETED, -5, 0)
    assert balance_of(alice) == Decimal("100") - over.charge


@pytest.mark.django_db
def test_a_per_id_error_is_recorded_and_does_not_break_the_batch(alice, likes, simulator):
    lost, fine = place_and_submit(alice, likes, 2)
    Order.objects.filter(pk=lost.pk).update(upstream_id="99999999")
    finish(simulator)

    result = orders_poll()

    assert reload(lost).poll_error == "Incorrect order ID" and reload(lost).status == Status.PENDING
    assert reload(fine).status in {Status.COMPLETED, Status.PARTIAL, Status.CANCELED}
    assert (result.checked, result.errors) == (1, 1)


@pytest.mark.django_db
def test_a_failing_provider_is_recorded_on_its_orders(alice, likes, simulator):
    (order,) = place_and_submit(alice, likes, 1)
    simulator.simulator.inject("html", action="status")

    result = orders_poll()

    assert result.errors == 1 and "HTML" in reload(order).poll_error
    assert reload(order).status == Status.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize("simulator_config", [SimulatorConfig(key=SIMULATOR_KEY, step_seconds=1000)])
def test_status_is_asked_for_at_most_100_orders_per_call(alice, likes, simulator, monkeypatch):
    place_and_submit(alice, likes, 250, quantity=10)
    calls = []
    real_call = Client._call
    monkeypatch.setattr(
        Client, "_call", lambda self, action, **p: calls.append(p) or real_call(self, action, **p)
    )

    result = orders_poll()

    assert [len(c["orders"].split(",")) for c in calls] == [100, 100, 50]
    assert result.checked == 250


@pytest.mark.django_db
def test_a_sweep_claims_orders_so_an_immediate_second_sweep_does_nothing(alice, likes, simulator):
    place_and_submit(alice, likes, 3)

    assert orders_poll().checked == 3
    assert orders_poll().checked == 0


@pytest.mark.django_db
def test_poll_now_checks_the_given_orders_even_if_not_due(alice, likes, simulator):
    first, second = place_and_submit(alice, likes, 2)
    orders_poll()
    finish(simulator)

    result = orders_poll(order_ids=[first.pk])

    assert result.checked == 1
    assert reload(first).is_final and not reload(second).is_final


@pytest.mark.django_db
@pytest.mark.parametrize("simulator_config", [SimulatorConfig(key=SIMULATOR_KEY, step_seconds=1000)])
def test_queries_per_batch_do_not_grow_with_the_batch(alice, likes, simulator, monkeypatch):
    # A sweep's calls are counted once it is over (catalog/calls.py: one row write per action and outcome,
    # whatever the calls); the first count ever also creates its row, so counting is left out here.
    monkeypatch.setattr("catalog.calls.record_call", lambda **kwargs: None)
    ids = [order.pk for order in place_and_submit(alice, likes, 320, quantity=10)]
    simulator.simulator.advance(1500)  # all move to In progress: every order changes

    def queries_for(order_ids):
        with CaptureQueriesContext(connection) as queries:
            result = orders_poll(order_ids=order_ids, batch_size=1000)
        assert result.changed == len(order_ids)
        return len(queries)

    small, large = queries_for(ids[:20]), queries_for(ids[20:])
    if connection.vendor == "postgresql":  # SQLite caps a statement at 999 parameters: smaller batches
        assert small == large
    assert large - small <= 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_two_concurrent_pollers_split_the_work_and_refund_once(alice, likes, simulator):
    place_and_submit(alice, likes, 300, quantity=100)
    finish(simulator)
    results, errors = [], []

    def poll():
        try:
            results.append(orders_poll(batch_size=50))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r.checked for r in results) == 300, "each order checked once, by one poller"
    assert all(r.checked > 0 for r in results), "both pollers got work"
    final = Order.objects.exclude(status__in=["completed", "partial", "canceled"])
    assert not final.exists()
    assert OrderEvent.objects.filter(source="poll").count() == 300
    refunds = LedgerEntry.objects.filter(kind="refund")
    assert refunds.count() == Order.objects.filter(refund__gt=0).count()
    assert refunds.values("order_id").distinct().count() == refunds.count()
    wallet_total = sum(LedgerEntry.objects.filter(user=alice).values_list("amount", flat=True))
    assert balance_of(alice) == wallet_total


@pytest.mark.django_db
def test_a_partial_answer_without_remains_waits_instead_of_refunding_nothing(alice, likes, simulator):
    import responses as responses_lib

    (order,) = place_and_submit(alice, likes, 1)
    answer = {reload(order).upstream_id: {"charge": "0.3", "status": "Partial", "start_count": "5"}}
    with responses_lib.RequestsMock() as mocked:  # the simulator always sends remains; some providers don't
        mocked.post(simulator.url, json=answer)
        orders_poll()

    order = reload(order)
    assert order.status == Status.PENDING and order.refund == 0
    assert order.poll_error.startswith("Partial without remains")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_a_sweep_and_a_poll_now_of_the_same_orders_apply_each_answer_once(alice, likes, simulator):
    orders = place_and_submit(alice, likes, 100, quantity=100)
    for order in orders:
        set_outcome(simulator, order, "Partial", 40)
    finish(simulator)
    errors = []

    def run(**kwargs):
        try:
            orders_poll(**kwargs)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run),
        threading.Thread(target=run, kwargs={"order_ids": [o.pk for o in orders]}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert OrderEvent.objects.filter(source="poll").count() == 100
    assert LedgerEntry.objects.filter(kind="refund").count() == 100
    assert balance_of(alice) == sum(LedgerEntry.objects.filter(user=alice).values_list("amount", flat=True))


@pytest.mark.django_db
@pytest.mark.postgresql
def test_a_sweep_whose_answers_change_nothing_leaves_the_order_rows_unwritten(alice, likes, simulator):
    """A claim moves the checks (OrderCheck), not the wide order row: an order whose answer says what the
    last one said is not written at all (PostgreSQL's row version, xmin, stays), yet it is not asked
    again within the interval."""
    orders = place_and_submit(alice, likes, 3)
    orders_poll()  # the first answers bring start counts: written
    OrderCheck.objects.update(next_check_at=None)

    def versions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, xmin::text FROM orders_order WHERE id = ANY(%s)", [[o.pk for o in orders]]
            )
            return dict(cursor.fetchall())

    before = versions()
    result = orders_poll()

    assert result.checked == 3 and result.changed == 0
    assert versions() == before
    assert all(check.next_check_at is not None for check in OrderCheck.objects.filter(order__in=orders))
    assert orders_poll().checked == 0  # claimed for the interval


@pytest.mark.django_db
def test_an_order_put_back_in_progress_by_hand_is_followed_again_by_the_sweeper(alice, likes, simulator):
    """Checks are kept by the moves; an order whose status was changed in the database has none until the
    sweeper's mend gives them back, due at once."""
    (order,) = place_and_submit(alice, likes, 1)
    set_outcome(simulator, order, "Completed", 0)
    finish(simulator)
    orders_poll()
    assert reload(order).status == Status.COMPLETED and not OrderCheck.objects.filter(order=order).exists()
    Order.objects.filter(pk=order.pk).update(status=Status.IN_PROGRESS, finished_at=None)
    assert orders_poll().checked == 0  # not followed: nothing asks about it

    assert orders_checks_mend() == 1
    assert orders_checks_mend() == 0  # once

    assert orders_poll().checked == 1
    assert reload(order).status == Status.COMPLETED
    assert LedgerEntry.objects.filter(kind="refund").count() == 0  # completed: nothing owed, twice or not


@pytest.mark.django_db
def test_a_claim_reads_what_add_sent_only_for_a_subscription_and_child_orders_as_lists(
    django_assert_num_queries,
):
    """The claim leaves a wide JSON column unread where the answer cannot need it, and reading an order's
    posts then costs no query; what it does read is what the ORM would have read."""
    from catalog.protocol import ServiceType
    from orders import polling
    from tests.factories import OrderFactory

    plain = OrderFactory(
        status=Status.PENDING, upstream_id="11", upstream_fields={"link": "x"}, child_orders=[5, "6"]
    )
    sub = OrderFactory(
        status=Status.IN_PROGRESS,
        upstream_id="12",
        service_type=ServiceType.SUBSCRIPTIONS,
        upstream_fields={"username": "a", "posts": "4", "max": "200"},
        quantity=800,
    )

    rows = {row[0]: row for row in polling._claim_read([plain.pk, sub.pk])}

    order, subscription = polling._claimed(rows[plain.pk]), polling._claimed(rows[sub.pk])
    with django_assert_num_queries(0):
        assert order.posts is None and order.child_orders == [5, "6"]
        assert subscription.posts == 4 and subscription.per_post == 200
        assert subscription.child_orders == []
    assert "upstream_fields" in order.get_deferred_fields()
    assert order.upstream_fields == {"link": "x"}  # read when asked for, as any deferred field
