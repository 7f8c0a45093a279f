"""Submitting orders upstream, against the simulator over HTTP."""

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from catalog import protocol, upstream
from catalog.models import Provider
from catalog.upstream import Client
from orders import operators, submission, sweeper
from orders.errors import OrderError
from orders.models import Order, OrderCheck, Status
from orders.placement import order_place
from orders.submission import Outcome, order_submit
from orders.tasks import order_submit as order_submit_task
from reseller.wallet.models import LedgerEntry
from tests.factories import StaffFactory
from tests.helpers import balance_of, reload

pytestmark = pytest.mark.django_db
LINK = "https://instagram.com/p/abc"


@pytest.fixture
def order(alice, likes):
    return order_place(user=alice, service=likes, link=LINK, quantity=1000)


def upstream_orders(simulator):
    return simulator.simulator.orders


def test_a_placed_order_goes_pending_with_its_upstream_id(order, simulator):
    assert order_submit(order_id=order.pk) is Outcome.PLACED

    order = reload(order)
    placed = upstream_orders(simulator)[int(order.upstream_id)]
    assert order.status == Status.PENDING
    assert (placed.quantity, placed.link, placed.service) == (1000, LINK, 2)
    assert OrderCheck.objects.get(order=order).next_check_at > timezone.now()  # followed, first check soon
    assert list(order.events.values_list("new_status", flat=True)) == ["queued", "submitting", "pending"]


def test_running_the_submission_twice_places_one_upstream_order(order, simulator):
    first, second = order_submit(order_id=order.pk), order_submit(order_id=order.pk)

    assert (first, second) == (Outcome.PLACED, Outcome.SKIPPED)
    assert len(upstream_orders(simulator)) == 1


REFUNDED = "The charge was refunded to your balance."


def test_a_rejected_order_fails_with_a_reason_for_the_customer_and_a_full_refund(order, alice, simulator):
    simulator.simulator.inject("error", action="add")

    assert order_submit(order_id=order.pk) is Outcome.REJECTED

    order = reload(order)
    assert (order.status, order.error, order.refund) == (Status.FAILED, submission.REFUSED, order.charge)
    assert order.error == f"The provider could not accept this order. {REFUNDED}"
    assert order.events.last().note == "Simulated failure", "the provider's words are kept for operators"
    assert balance_of(alice) == Decimal("100")
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1


def break_the_link(order, simulator):
    Order.objects.filter(pk=order.pk).update(upstream_fields={**order.upstream_fields, "link": "not a link"})


def drain_our_account(order, simulator):
    simulator.simulator._balance = Decimal(0)  # our balance at the provider


def revoke_our_key(order, simulator):
    Provider.objects.update(api_key="revoked")


def delist_the_service(order, simulator):
    order.service.__class__.objects.filter(pk=order.service_id).update(upstream_id="999")


def tighten_the_limits(order, simulator):
    fields = {**order.upstream_fields, "quantity": "1"}  # below the provider's minimum
    Order.objects.filter(pk=order.pk).update(upstream_fields=fields)


@pytest.mark.parametrize(
    ("refuse", "upstream_text", "reason"),
    [
        (break_the_link, protocol.INCORRECT_LINK, "The provider did not accept the link."),
        (tighten_the_limits, "Quantity less than minimal", "The provider did not accept the quantity."),
        (drain_our_account, protocol.NOT_ENOUGH_FUNDS, "The provider could not accept this order."),
        (revoke_our_key, protocol.INVALID_KEY, "The provider could not accept this order."),
        (delist_the_service, protocol.INCORRECT_SERVICE_ID, "The provider could not accept this order."),
    ],
)
def test_the_customer_reads_what_a_refusal_means_never_our_account_s_troubles(
    order, alice, simulator, refuse, upstream_text, reason
):
    refuse(order, simulator)

    assert order_submit(order_id=order.pk) is Outcome.REJECTED

    order = reload(order)
    assert (order.status, order.error) == (Status.FAILED, f"{reason} {REFUNDED}")
    assert upstream_text in order.events.last().note
    assert order.refund == order.charge and balance_of(alice) == Decimal("100")


