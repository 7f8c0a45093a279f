"""Drip-feed and subscription orders from charge to refund, against the simulator over HTTP: charged once at
placement, followed in either status shape of part 3, the undelivered share refunded exactly once (also
when two pollers race, on PostgreSQL)."""

from decimal import Decimal

import pytest

from catalog.models import Service
from catalog.pricing import order_amount, partial_refund
from catalog.protocol import OrderStatus, ServiceType, SubscriptionStatus
from orders.cancels import orders_cancel
from orders.errors import OrderError
from orders.models import Order, OrderCheck, Status
from orders.placement import order_place
from orders.polling import orders_poll
from orders.submission import order_submit
from reseller.accounts.services import api_key_rotate
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.helpers import LINK, balance_of, reload, run_together

HUNDRED = Decimal(100)


def dripfeed(alice, likes, *, quantity=100, runs=5, interval=15):
    order = order_place(user=alice, service=likes, link=LINK, quantity=quantity, runs=runs, interval=interval)
    order_submit(order_id=order.pk)
    return reload(order)


def subscription(alice, *, posts=4, high=200, cancel=False):
    service = Service.objects.filter(type=ServiceType.SUBSCRIPTIONS, cancel=cancel).order_by("pk").first()
    order = order_place(
        user=alice,
        service=service,
        username="alice",
        min=service.min_quantity,
        max=high,
        posts=posts,
        delay=0,
    )
    order_submit(order_id=order.pk)
    return reload(order)


def upstream(simulator, order):
    return simulator.simulator.orders[int(order.upstream_id)]


def poll(order):
    OrderCheck.objects.filter(pk=order.pk).update(next_check_at=None)
    orders_poll(order_ids=[order.pk])
    return reload(order)


def api_status(user, order) -> dict:
    """Our API's `status` of the order, as its customer's script reads it."""
    from django.test import Client

    data = {"key": api_key_rotate(user=user), "action": "status", "order": order.pk}
    return Client().post("/api/v2", data).json()


def refunds_of(order):
    return list(LedgerEntry.objects.filter(order_id=order.pk, kind="refund").values_list("amount", flat=True))


# Drip-feed --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dripfeed_is_charged_once_for_runs_times_quantity_and_sends_runs_and_interval(
    alice, likes, simulator
):
    order = dripfeed(alice, likes)

    assert (order.quantity, order.runs, order.interval, order.per_run) == (500, 5, 15, 100)
    assert order.charge == order_amount(rate=Decimal("0.546"), quantity=500, per=1000) == Decimal("0.273")
    assert list(LedgerEntry.objects.filter(order_id=order.pk).values_list("kind", "amount")) == [
        ("charge", Decimal("-0.273"))
    ]
    assert upstream(simulator, order).fields == {
        "link": LINK,
        "quantity": "100",
        "runs": "5",
        "interval": "15",
    }
    assert balance_of(alice) == HUNDRED - Decimal("0.273")


@pytest.mark.django_db
def test_dripfeed_is_refused_where_the_service_or_the_operator_does_not_offer_it(alice, likes, synced):
    reel_views = Service.objects.get(provider=synced, upstream_id="3")  # no dripfeed flag upstream
    Service.objects.filter(pk=likes.pk).update(dripfeed_enabled=False)
    likes.refresh_from_db()

    for service in (reel_views, likes):
        with pytest.raises(OrderError) as refused:
            order_place(user=alice, service=service, link=LINK, quantity=100, runs=5, interval=15)
        assert (str(refused.value), refused.value.field) == (
            "Drip-feed is not available for this service.",
            "runs",
        )
    assert not Order.objects.exists() and balance_of(alice) == HUNDRED


@pytest.mark.django_db
def test_one_run_is_a_plain_order(alice, likes, simulator):
    order = order_place(user=alice, service=likes, link=LINK, quantity=100, runs=1, interval=15)

    assert (order.runs, order.quantity, order.upstream_fields) == (
        None,
        100,
        {"link": LINK, "quantity": "100"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["whole", "runs"])
def test_a_partial_dripfeed_refunds_the_runs_not_done_once_whichever_shape(alice, likes, simulator, shape):
    simulator.simulator.set_dripfeed_shape(shape)
    order = dripfeed(alice, likes, quantity=100, runs=5)
    placed = upstream(simulator, order)
    placed.outcome, placed.final_runs, placed.final_remains = OrderStatus.PARTIAL, 2, 300
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 20)

    order = poll(order)
    poll(order)  # the same answer again

    owed = partial_refund(charge=order.charge, remains=300, quantity=500)
    assert (order.status, order.remains, order.refund) == (Status.PARTIAL, 300, owed)
    assert refunds_of(order) == [owed]
    if shape == "runs":
        assert order.runs_done == 2 and len(order.child_orders) == 2
    assert balance_of(alice) == HUNDRED - order.charge + owed and ledger_check().ok


