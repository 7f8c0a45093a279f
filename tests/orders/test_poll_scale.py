"""Polling at scale, on PostgreSQL, against real simulators over HTTP: sweeps and workers splitting the work,
a provider that rate-limits, a slow provider beside a fast one."""

import queue
import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from catalog.models import Provider, Service
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from orders import polling
from orders.models import ACTIVE, FINAL, Order, OrderCheck, Status
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from reseller.wallet.services import Move as WalletMove
from reseller.wallet.services import wallet_moves
from tests.factories import funded_user

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
KEY = "scale-key-0123456789"


class Counted:
    """A simulator over HTTP that counts the status calls that reached it and how often each upstream order
    id was asked about in those it answered."""

    def __init__(self, name, **config):
        self.simulator = Simulator(
            SimulatorConfig(key=KEY, seed=3, step_seconds=600, balance=Decimal(10**6), **config)
        )
        self.asked = Counter()
        self.calls = 0
        self._lock = threading.Lock()
        handle, take_fault = self.simulator.handle, self.simulator.take_fault

        def counting(params):
            if params.get("action") == "status" and "orders" in params:
                with self._lock:
                    self.asked.update(params["orders"].split(","))
            return handle(params)

        def arriving(action):  # every request asks first whether it gets a fault: refused ones count too
            if action == "status":
                with self._lock:
                    self.calls += 1
            return take_fault(action)

        self.simulator.handle, self.simulator.take_fault = counting, arriving
        self.server = SimulatorServer(self.simulator).start()
        self.provider = Provider.objects.create(name=name, api_url=self.server.url, api_key=KEY)
        provider_sync_services(provider=self.provider, enable_new=True)

    def orders(self, user, count):
        """`count` orders placed here and pending upstream, each charged through the wallet, all due."""
        service = Service.objects.get(provider=self.provider, upstream_id="2")
        rows = []
        for _ in range(count):
            answer = self.simulator.handle(
                {"key": KEY, "action": "add", "service": "2", "link": "https://x.com/p", "quantity": "1000"}
            )
            rows.append(
                Order(
                    user=user,
                    service=service,
                    provider=self.provider,
                    link="https://x.com/p",
                    quantity=1000,
                    rate=Decimal("0.546"),
                    cost_rate=Decimal("0.42"),
                    charge=Decimal("0.546"),
                    cost=Decimal("0.42"),
                    status=Status.PENDING,
                    upstream_id=str(answer["order"]),
                )
            )
        orders = Order.objects.bulk_create(rows)
        # Followed, as the move to Pending makes them, and due now.
        OrderCheck.objects.bulk_create(OrderCheck(order=order, provider=self.provider) for order in orders)
        wallet_moves(
            moves=[
                WalletMove(user=user, amount=-order.charge, kind=LedgerEntry.Kind.CHARGE, order_id=order.pk)
                for order in orders
            ]
        )
        return orders

    def stop(self):
        self.server.stop()


@pytest.fixture
def providers(db):
    made = []

    def make(name, **config):
        made.append(Counted(name, **config))
        return made[-1]

    yield make
    for provider in made:
        provider.stop()


@pytest.fixture
def customer(db):
    return funded_user("10000", username="scale")


def sweeps_and_workers(sweeps, workers):
    """`sweeps` beat sweeps at once, each handing tasks to a queue that `workers` threads take from, as
    Celery workers would (each thread its own database connection); returns the PollResults."""
    tasks = queue.Queue()
    results, failures = [], []
    done_sweeping = threading.Event()

    def sweep():
        try:
            polling.orders_poll_fan_out()
        finally:
            connections.close_all()

    def work():
        try:
            while True:
                try:
                    provider_id = tasks.get(timeout=0.2)
                except queue.Empty:
                    if done_sweeping.is_set():
                        return
                    continue
                results.append(polling.orders_poll(provider_ids=[provider_id]))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    original = polling.enqueue_after_commit
    polling.enqueue_after_commit = lambda name, provider_id: tasks.put(provider_id)
    try:
        sweepers = [threading.Thread(target=sweep) for _ in range(sweeps)]
        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in sweepers + threads:
            thread.start()
        for thread in sweepers:
            thread.join()
        done_sweeping.set()
        for thread in threads:
            thread.join()
    finally:
        polling.enqueue_after_commit = original
    assert not failures, failures
    return results