def test_an_active_order_with_the_same_link_is_explained(order, monkeypatch):
    def refuse(self, **fields):
        raise upstream.Rejected(protocol.ACTIVE_ORDER_WITH_LINK)

    monkeypatch.setattr(Client, "add", refuse)

    assert order_submit(order_id=order.pk) is Outcome.REJECTED

    order = reload(order)
    assert order.error == submission.LINK_BUSY and "another order for this link" in order.error
    assert order.events.last().note == protocol.ACTIVE_ORDER_WITH_LINK


@pytest.mark.parametrize(
    ("upstream_text", "reason"),
    [
        ("incorrect link.", submission.LINK_REFUSED),
        ("Quantity more than maximum 5000", submission.QUANTITY_REFUSED),
        (
            "  you have ACTIVE order with this link.  please wait until order being completed",
            submission.LINK_BUSY,
        ),
        ("Incorrect link, sorry", submission.REFUSED),
        ("Quantity less than minimal", submission.REFUSED),
        ("", submission.REFUSED),
    ],
)
def test_refusals_are_recognised_however_providers_spell_them(upstream_text, reason):
    assert submission.refusal_reason(upstream_text) == reason


def test_every_failure_reason_fits_the_column_and_says_the_charge_was_refunded():
    reasons = [
        submission.UNREACHABLE_REASON,
        submission.LINK_REFUSED,
        submission.LINK_BUSY,
        submission.QUANTITY_REFUSED,
        submission.REFUSED,
    ]

    max_length = Order._meta.get_field("error").max_length
    assert all(reason.endswith(REFUNDED) and len(reason) <= max_length for reason in reasons)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_provider_leaves_the_order_queued_for_a_retry(order, alice):
    Provider.objects.update(api_url=f"http://127.0.0.1:{free_port()}/api/v2")

    assert order_submit(order_id=order.pk) is Outcome.UNREACHABLE

    order = reload(order)
    assert (order.status, order.refund, order.submit_attempts) == (Status.QUEUED, 0, 1)
    assert balance_of(alice) == Decimal("99.454")


def test_the_task_retries_an_unreachable_provider_then_fails_and_refunds(order, alice):
    Provider.objects.update(api_url=f"http://127.0.0.1:{free_port()}/api/v2")

    # Run eagerly, Celery performs the retries inline (without their countdown), up to the last one.
    result = order_submit_task.apply(args=[order.pk])

    order = reload(order)
    assert result.state == "SUCCESS"
    assert order.submit_attempts == settings.ORDER_SUBMIT_MAX_RETRIES + 1
    assert (order.status, order.refund) == (Status.FAILED, order.charge)
    assert "could not be reached" in order.error
    assert balance_of(alice) == Decimal("100")


@pytest.mark.parametrize("fault", ["timeout", "reset", "broken", "http500"])
def test_an_ambiguous_answer_needs_review_and_is_neither_resent_nor_refunded(order, alice, simulator, fault):
    simulator.simulator.config.hang_seconds = 3
    simulator.simulator.inject(fault, action="add")

    assert order_submit(order_id=order.pk) is Outcome.AMBIGUOUS
    assert order_submit(order_id=order.pk) is Outcome.SKIPPED

    order = reload(order)
    assert order.status == Status.NEEDS_REVIEW and order.review_reason
    assert order.refund == 0 and balance_of(alice) == Decimal("99.454")
    assert len(upstream_orders(simulator)) == (0 if fault == "http500" else 1)