@pytest.mark.django_db
def test_our_api_status_shows_the_runs_done(alice, likes, simulator):
    simulator.simulator.set_dripfeed_shape("runs")
    order = dripfeed(alice, likes, quantity=100, runs=4, interval=0)
    placed = upstream(simulator, order)
    placed.outcome, placed.final_runs, placed.final_remains = OrderStatus.COMPLETED, 4, 0
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 2.5)
    poll(order)
    answer = api_status(alice, order)

    assert answer["runs"] == "2" and len(answer["orders"]) == 2
    assert answer["status"] in ("In progress", "Pending", "Processing")


@pytest.mark.django_db
def test_a_canceled_dripfeed_refunds_only_the_runs_not_done(alice, likes, simulator):
    simulator.simulator.set_dripfeed_shape("runs")
    order = dripfeed(alice, likes, quantity=100, runs=5)
    placed = upstream(simulator, order)
    placed.outcome, placed.final_runs, placed.final_remains = OrderStatus.CANCELED, 1, 400
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 20)

    order = poll(order)

    owed = partial_refund(charge=order.charge, remains=400, quantity=500)
    assert (order.status, order.refund, refunds_of(order)) == (Status.CANCELED, owed, [owed])
    assert owed < order.charge, "the run delivered is paid for"


# Subscriptions ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_subscription_is_charged_posts_times_max_and_polled_as_posts_appear(alice, synced, simulator):
    order = subscription(alice, posts=4, high=200)
    rate = order.rate

    assert order.charge == order_amount(rate=rate, quantity=800, per=1000)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 2.5)
    order = poll(order)

    assert order.status == Status.ACTIVE and order.posts_done == 2
    assert len(order.child_orders) == 2 and order.remains == 400
    assert order.refund == 0 and balance_of(alice) == HUNDRED - order.charge


@pytest.mark.django_db
def test_a_paused_subscription_reads_paused_and_serves_no_posts(alice, synced, simulator):
    order = subscription(alice, posts=4)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)
    simulator.simulator.pause(int(order.upstream_id))
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 5)

    order = poll(order)

    assert (order.status, order.posts_done, order.refund) == (Status.PAUSED, 1, 0)


@pytest.mark.django_db
def test_a_completed_subscription_refunds_nothing(alice, synced, simulator):
    order = subscription(alice, posts=3)
    upstream(simulator, order).outcome = SubscriptionStatus.COMPLETED
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)

    order = poll(order)

    assert (order.status, order.posts_done, order.remains, order.refund) == (Status.COMPLETED, 3, 0, 0)
    assert refunds_of(order) == []


@pytest.mark.django_db
def test_an_expired_subscription_refunds_the_unserved_posts_once(alice, synced, simulator):
    order = subscription(alice, posts=4, high=200)
    placed = upstream(simulator, order)
    placed.outcome, placed.served_cap, placed.end_post = SubscriptionStatus.EXPIRED, 1, 2
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)

    order = poll(order)
    poll(order)

    owed = partial_refund(charge=order.charge, remains=600, quantity=800)
    assert (order.status, order.posts_done, order.refund) == (Status.EXPIRED, 1, owed)
    assert refunds_of(order) == [owed] and ledger_check().ok


@pytest.mark.django_db
def test_a_customer_cancels_an_active_subscription_and_gets_the_unserved_posts_back(alice, synced, simulator):
    order = subscription(alice, posts=4, high=200, cancel=True)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)
    order = poll(order)
    assert order.status == Status.ACTIVE

    assert orders_cancel(user=alice, orders=[order]) == {order.pk: True}
    order = poll(order)

    owed = partial_refund(charge=order.charge, remains=600, quantity=800)
    assert (order.status, order.refund, refunds_of(order)) == (Status.CANCELED, owed, [owed])


@pytest.mark.django_db
def test_a_subscription_of_a_service_without_cancels_cannot_be_canceled(alice, synced, simulator):
    order = subscription(alice, cancel=False)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)
    order = poll(order)

    result = orders_cancel(user=alice, orders=[order])[order.pk]

    assert isinstance(result, OrderError) and str(result.message) == "This service cannot be canceled."


@pytest.mark.django_db
def test_our_api_status_answers_a_subscription_in_part_3s_shape(alice, synced, simulator):
    order = subscription(alice, posts=4)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 2.5)
    poll(order)

    answer = api_status(alice, order)

    assert set(answer) == {"charge", "status", "expiry", "posts", "orders", "currency"}
    assert (answer["status"], answer["posts"], len(answer["orders"]), answer["expiry"]) == (
        "Active",
        "2",
        2,
        None,
    )


@pytest.mark.django_db
def test_the_order_page_shows_the_posts_served_and_the_child_orders(alice, alice_client, synced, simulator):
    order = subscription(alice, posts=4)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 2.5)
    order = poll(order)

    html = alice_client.get(order.get_absolute_url()).content.decode()

    assert '<dd id="order-posts">2 of 4</dd>' in html
    assert ", ".join(order.child_orders) in html and "alice" in html
    assert "4 posts at up to 200" in html


