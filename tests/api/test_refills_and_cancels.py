"""refill, refill_status and cancel, one and many, against the simulator."""

from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order, OrderCheck, Refill, RefillStatus, Status
from orders.polling import orders_poll
from orders.refills import refills_poll, refills_submit
from orders.submission import order_submit
from reseller.wallet.models import Wallet
from tests.factories import OrderFactory
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(alice, followers):
    """Alice's completed order of a service with refills."""
    return OrderFactory(
        user=alice.user,
        service=followers,
        status=Status.COMPLETED,
        finished_at=timezone.now(),
        upstream_id="1",
    )


def place(customer, service, quantity=1000):
    order_id = customer.call("add", service=service.pk, link=LINK, quantity=quantity)["order"]
    order_submit(order_id=order_id)
    return Order.objects.get(pk=order_id)


def finish(simulator, order, outcome, remains):
    placed = simulator.simulator.orders[int(order.upstream_id)]
    placed.outcome, placed.final_remains = outcome, remains
    simulator.simulator.advance(10_000)
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()


# refill ---------------------------------------------------------------------------------------------------


def test_refill_of_a_completed_order_answers_the_refill_id_as_a_string(alice, completed):
    answer = alice.call("refill", order=completed.pk)

    refill = Refill.objects.get()
    assert answer == {"refill": str(refill.pk)}
    assert (refill.order, refill.status) == (completed, RefillStatus.QUEUED)


def test_refill_of_an_order_that_cannot_be_refilled_says_why_and_changes_nothing(alice, followers, likes):
    running = OrderFactory(user=alice.user, service=followers, status=Status.IN_PROGRESS, upstream_id="1")
    no_refill = OrderFactory(user=alice.user, service=likes, status=Status.COMPLETED, upstream_id="2")

    assert alice.call("refill", order=running.pk) == {"error": "Only completed orders can be refilled."}
    assert alice.call("refill", order=no_refill.pk) == {"error": "This service has no refill."}
    assert not Refill.objects.exists()


def test_a_second_refill_while_one_is_open_is_refused(alice, completed):
    alice.call("refill", order=completed.pk)

    assert alice.call("refill", order=completed.pk) == {
        "error": "A refill of this order is already under way."
    }
    assert Refill.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "abc", "999999"])
def test_refill_of_an_unknown_or_malformed_id_is_an_incorrect_order_id(alice, bad):
    assert alice.call("refill", order=bad) == {"error": "Incorrect order ID"}


def test_refill_of_many_answers_each_order_in_a_list(alice, charlie, completed, followers):
    theirs = OrderFactory(user=charlie.user, service=followers, status=Status.COMPLETED, upstream_id="3")
    running = OrderFactory(user=alice.user, service=followers, status=Status.PENDING, upstream_id="4")

    answer = alice.call("refill", orders=f"{completed.pk},{running.pk},{theirs.pk},abc,999999")

    refill = Refill.objects.get()
    assert answer == [
        {"order": completed.pk, "refill": refill.pk},
        {"order": running.pk, "refill": {"error": "Only completed orders can be refilled."}},
        {"order": theirs.pk, "refill": {"error": "Incorrect order ID"}},
        {"order": "abc", "refill": {"error": "Incorrect order ID"}},
        {"order": 999999, "refill": {"error": "Incorrect order ID"}},
    ]
    assert refill.order == completed


def test_refill_of_more_than_100_orders_is_an_incorrect_request(alice, completed):
    ids = ",".join([str(completed.pk), *(str(900000 + n) for n in range(100))])

    assert alice.call("refill", orders=ids) == {"error": "Incorrect request"}
    assert not Refill.objects.exists()


# refill_status --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (RefillStatus.QUEUED, "Pending"),
        (RefillStatus.SUBMITTING, "Pending"),
        (RefillStatus.NEEDS_REVIEW, "Pending"),
        (RefillStatus.PENDING, "Pending"),
        (RefillStatus.IN_PROGRESS, "In progress"),
        (RefillStatus.COMPLETED, "Completed"),
        (RefillStatus.REJECTED, "Rejected"),
        (RefillStatus.FAILED, "Rejected"),
    ],
)
def test_every_refill_status_reads_as_a_protocol_status(alice, completed, status, text):
    refill = Refill.objects.create(order=completed, user=alice.user, status=status)

    assert alice.call("refill_status", refill=refill.pk) == {"status": text}