def test_a_worker_killed_after_sending_leaves_it_to_review_never_to_a_second_order(
    order, simulator, monkeypatch
):
    real_move = submission.order_move

    def die_before_saving(order, to, **kwargs):
        if to == Status.PENDING:
            raise SystemExit("worker killed")
        return real_move(order, to, **kwargs)

    monkeypatch.setattr(submission, "order_move", die_before_saving)
    with pytest.raises(SystemExit):
        order_submit(order_id=order.pk)
    monkeypatch.undo()

    assert reload(order).status == Status.SUBMITTING
    assert order_submit(order_id=order.pk) is Outcome.SKIPPED, "a redelivered task does nothing"
    Order.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(hours=1))
    assert sweeper.orders_sweep() == (1, 0)
    assert reload(order).status == Status.NEEDS_REVIEW
    assert len(upstream_orders(simulator)) == 1


def test_an_operator_records_the_upstream_id_of_an_order_in_review(order, simulator):
    simulator.simulator.inject("timeout", action="add")
    simulator.simulator.config.hang_seconds = 3
    order_submit(order_id=order.pk)
    (found,) = upstream_orders(simulator)
    order = reload(order)

    operators.order_set_upstream_id(order=order, upstream_id=str(found), by=StaffFactory())

    order = reload(order)
    assert (order.status, order.upstream_id, order.review_reason) == (Status.PENDING, str(found), "")
    assert order.events.last().source == "operator"


def test_an_operator_resubmits_an_order_in_review_explicitly(
    order, simulator, django_capture_on_commit_callbacks
):
    simulator.simulator.inject("http500", action="add")
    order_submit(order_id=order.pk)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        operators.order_resubmit(order=reload(order), by=StaffFactory())
    assert reload(order).status == Status.QUEUED and len(queued) == 1

    assert order_submit(order_id=order.pk) is Outcome.PLACED


def test_an_operator_fails_an_order_in_review_with_a_full_refund(order, alice, simulator):
    simulator.simulator.inject("http500", action="add")
    order_submit(order_id=order.pk)

    operators.order_fail_and_refund(order=reload(order), reason="Not found upstream", by=StaffFactory())

    order = reload(order)
    assert (order.status, order.error, order.refund) == (Status.FAILED, "Not found upstream", order.charge)
    assert balance_of(alice) == Decimal("100")
    with pytest.raises(OrderError):
        operators.order_fail_and_refund(order=order, reason="again", by=None)
    assert LedgerEntry.objects.filter(order_id=order.pk, kind="refund").count() == 1


def test_operators_cannot_fail_an_order_that_the_provider_has(order):
    order_submit(order_id=order.pk)

    with pytest.raises(OrderError, match="never placed upstream"):
        operators.order_fail_and_refund(order=reload(order), reason="x", by=None)


def test_the_sweeper_requeues_queued_orders_whose_task_was_lost(order, django_capture_on_commit_callbacks):
    assert sweeper.orders_sweep() == (0, 0), "a fresh order is left to its task"
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert sweeper.orders_sweep() == (0, 1)

    assert len(queued) == 1


def test_a_queued_order_not_taken_a_minute_after_placing_is_sent_again(
    order, django_capture_on_commit_callbacks
):
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=30))
    assert sweeper.orders_sweep() == (0, 0), "half a minute: its task may still be on its way"

    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert sweeper.orders_sweep() == (0, 1)
    assert len(queued) == 1