def test_two_sweeps_and_three_workers_check_every_order_once_per_interval_and_refund_once(
    providers, customer, settings
):
    """5,000 orders: two sweeps at once hand the work to three workers. Every order is asked about exactly
    once; a second round within the interval asks about none; once they finish, every order is checked
    once more, and refunded at most once, exactly what it is owed."""
    settings.ORDER_POLL_BATCH, settings.ORDER_POLL_FAN_OUT = 500, 6
    provider = providers("Scale")
    orders = provider.orders(customer, 5000)
    provider.simulator.advance(700)  # all In progress: every order changes, none is final

    results = sweeps_and_workers(sweeps=2, workers=3)

    ids = {order.upstream_id for order in orders}
    assert set(provider.asked) == ids and set(provider.asked.values()) == {1}
    assert sum(result.checked for result in results) == 5000
    assert Order.objects.filter(status=Status.IN_PROGRESS).count() == 5000
    assert len([result for result in results if result.checked]) >= 2  # the work was shared

    results = sweeps_and_workers(sweeps=2, workers=3)  # within the interval: nothing is due

    assert sum(result.checked for result in results) == 0 and set(provider.asked.values()) == {1}

    provider.simulator.advance(10_000)  # all finish: 70% Completed, 20% Partial, 10% Canceled
    OrderCheck.objects.update(next_check_at=timezone.now() - timedelta(seconds=1))
    results = sweeps_and_workers(sweeps=2, workers=3)

    assert set(provider.asked.values()) == {2}
    assert not Order.objects.filter(status__in=ACTIVE).exists()
    refunds = Counter(LedgerEntry.objects.filter(kind="refund").values_list("order_id", flat=True))
    owed = {order.pk: order.refund for order in Order.objects.filter(refund__gt=0)}
    assert set(refunds) == set(owed) and set(refunds.values()) == {1}
    assert 1000 < len(owed) < 2000  # about 30%
    assert sum(result.refunded for result in results) == len(owed)
    refunded = dict(LedgerEntry.objects.filter(kind="refund").values_list("order_id", "amount"))
    assert refunded == owed
    assert ledger_check().ok


def test_a_provider_that_rate_limits_is_left_alone_and_its_orders_checked_after_the_wait(
    providers, customer, settings
):
    """The first status call answers 429 with Retry-After: the provider is left alone for that long (its
    calls still waiting are not sent), its orders are checked once the wait is over, and a provider beside
    it is polled in full meanwhile."""
    settings.UPSTREAM_CONCURRENCY = 1  # one call at a time: the 429 is the first answer
    throttled, steady = providers("Throttled"), providers("Steady")
    slowed = throttled.orders(customer, 500)
    others = steady.orders(customer, 500)
    throttled.simulator.advance(700)
    steady.simulator.advance(700)
    throttled.simulator.inject("http429", action="status")

    result = polling.orders_poll()

    throttled.provider.refresh_from_db()
    wait = (throttled.provider.backoff_until - timezone.now()).total_seconds()
    assert 25 < wait <= 30 and throttled.provider.backoff_failures == 1  # Retry-After: 30
    assert throttled.calls == 1  # the 4 other calls were never sent
    assert result.skipped == 400 and result.errors == 100 and result.checked == 500
    assert set(Order.objects.filter(pk__in=[o.pk for o in others]).values_list("status", flat=True)) == {
        Status.IN_PROGRESS
    }
    waiting = Order.objects.filter(pk__in=[o.pk for o in slowed])
    assert set(waiting.values_list("status", flat=True)) == {Status.PENDING}
    assert all(
        at <= throttled.provider.backoff_until
        for at in OrderCheck.objects.filter(order__in=waiting).values_list("next_check_at", flat=True)
    )
    assert waiting.filter(poll_error__contains="429").count() == 100

    OrderCheck.objects.update(next_check_at=None)  # all due again, but the wait is not over
    polling.orders_poll()
    assert throttled.calls == 1

    Provider.objects.filter(pk=throttled.provider.pk).update(backoff_until=timezone.now())  # it is over
    result = polling.orders_poll(provider_ids=[throttled.provider.pk])

    assert result.checked == 500 and throttled.calls == 6
    assert set(waiting.values_list("status", flat=True)) == {Status.IN_PROGRESS}
    assert not waiting.exclude(poll_error="").exists()
    throttled.provider.refresh_from_db()
    assert (throttled.provider.backoff_until, throttled.provider.backoff_failures) == (None, 0)


def test_a_slow_provider_does_not_delay_a_fast_one(providers, customer, settings):
    """A provider that takes 1.5 s per answer, and one that answers at once, in one sweep: every order of
    the fast one is applied before the first answer of the slow one arrives."""
    settings.UPSTREAM_CONCURRENCY = 2
    slow, fast = providers("Slow", latency=1.5), providers("Fast")
    slow_orders, fast_orders = slow.orders(customer, 400), fast.orders(customer, 600)
    slow.simulator.advance(700)
    fast.simulator.advance(700)
    started = timezone.now()

    result = polling.orders_poll()

    assert result.checked == 1000
    fast_done = max(
        Order.objects.filter(pk__in=[o.pk for o in fast_orders]).values_list("updated_at", flat=True)
    )
    slow_done = Order.objects.filter(pk__in=[o.pk for o in slow_orders]).values_list("updated_at", flat=True)
    assert fast_done < min(slow_done)
    assert (fast_done - started).total_seconds() < 1.5 <= (min(slow_done) - started).total_seconds()
    assert not Order.objects.exclude(status=Status.IN_PROGRESS).filter(status__in=[*FINAL]).exists()