@pytest.mark.parametrize("bad", ["", "abc", "999999"])
def test_status_of_an_unknown_refill_is_refill_not_found(alice, bad):
    assert alice.call("refill_status", refill=bad) == {"error": "Refill not found"}


def test_refill_status_of_many_answers_a_list_with_errors_in_place(alice, charlie, completed, followers):
    mine = Refill.objects.create(order=completed, user=alice.user, status=RefillStatus.COMPLETED)
    their_order = OrderFactory(user=charlie.user, service=followers, status=Status.COMPLETED, upstream_id="5")
    theirs = Refill.objects.create(order=their_order, user=charlie.user, status=RefillStatus.COMPLETED)

    answer = alice.call("refill_status", refills=f"{mine.pk},{theirs.pk},x")

    assert answer == [
        {"refill": mine.pk, "status": "Completed"},
        {"refill": theirs.pk, "status": {"error": "Refill not found"}},
        {"refill": "x", "status": {"error": "Refill not found"}},
    ]
    assert charlie.call("refill_status", refill=mine.pk) == {"error": "Refill not found"}


def test_refill_status_of_more_than_100_refills_is_an_incorrect_request(alice):
    assert alice.call("refill_status", refills=",".join(str(n) for n in range(1, 102))) == {
        "error": "Incorrect request"
    }


def test_a_refill_asked_through_the_api_is_done_upstream_and_reads_completed(alice, followers, simulator):
    order = place(alice, followers)
    finish(simulator, order, "Completed", 0)
    refill_id = int(alice.call("refill", order=order.pk)["refill"])

    refills_submit(refill_ids=[refill_id])
    (upstream_refill,) = simulator.simulator.refills.values()
    upstream_refill.outcome = "Completed"
    simulator.simulator.advance(10_000)
    Refill.objects.update(next_check_at=None)
    refills_poll()

    assert upstream_refill.order == int(order.upstream_id)
    assert alice.call("refill_status", refill=refill_id) == {"status": "Completed"}
    assert alice.call("refill_status", refills=str(refill_id)) == [
        {"refill": refill_id, "status": "Completed"}
    ]


# cancel ---------------------------------------------------------------------------------------------------


def test_cancel_is_accepted_upstream_and_the_refund_follows_at_the_next_poll(alice, likes, simulator):
    order = place(alice, likes)

    answer = alice.call("cancel", orders=str(order.pk))
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()

    assert answer == [{"order": order.pk, "cancel": 1}]
    assert simulator.simulator.orders[int(order.upstream_id)].status == "Canceled"
    assert alice.call("status", order=order.pk)["status"] == "Canceled"
    assert Wallet.objects.get(user=alice.user).balance == Decimal("100")


def test_cancel_takes_a_single_order_too(alice, likes, simulator):
    order = place(alice, likes)

    assert alice.call("cancel", order=order.pk) == [{"order": order.pk, "cancel": 1}]


def test_cancel_answers_each_order_with_errors_in_place(alice, charlie, likes, followers, simulator):
    mine = place(alice, likes)
    theirs = place(charlie, likes)
    done = OrderFactory(user=alice.user, service=followers, status=Status.COMPLETED, upstream_id="9")

    answer = alice.call("cancel", orders=f"{mine.pk},{theirs.pk},{done.pk},nope")

    assert answer == [
        {"order": mine.pk, "cancel": 1},
        {"order": theirs.pk, "cancel": {"error": "Incorrect order ID"}},
        {"order": done.pk, "cancel": {"error": "Only orders still pending at the provider can be canceled."}},
        {"order": "nope", "cancel": {"error": "Incorrect order ID"}},
    ]
    assert simulator.simulator.orders[int(theirs.upstream_id)].status == "Pending", "Charlie's is untouched"


def test_cancel_of_a_service_without_cancel_says_so(alice, simulator, synced):
    views = synced.services.get(upstream_id="3")  # Instagram Reel Views: no cancel
    order = place(alice, views, quantity=1000)

    answer = alice.call("cancel", orders=str(order.pk))

    assert answer == [{"order": order.pk, "cancel": {"error": "This service cannot be canceled."}}]


@pytest.mark.parametrize("orders", ["", ",", ",".join(str(n) for n in range(1, 102))])
def test_cancel_without_ids_or_with_more_than_100_is_an_incorrect_request(alice, orders):
    assert alice.call("cancel", orders=orders) == {"error": "Incorrect request"}


def test_cancel_without_any_order_field_is_an_incorrect_request(alice):
    assert alice.call("cancel") == {"error": "Incorrect request"}