def test_an_order_waiting_for_its_retry_is_left_to_it_until_the_retry_is_lost(
    order, django_capture_on_commit_callbacks
):
    Provider.objects.update(api_url=f"http://127.0.0.1:{free_port()}/api/v2")
    assert order_submit(order_id=order.pk) is Outcome.UNREACHABLE
    due = reload(order).next_check_at
    assert timedelta(seconds=14) < due - timezone.now() <= timedelta(seconds=15)  # the first retry's wait
    assert submission.order_retry_countdown(order_id=order.pk) == pytest.approx(15, abs=1)

    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert sweeper.orders_sweep() == (0, 0), "its retry is not even due"

    Order.objects.filter(pk=order.pk).update(next_check_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert sweeper.orders_sweep() == (0, 1)
    assert len(queued) == 1


def test_an_order_sent_again_by_the_sweeper_still_fails_after_its_last_retry(order, alice):
    """The tries are the order's: a retry chain restarted by the sweeper (or by a lost task) never makes
    an unreachable order wait forever."""
    Provider.objects.update(api_url=f"http://127.0.0.1:{free_port()}/api/v2")
    Order.objects.filter(pk=order.pk).update(submit_attempts=settings.ORDER_SUBMIT_MAX_RETRIES)

    assert submission.orders_submit_many(order_ids=[order.pk]) == {order.pk: Outcome.GAVE_UP}

    order = reload(order)
    assert (order.status, order.refund, order.submit_attempts) == (
        Status.FAILED,
        order.charge,
        settings.ORDER_SUBMIT_MAX_RETRIES + 1,
    )
    assert "could not be reached" in order.error
    assert balance_of(alice) == Decimal("100")


def test_an_upstream_id_that_arrives_after_the_sweeper_gave_up_is_kept(order, simulator, monkeypatch):
    real_add = Client.add

    def slow_add(self, **fields):
        answer = real_add(self, **fields)
        # Meanwhile the sweeper decided the submission was stuck.
        Order.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(hours=1))
        sweeper.orders_sweep()
        return answer

    monkeypatch.setattr(Client, "add", slow_add)

    assert order_submit(order_id=order.pk) is Outcome.AMBIGUOUS

    order = reload(order)
    (placed,) = upstream_orders(simulator)
    assert (order.status, order.upstream_id) == (Status.NEEDS_REVIEW, str(placed))
    assert f"Upstream order {placed} was placed while the order was Needs review" in order.events.last().note


@pytest.mark.parametrize("action", ["fail", "set upstream id"])
def test_operators_cannot_touch_an_order_whose_submission_is_in_flight(order, action):
    Order.objects.filter(pk=order.pk).update(status=Status.SUBMITTING)

    with pytest.raises(OrderError):
        if action == "fail":
            operators.order_fail_and_refund(order=reload(order), reason="x", by=None)
        else:
            operators.order_set_upstream_id(order=reload(order), upstream_id="5", by=None)

    assert reload(order).status == Status.SUBMITTING and reload(order).refund == 0


def test_the_sweeper_submits_many_lost_orders_in_one_task_each_placed_once(
    alice, likes, simulator, eager_celery, monkeypatch, django_capture_on_commit_callbacks
):
    """After an outage, the lost queued orders go out in one task, several calls at once; each is placed
    once, and running the task again places nothing more."""
    from orders import placement

    monkeypatch.setattr(placement, "order_submission_enqueue", lambda **kwargs: None)  # tasks lost
    orders = [order_place(user=alice, service=likes, link=f"{LINK}{i}", quantity=100) for i in range(12)]
    Order.objects.update(updated_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert sweeper.orders_sweep() == (0, 12)

    assert len(queued) == 1  # one task for the twelve (eager: it ran)

    assert set(Order.objects.values_list("status", flat=True)) == {Status.PENDING}
    assert len(upstream_orders(simulator)) == 12
    again = submission.orders_submit_many(order_ids=[order.pk for order in orders])
    assert set(again.values()) == {Outcome.SKIPPED} and len(upstream_orders(simulator)) == 12


def test_a_throttled_add_stays_queued_for_a_retry_and_is_not_failed(order, alice, simulator):
    """A 429 on `add` says the provider took nothing: the order waits for a retry, charge kept, instead of
    failing as a refusal would."""
    simulator.simulator.inject("http429", action="add")

    assert order_submit(order_id=order.pk) is Outcome.UNREACHABLE

    order = reload(order)
    assert order.status == Status.QUEUED and order.refund == 0
    assert not upstream_orders(simulator)
    assert order_submit(order_id=order.pk) is Outcome.PLACED