# Racing pollers --------------------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_pollers_racing_over_dripfeeds_and_subscriptions_refund_each_once(alice, likes, simulator):
    simulator.simulator.set_dripfeed_shape("runs")
    orders = [dripfeed(alice, likes, quantity=100, runs=5) for _ in range(20)]
    orders += [subscription(alice, posts=2, high=100) for _ in range(20)]
    for order in orders:
        placed = upstream(simulator, order)
        if order.is_dripfeed:
            placed.outcome, placed.final_runs, placed.final_remains = OrderStatus.PARTIAL, 2, 300
        else:
            placed.outcome, placed.served_cap, placed.end_post = SubscriptionStatus.EXPIRED, 1, 2
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 20)
    OrderCheck.objects.update(next_check_at=None)

    results = run_together(2, lambda i: orders_poll(order_ids=[order.pk for order in orders], batch_size=10))

    assert not [result for result in results if isinstance(result, Exception)], results
    for order in map(reload, orders):
        remains, total = (300, 500) if order.is_dripfeed else (100, 200)
        owed = partial_refund(charge=order.charge, remains=remains, quantity=total)
        assert order.status == (Status.PARTIAL if order.is_dripfeed else Status.EXPIRED)
        assert order.refund == owed and refunds_of(order) == [owed]
    assert ledger_check().ok


# Answers the simulator does not send, as some providers do (mocked at the HTTP layer with `responses`,
# since the point is the exact body) ------------------------------------------------------------------------


def answered(simulator, orders, *bodies):
    """Polls the orders once per body, the provider answering `status` with it (keyed by upstream id)."""
    import responses as responses_lib

    for body in bodies:
        answer = {reload(order).upstream_id: body for order in orders}
        with responses_lib.RequestsMock() as mocked:
            mocked.post(simulator.url, json=answer)
            OrderCheck.objects.filter(pk__in=[o.pk for o in orders]).update(next_check_at=None)
            orders_poll(order_ids=[o.pk for o in orders])
    return [reload(order) for order in orders]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"status": "Canceled", "remains": "0"}, {"status": "Canceled"}, {"status": "Canceled", "runs": "0"}],
    ids=["card-shape-remains-0", "no-remains", "no-runs-done"],
)
def test_a_dripfeed_canceled_before_any_run_is_refunded_in_full(alice, likes, simulator, body):
    (order,) = answered(simulator, [dripfeed(alice, likes)], body)

    assert (order.status, order.refund, refunds_of(order)) == (Status.CANCELED, order.charge, [order.charge])


@pytest.mark.django_db
def test_a_subscription_completed_without_posts_refunds_the_posts_last_said_unserved(
    alice, synced, simulator
):
    (order,) = answered(
        simulator,
        [subscription(alice, posts=4, high=200)],
        {"status": "Active", "posts": "1"},
        {"status": "Completed"},
    )

    owed = partial_refund(charge=order.charge, remains=600, quantity=800)
    assert (order.status, order.refund, refunds_of(order)) == (Status.COMPLETED, owed, [owed])


@pytest.mark.django_db
def test_an_impossible_count_fails_that_order_only(alice, likes, simulator):
    import responses as responses_lib

    first, second = dripfeed(alice, likes), dripfeed(alice, likes)
    answer = {
        first.upstream_id: {"status": "In progress", "runs": "3000000000"},
        second.upstream_id: {"status": "In progress", "runs": "2"},
    }
    with responses_lib.RequestsMock() as mocked:
        mocked.post(simulator.url, json=answer)
        OrderCheck.objects.update(next_check_at=None)
        orders_poll(order_ids=[first.pk, second.pk])

    first, second = reload(first), reload(second)
    assert first.status == Status.PENDING and "not a count" in first.poll_error
    assert (second.status, second.runs_done, second.remains) == (Status.IN_PROGRESS, 2, 300)


@pytest.mark.django_db
def test_runs_done_never_read_above_the_runs_ordered(alice, likes, simulator):
    (order,) = answered(simulator, [dripfeed(alice, likes, runs=5)], {"status": "In progress", "runs": "9"})

    assert (order.runs_done, order.remains) == (5, 0)


@pytest.mark.django_db
def test_drip_feeds_and_subscriptions_do_not_count_in_a_services_completion_time(alice, likes, simulator):
    from orders.stats import service_completion_refresh

    order = dripfeed(alice, likes, runs=2)
    placed = upstream(simulator, order)
    placed.outcome, placed.final_runs, placed.final_remains = OrderStatus.COMPLETED, 2, 0
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 20)
    assert poll(order).status == Status.COMPLETED

    service_completion_refresh()

    assert Service.objects.get(pk=likes.pk).completion_sample == 0
