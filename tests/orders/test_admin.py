from decimal import Decimal

import pytest

from orders.models import OrderCheck, Status
from orders.placement import order_place
from orders.submission import order_submit
from tests.factories import StaffFactory
from tests.helpers import balance_of, reload

pytestmark = pytest.mark.django_db
LINK = "https://instagram.com/p/abc"


@pytest.fixture
def staff(client):
    client.force_login(StaffFactory())
    return client


@pytest.fixture
def in_review(alice, likes, simulator):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    simulator.simulator.inject("http500", action="add")
    order_submit(order_id=order.pk)
    return reload(order)


def test_the_changelist_shows_cost_charge_and_profit(staff, alice, likes, simulator):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)

    html = staff.get("/admin/orders/order/", {"status__exact": "pending"}).content.decode()

    assert f">{order.pk}</a>" in html
    assert "$0.55" in html and "$0.42" in html and "$0.13" in html  # charge, cost, profit


def test_the_change_page_shows_the_history_and_review_tools(staff, in_review):
    html = staff.get(f"/admin/orders/order/{in_review.pk}/change/").content.decode()

    assert "Needs review" in html and "submission" in html.lower()
    assert "Set upstream id" in html and "Fail and refund" in html


def test_set_upstream_id_hands_the_order_to_polling(staff, in_review, simulator):
    response = staff.post(f"/admin/orders/order/{in_review.pk}/upstream-id/", {"upstream_id": "4242"})

    assert response.status_code == 302
    order = reload(in_review)
    assert (order.status, order.upstream_id) == (Status.PENDING, "4242")


def test_set_upstream_id_refuses_an_order_already_placed(staff, alice, likes, simulator):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)

    response = staff.post(f"/admin/orders/order/{order.pk}/upstream-id/", {"upstream_id": "1"})

    assert "Only orders that need review" in response.content.decode()


def test_fail_and_refund_with_a_reason(staff, in_review, alice):
    staff.post(f"/admin/orders/order/{in_review.pk}/fail/", {"reason": "Provider has no record of it"})

    order = reload(in_review)
    assert (order.status, order.error, order.refund) == (
        Status.FAILED,
        "Provider has no record of it",
        order.charge,
    )
    assert balance_of(alice) == Decimal("100")


def test_actions_resubmit_and_poll_now(staff, in_review, simulator):
    staff.post("/admin/orders/order/", {"action": "resubmit", "_selected_action": [in_review.pk]})
    assert reload(in_review).status == Status.QUEUED
    order_submit(order_id=in_review.pk)
    simulator.simulator.advance(1000)

    html = staff.post(
        "/admin/orders/order/", {"action": "poll_now", "_selected_action": [in_review.pk]}, follow=True
    ).content.decode()

    assert "Polled: 1 orders checked" in html
    assert reload(in_review).is_final


def test_the_fail_action_refuses_orders_the_provider_has(staff, alice, likes, simulator):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)

    html = staff.post(
        "/admin/orders/order/", {"action": "fail_and_refund", "_selected_action": [order.pk]}, follow=True
    ).content.decode()

    assert "never placed upstream" in html and reload(order).status == Status.PENDING


def test_poll_orders_command_prints_what_it_did(alice, likes, simulator):
    from io import StringIO

    from django.core.management import call_command

    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)
    OrderCheck.objects.update(next_check_at=None)
    out = StringIO()

    call_command("poll_orders", stdout=out)

    assert out.getvalue().startswith("1 orders checked, 0 changed, 0 refunded, 0 errors, 1 status calls")


def test_poll_orders_all_checks_orders_not_yet_due_and_says_how_many_were(alice, likes, simulator):
    from io import StringIO

    from django.core.management import call_command

    first, second, third = (order_place(user=alice, service=likes, link=LINK, quantity=100) for _ in range(3))
    for order in (first, second, third):
        order_submit(order_id=order.pk)
    OrderCheck.objects.filter(pk=first.pk).update(next_check_at=None)  # only the first is due
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)  # all In progress upstream
    plain, everything = StringIO(), StringIO()

    call_command("poll_orders", "--all", stdout=everything)
    call_command("poll_orders", stdout=plain)

    assert everything.getvalue() == (
        "3 orders checked, 3 changed, 0 refunded, 0 errors, 1 status calls; 1 of them were due.\n"
    )
    assert plain.getvalue().startswith("0 orders checked"), "--all claimed them for the next interval"
    assert {reload(order).status for order in (first, second, third)} == {Status.IN_PROGRESS}


def test_staff_who_may_only_view_orders_cannot_run_actions(client, in_review):
    from django.contrib.auth.models import Permission

    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)

    client.post("/admin/orders/order/", {"action": "fail_and_refund", "_selected_action": [in_review.pk]})
    page = client.get("/admin/orders/order/").content.decode()

    assert reload(in_review).status == Status.NEEDS_REVIEW and reload(in_review).refund == 0
    assert "fail_and_refund" not in page and "resubmit" not in page
