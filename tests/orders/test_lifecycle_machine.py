"""Any sequence of what happens to orders, over every service type the simulator sells: placement, the
upstream's answers of every class to `add` (placed, refused, throttled, a 5xx that may hide an order),
the orders finishing upstream (Completed, Partial, Canceled) and being polled, refills, cancels, and
operators' actions on orders in review (fail and refund, set the upstream id). After every step: the ledger
adds up (`ledger_check`), the balance is what was deposited less what the orders kept, and every final
order was refunded exactly what it was owed, once."""

import contextlib
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from catalog.models import Provider, Service
from catalog.pricing import partial_refund
from catalog.protocol import ServiceType
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from orders import operators
from orders.cancels import orders_cancel
from orders.errors import OrderError
from orders.models import FINAL, Order, OrderCheck, Status
from orders.placement import order_place
from orders.polling import orders_poll
from orders.refills import refill_request
from orders.submission import order_submit
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from reseller.wallet.services import wallet_move
from tests.conftest import SIMULATOR_KEY
from tests.factories import StaffFactory, UserFactory
from tests.helpers import valid_fields

pytestmark = pytest.mark.django_db
DEPOSIT = Decimal(10_000)
# How the provider answers an `add`: mostly placed; else refused, throttled, or a 5xx that may hide an order.
ADD_ANSWERS = st.sampled_from(["placed", "placed", "placed", "error", "http429", "http500"])
machine_numbers = itertools.count()


def lifecycle():
    """The machine. Each run has a provider of its own (a simulator over HTTP, from the same seed) and a
    customer of its own, so that the same steps meet the same state, as Hypothesis needs to replay them."""

    class Lifecycle(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            number = next(machine_numbers)
            self.server = SimulatorServer(
                Simulator(SimulatorConfig(key=SIMULATOR_KEY, seed=7, step_seconds=10))
            )
            self.server.start()
            provider = Provider.objects.create(
                name=f"life{number}", api_url=self.server.url, api_key=SIMULATOR_KEY, currency="USD"
            )
            provider_sync_services(provider=provider, enable_new=True)
            self.user = UserFactory(username=f"life{number}")
            self.staff = StaffFactory(username=f"staff{number}")
            wallet_move(user=self.user, amount=DEPOSIT, kind=LedgerEntry.Kind.DEPOSIT, note="machine")
            self.services = list(
                Service.objects.filter(provider=provider, is_enabled=True)
                .exclude(type__in=["", "Unknown"])
                .order_by("upstream_id")
            )
            self.upstream = self.server.simulator

        def teardown(self):
            self.server.stop()

        def orders(self, *statuses):
            rows = Order.objects.filter(user=self.user)
            return list(rows.filter(status__in=statuses) if statuses else rows)

        @rule(data=st.data(), answer=ADD_ANSWERS)
        def place(self, data, answer):
            """An order placed, and its submission answered as drawn."""
            service = data.draw(st.sampled_from(self.services))
            try:
                order = order_place(user=self.user, service=service, **valid_fields(service))
            except OrderError:
                return  # refused with a message (a type's rule), nothing charged: the invariants say so
            self.submit_answered(order, answer)

        @precondition(lambda self: self.orders(Status.QUEUED))
        @rule(data=st.data(), answer=ADD_ANSWERS)
        def submit_again(self, data, answer):
            """An order left queued (the provider throttled) submitted again."""
            self.submit_answered(data.draw(st.sampled_from(self.orders(Status.QUEUED))), answer)

        def submit_answered(self, order, answer):
            if answer != "placed":
                self.upstream.inject(answer, action="add")
            order_submit(order_id=order.pk)
            self.upstream.clear_faults()

        @precondition(lambda self: self.orders(Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING))
        @rule(
            data=st.data(),
            outcome=st.sampled_from(["Completed", "Partial", "Canceled"]),
            share=st.integers(0, 100),
        )
        def finish_upstream(self, data, outcome, share):
            order = data.draw(
                st.sampled_from(self.orders(Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING))
            )
            placed = self.upstream.orders.get(int(order.upstream_id)) if order.upstream_id.isdigit() else None
            if placed is None or not hasattr(placed, "final_remains"):
                return  # not placed there, or a subscription (which ends by its posts: `poll`)
            placed.outcome, placed.final_remains = outcome, order.quantity * share // 100
            self.upstream.advance(self.upstream.config.step_seconds * 10)
            OrderCheck.objects.filter(pk=order.pk).update(next_check_at=None)
            orders_poll(order_ids=[order.pk])

        @rule()
        def poll(self):
            open_ = self.orders(Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING)
            if open_:
                self.upstream.advance(self.upstream.config.step_seconds)
                orders_poll(order_ids=[order.pk for order in open_])

        @precondition(lambda self: self.orders(Status.COMPLETED))
        @rule(data=st.data())
        def refill(self, data):
            order = data.draw(st.sampled_from(self.orders(Status.COMPLETED)))
            with contextlib.suppress(OrderError):  # not refillable, or one open already: said, nothing made
                refill_request(user=self.user, order=order)

        @precondition(lambda self: self.orders(Status.PENDING, Status.IN_PROGRESS))
        @rule(data=st.data())
        def cancel(self, data):
            order = data.draw(st.sampled_from(self.orders(Status.PENDING, Status.IN_PROGRESS)))
            orders_cancel(user=self.user, orders=[order])

        @precondition(lambda self: self.orders(Status.NEEDS_REVIEW))
        @rule(data=st.data(), action=st.sampled_from(["fail", "set upstream id"]))
        def operator(self, data, action):
            order = data.draw(st.sampled_from(self.orders(Status.NEEDS_REVIEW)))
            try:
                if action == "fail":
                    operators.order_fail_and_refund(
                        order=order, reason="Checked upstream: none.", by=self.staff
                    )
                else:
                    placed = [
                        pk
                        for pk, up in self.upstream.orders.items()
                        if getattr(up, "link", None) == order.link
                    ]
                    upstream_id = str(placed[-1]) if placed else "987654321"
                    operators.order_set_upstream_id(order=order, upstream_id=upstream_id, by=self.staff)
            except OrderError:
                pass  # refused with a reason (an id another order has, an order placed upstream)

        @invariant()
        def the_money_adds_up(self):
            orders = self.orders()
            kept = sum((order.charge - order.refund for order in orders), Decimal(0))
            assert wallet_balance(user=self.user) == DEPOSIT - kept
            assert ledger_check().ok
            for order in orders:
                assert 0 <= order.refund <= order.charge
                if order.status in FINAL:
                    assert order.refund == owed(order), (order.status, order.remains, order.quantity)
                else:
                    assert order.refund == 0

    return Lifecycle


def owed(order: Order) -> Decimal:
    """What a final order should have been refunded, worked out here from what it shows."""
    if order.status == Status.FAILED:
        return order.charge
    if order.status == Status.CANCELED:
        partly = bool(order.runs_done or order.posts_done) or (
            order.is_delivered_in_parts and order.remains is not None and 0 < order.remains < order.quantity
        )
        if not partly:
            return order.charge
    if order.status in (Status.PARTIAL, Status.CANCELED) or (
        order.status == Status.COMPLETED and order.service_type == ServiceType.SUBSCRIPTIONS
    ):
        return partial_refund(charge=order.charge, remains=order.remains or 0, quantity=order.quantity)
    return Decimal(0)


def test_any_sequence_of_order_events_keeps_the_money_right():
    run_state_machine_as_test(
        lifecycle(),
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
