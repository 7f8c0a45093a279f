"""Refills against the simulator over HTTP."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Service
from catalog.upstream import Client
from orders.errors import OrderError
from orders.models import Order, Refill, RefillStatus
from orders.refills import (
    REFILL_REFUSED,
    refill_problem,
    refill_request,
    refill_request_many,
    refills_poll,
    refills_submit,
)
from orders.tasks import refills_submit as refills_submit_task
from tests.helpers import finish, place, reload

pytestmark = pytest.mark.django_db


def test_a_completed_order_of_a_refill_service_can_be_refilled(completed):
    assert refill_problem(order=completed[0]) is None


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("not refillable", "This service has no refill."),
        ("in progress", "Only completed orders can be refilled."),
        ("partial", "Only completed orders can be refilled."),
        ("window passed", "The refill window (30 days after completion) has passed."),
        ("service window", "The refill window (7 days after completion) has passed."),
        ("open refill", "A refill of this order is already under way."),
    ],
)
def test_orders_that_cannot_be_refilled_say_why(alice, followers, synced, simulator, case, reason):
    if case == "not refillable":
        likes = Service.objects.get(provider=synced, upstream_id="2")
        order = finish(simulator, place(alice, likes))[0]
    elif case == "in progress":
        order = place(alice, followers)[0]
    elif case == "partial":
        order = finish(simulator, place(alice, followers), outcome="Partial", remains=10)[0]
    else:
        order = finish(simulator, place(alice, followers))[0]
    if case == "window passed":
        Order.objects.filter(pk=order.pk).update(finished_at=timezone.now() - timedelta(days=31))
    if case == "service window":
        Service.objects.filter(pk=followers.pk).update(refill_days=7)
        Order.objects.filter(pk=order.pk).update(finished_at=timezone.now() - timedelta(days=8))
    if case == "open refill":
        refill_request(user=alice, order=order)
    order = Order.objects.select_related("service").get(pk=order.pk)

    assert refill_problem(order=order) == reason
    with pytest.raises(OrderError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        refill_request(user=alice, order=order)


def test_within_a_longer_service_window_an_old_order_can_still_be_refilled(alice, followers, completed):
    Service.objects.filter(pk=followers.pk).update(refill_days=60)
    Order.objects.filter(pk=completed[0].pk).update(finished_at=timezone.now() - timedelta(days=45))

    assert refill_problem(order=Order.objects.select_related("service").get(pk=completed[0].pk)) is None


def test_a_refill_is_submitted_once_and_stores_the_upstream_id(
    alice, completed, simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        refill = refill_request(user=alice, order=completed[0])
    assert refill.status == RefillStatus.QUEUED and len(queued) == 1

    refills_submit(refill_ids=[refill.pk])
    refills_submit(refill_ids=[refill.pk])

    refill = reload(refill)
    assert refill.status == RefillStatus.PENDING and refill.upstream_id
    assert len(simulator.simulator.refills) == 1


def test_a_bulk_refill_asks_once_and_records_per_order_errors(alice, completed, simulator, monkeypatch):
    Order.objects.filter(pk=completed[2].pk).update(upstream_id="99999999")  # unknown upstream
    orders = list(
        Order.objects.select_related("service")
        .prefetch_related("refills")
        .filter(pk__in=[o.pk for o in completed])
        .order_by("pk")
    )
    results = refill_request_many(user=alice, orders=orders)
    calls = []
    real_call = Client._call
    monkeypatch.setattr(
        Client, "_call", lambda self, action, **p: calls.append((action, p)) or real_call(self, action, **p)
    )

    refills_submit(refill_ids=[r.pk for r in results.values()])

    assert [(action, len(p["orders"].split(","))) for action, p in calls] == [("refill", 3)]
    first, second, unknown = (reload(results[o.pk]) for o in orders)
    assert first.status == second.status == RefillStatus.PENDING
    assert (unknown.status, unknown.error) == (RefillStatus.FAILED, REFILL_REFUSED)
    assert unknown.events.last().note == "Incorrect order ID", "the provider's words, for the operator"


def test_refill_requests_for_someone_elses_order_are_refused(charlie, completed):
    result = refill_request_many(user=charlie, orders=[completed[0]])[completed[0].pk]

    assert isinstance(result, OrderError) and result.message == "Incorrect order ID"
    assert not Refill.objects.exists()


def test_refill_status_moves_to_completed_or_rejected(alice, completed, simulator):
    refills = [refill_request(user=alice, order=order) for order in completed[:2]]
    refills_submit(refill_ids=[r.pk for r in refills])
    for refill, outcome in zip(refills, ["Completed", "Rejected"], strict=True):
        simulator.simulator.refills[int(reload(refill).upstream_id)].outcome = outcome
    Refill.objects.update(next_check_at=None)

    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)
    middle = refills_poll()
    assert {reload(r).status for r in refills} == {RefillStatus.IN_PROGRESS}
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)
    Refill.objects.update(next_check_at=None)
    final = refills_poll()

    assert [reload(r).status for r in refills] == [RefillStatus.COMPLETED, RefillStatus.REJECTED]
    assert (middle.checked, middle.changed, final.changed) == (2, 2, 2)
    assert refill_problem(order=Order.objects.select_related("service").get(pk=completed[0].pk)) is None


def test_a_refill_the_provider_no_longer_knows_keeps_its_error(alice, completed, simulator):
    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])
    Refill.objects.filter(pk=refill.pk).update(upstream_id="424242", next_check_at=None)

    result = refills_poll()

    assert result.errors == 1 and reload(refill).poll_error == "Refill not found"


@pytest.mark.parametrize("fault", ["timeout", "reset", "http500"])
def test_an_ambiguous_refill_answer_needs_review_and_is_never_resent(alice, completed, simulator, fault):
    simulator.simulator.config.hang_seconds = 3
    simulator.simulator.inject(fault, action="refill")
    refill = refill_request(user=alice, order=completed[0])

    refills_submit(refill_ids=[refill.pk])
    refills_submit(refill_ids=[refill.pk])

    assert reload(refill).status == RefillStatus.NEEDS_REVIEW
    assert len(simulator.simulator.refills) == (0 if fault == "http500" else 1)


def test_a_rejected_refill_request_says_so_and_keeps_the_providers_reason_for_the_operator(
    alice, completed, simulator
):
    simulator.simulator.inject("error", action="refill")
    refill = refill_request(user=alice, order=completed[0])

    refills_submit(refill_ids=[refill.pk])

    assert (reload(refill).status, reload(refill).error) == (RefillStatus.FAILED, REFILL_REFUSED)
    assert "Simulated failure" in reload(refill).events.last().note
    assert refill_problem(order=Order.objects.select_related("service").get(pk=completed[0].pk)) is None


def test_the_task_retries_an_unreachable_provider_then_fails_the_refill(alice, completed):
    from catalog.models import Provider

    refill = refill_request(user=alice, order=completed[0])
    Provider.objects.update(api_url="http://127.0.0.1:9/api/v2")

    refills_submit_task.apply(args=[[refill.pk]])  # eagerly: the retries run inline

    assert (reload(refill).status, reload(refill).error) == (
        RefillStatus.FAILED,
        "The provider could not be reached.",
    )


def test_only_one_open_refill_per_order_even_past_the_python_check(alice, completed):
    from django.db import IntegrityError, transaction

    refill_request(user=alice, order=completed[0])

    with pytest.raises(IntegrityError), transaction.atomic():
        Refill.objects.create(order=completed[0], user=alice)


def test_a_refill_stuck_in_submitting_goes_to_review_and_can_then_be_closed(alice, completed):
    from orders.operators import refill_mark_rejected
    from orders.sweeper import refills_sweep

    refill = refill_request(user=alice, order=completed[0])
    Refill.objects.filter(pk=refill.pk).update(
        status=RefillStatus.SUBMITTING, submitted_at=timezone.now() - timedelta(hours=1)
    )

    assert refills_sweep() == 1
    assert reload(refill).status == RefillStatus.NEEDS_REVIEW
    assert refill_mark_rejected(refill=refill) is True
    assert refill_problem(order=Order.objects.select_related("service").get(pk=completed[0].pk)) is None


def test_every_move_of_a_refill_is_in_its_history_in_admin_and_on_the_orders_timeline(
    alice, alice_client, staff_client, completed, simulator
):
    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])
    simulator.simulator.refills[int(reload(refill).upstream_id)].outcome = "Completed"
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)
    Refill.objects.update(next_check_at=None)
    refills_poll()

    history = list(reload(refill).events.values_list("old_status", "new_status", "source"))
    assert history == [
        ("", "queued", "customer"),
        ("queued", "submitting", "submission"),
        ("submitting", "pending", "submission"),
        ("pending", "completed", "poll"),
    ]
    admin = staff_client.get(f"/admin/orders/refill/{refill.pk}/change/").content.decode()
    assert len(re.findall(r'<td class="[^"]*\bfield-new_status\b', admin)) == 4 and "Polling" in admin
    timeline = alice_client.get(completed[0].get_absolute_url()).content.decode()
    assert f"Refill {refill.pk}: Pending" in timeline and f"Refill {refill.pk}: Completed" in timeline


def test_poll_refills_all_checks_refills_not_yet_due(alice, completed, simulator):
    from io import StringIO

    from django.core.management import call_command

    refill = refill_request(user=alice, order=completed[0])
    refills_submit(refill_ids=[refill.pk])  # first check in REFILL_FIRST_CHECK_AFTER: not due yet
    plain, everything = StringIO(), StringIO()

    call_command("poll_refills", stdout=plain)
    call_command("poll_refills", "--all", stdout=everything)

    assert plain.getvalue().startswith("0 refills checked")
    assert (
        everything.getvalue()
        == "1 refills checked, 0 changed, 0 errors, 1 status calls; 0 of them were due.\n"
    )
