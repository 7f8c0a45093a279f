"""The dashboard's figures against hand-computed fixtures: charges, refunds, partials, cancels, a provider
pricing in another currency; the rollup of closed days equal to the live figures; exact top lists."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Provider, Service
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from cockpit import figures
from cockpit.figures import Reader, compute, rollup
from cockpit.models import DayFigures, Dimension
from orders.models import Order
from orders.polling import orders_poll
from reseller.wallet.models import LedgerEntry
from tests.factories import funded_user
from tests.helpers import finish, place, set_outcome

D = Decimal


def shift(orders, *, days):
    """Moves orders and their ledger rows `days` back in time, as if placed (and finished) then."""
    delta = timedelta(days=days)
    for order in orders:
        order = Order.objects.get(pk=order.pk)
        Order.objects.filter(pk=order.pk).update(
            created_at=order.created_at - delta,
            finished_at=order.finished_at - delta if order.finished_at else None,
        )
        for entry in LedgerEntry.objects.filter(order=order):
            LedgerEntry.objects.filter(pk=entry.pk).update(created_at=entry.created_at - delta)


def end(simulator, *outcomes):
    """Orders placed together, each finished upstream as told, polled at once."""
    for order, outcome, remains in outcomes:
        set_outcome(simulator, order, outcome, remains)
    finish(simulator, [order for order, _outcome, _remains in outcomes if _outcome == "Completed"])
    for order, outcome, _remains in outcomes:
        if outcome != "Completed":
            orders_poll(order_ids=[order.pk])
            assert Order.objects.get(pk=order.pk).status == outcome.lower()


@pytest.fixture
def four_orders(alice, likes, simulator):
    """1000 likes each (sold at 0.546, bought at 0.42): one completed, one partial with 400 left, one
    canceled upstream, one still pending."""
    completed, partial, canceled, pending = place(alice, likes, count=4, quantity=1000)
    end(simulator, (completed, "Completed", 0), (partial, "Partial", 400), (canceled, "Canceled", 1000))
    return completed, partial, canceled, pending


def test_hand_computed_day(four_orders, alice):
    today = Reader(days=7).totals(1)
    # Charged 4 x 0.546; refunded the partial's 400/1000 (0.2184) and the canceled one whole (0.546)
    assert today.charged == D("2.184")
    assert today.refunded == D("0.7644")
    assert today.revenue == D("1.4196")
    # Cost: completed 0.42, partial 0.42 - 0.168 = 0.252 (the provider refunds us too), canceled 0,
    # pending 0.42 (expected)
    assert today.cost == D("1.092")
    assert today.profit == D("0.3276")
    assert today.margin == D("23.1")
    assert today.orders == 4
    assert dict(today.finished) == {"completed": 1, "partial": 1, "canceled": 1}
    # Alice's 100 of test funds, and Alice herself is new
    assert (today.deposited, today.deposits) == (D("100"), 1)
    assert today.new_customers == 1


def test_provider_pricing_in_another_currency(alice, db):
    """A provider in EUR at 1.1: its cost is counted in the panel's currency at the order's rate."""
    server = SimulatorServer(
        Simulator(SimulatorConfig(key="eur-key", currency="EUR", step_seconds=10))
    ).start()
    try:
        provider = Provider.objects.create(
            name="Euro", api_url=server.url, api_key="eur-key", currency="EUR", exchange_rate=D("1.1")
        )
        provider_sync_services(provider=provider, enable_new=True)
        likes = Service.objects.get(provider=provider, upstream_id="2")
        # 0.42 EUR per 1000 = 0.462 panel units; sold with 30% markup at 0.6006
        assert (likes.cost_rate, likes.price_rate) == (D("0.462"), D("0.6006"))
        completed, partial = place(alice, likes, count=2, quantity=1000)
        end(server, (completed, "Completed", 0), (partial, "Partial", 500))
    finally:
        server.stop()
    today = Reader(days=7).totals(1)
    assert today.charged == D("1.2012")
    assert today.refunded == D("0.3003")
    # 0.42 EUR and (0.42 - 0.21) EUR, at 1.1
    assert today.cost == D("0.693")
    assert today.profit == D("0.2079")
    [(key, spent)] = Reader(days=7).provider_spend(7).items()
    assert (key, spent) == (provider.pk, D("0.693"))


def test_an_order_never_placed_upstream_costs_nothing(alice, likes, simulator):
    from orders.operators import order_fail_and_refund
    from orders.placement import order_place

    order = order_place(user=alice, service=likes, link="https://instagram.com/p/x", quantity=1000)
    order_fail_and_refund(order=Order.objects.get(pk=order.pk), reason="No", by=None)
    today = Reader(days=7).totals(1)
    assert (today.charged, today.refunded, today.cost, today.profit) == (D("0.546"), D("0.546"), 0, 0)


def test_a_day_rolled_up_equals_the_day_computed_and_never_changes(four_orders, simulator):
    *_done, pending = four_orders
    shift(four_orders, days=3)
    day = figures.today() - timedelta(days=3)
    assert day in rollup()
    row = DayFigures.objects.get(day=day, dimension=Dimension.PANEL)
    assert (row.charged, row.refunded, row.cost, row.orders) == (D("2.184"), D("0.7644"), D("1.092"), 4)
    assert row.finished == {"canceled": 1, "completed": 1, "partial": 1}
    # Computing the day again finds the same; rolling up again computes nothing
    live = compute(figures.day_start(day), figures.day_start(day + timedelta(days=1))).panel
    assert (live.charged, live.refunded, live.cost) == (row.charged, row.refunded, row.cost)
    assert rollup() == []
    # The pending order ended upstream meanwhile; polled today, its refund and its cost correction count
    # today, and the closed day stays as it was
    orders_poll(order_ids=[pending.pk])
    pending = Order.objects.get(pk=pending.pk)
    assert pending.is_final and pending.refund
    reader = Reader(days=7)
    assert reader.totals(1).refunded == pending.refund
    assert reader.totals(1).cost == pending.final_cost - D("0.42")  # 0.42 was expected three days ago
    assert reader.totals(7).cost == D("1.092") - D("0.42") + pending.final_cost
    assert DayFigures.objects.get(day=day, dimension=Dimension.PANEL).cost == D("1.092")
    assert reader.live_from == figures.today()


def test_thirty_days_join_rolled_up_days_and_today(alice, likes, simulator):
    old = place(alice, likes, count=2, quantity=1000)
    finish(simulator, old)
    shift(old, days=10)
    today = place(alice, likes, count=1, quantity=1000)
    rollup()
    reader = Reader()
    assert reader.totals(30).orders == 3
    assert reader.totals(30).charged == D("1.638")
    assert reader.totals(7).orders == 1
    assert reader.totals(1).charged == D("0.546")
    assert reader.active_customers(30) == 1  # the same customer on both days counts once
    assert reader.active_customers(7) == 1
    chart = dict(reader.days(30))
    assert chart[figures.today() - timedelta(days=10)].orders == 2
    assert chart[figures.today()].orders == 1
    assert today


def test_the_top_is_exact_when_today_changes_it(likes, followers, simulator):
    """Bob led on closed days, then lost it all today to refunds: Carol, with less rolled up, leads."""
    bob, carol = funded_user("100", username="bob"), funded_user("100", username="carol")
    big = place(bob, likes, count=3, quantity=1000)
    finish(simulator, big)
    shift(big, days=2)
    small = place(carol, likes, count=1, quantity=1000)
    finish(simulator, small)
    shift(small, days=2)
    rollup()
    assert [key for key, _f in Reader().top(Dimension.CUSTOMER, 30)] == [bob.pk, carol.pk]
    # Today Bob places an order that costs us far more than he pays (a provider's price jump)
    losing = place(bob, likes, count=1, quantity=1000)
    Order.objects.filter(pk=losing[0].pk).update(cost=D("5"))  # a provider that charged far more
    reader = Reader()
    ranked = reader.top(Dimension.CUSTOMER, 30)
    assert [key for key, _f in ranked] == [carol.pk, bob.pk]
    assert dict(ranked)[bob.pk].profit == D("3") * (D("0.546") - D("0.42")) + D("0.546") - D("5")


def test_top_services_rank_by_profit(alice, likes, followers, simulator):
    finish(simulator, place(alice, likes, count=2, quantity=1000))
    finish(simulator, place(alice, followers, count=1, quantity=1000))
    ranked = Reader().top(Dimension.SERVICE, 30)
    profits = {key: figures.profit for key, figures in ranked}
    assert list(profits) == sorted(profits, key=lambda key: -profits[key])
    assert profits[likes.pk] == 2 * (D("0.546") - D("0.42"))


def test_figures_since_midnight_in_the_panel_time_zone(settings, alice, likes, simulator):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    [order] = place(alice, likes, count=1, quantity=1000)
    # Placed at 23:30 yesterday, Vietnam time: not today's
    local_midnight = figures.day_start(figures.today())
    Order.objects.filter(pk=order.pk).update(created_at=local_midnight - timedelta(minutes=30))
    LedgerEntry.objects.filter(order=order).update(created_at=local_midnight - timedelta(minutes=30))
    reader = Reader(days=7)
    assert reader.totals(1).orders == 0
    assert reader.totals(2).orders == 1
    assert dict(reader.days(2))[figures.today() - timedelta(days=1)].orders == 1


def test_a_day_is_rolled_up_only_after_its_grace(db):
    midnight = figures.day_start(figures.today())
    just_after = midnight + timedelta(minutes=5)
    assert figures.last_closed_day(just_after) == figures.today() - timedelta(days=2)
    assert figures.last_closed_day(midnight + figures.GRACE) == figures.today() - timedelta(days=1)
    # Within the grace, yesterday is read live, beside today
    rollup(now=just_after)
    assert Reader(now=just_after).live_from == figures.today() - timedelta(days=1)


def test_the_whole_history_adds_up_to_the_orders(four_orders):
    """Over an order's life its costs add up to what it cost in the end, its revenue to charge - refund."""
    total = compute(timezone.now() - timedelta(days=1), timezone.now() + timedelta(seconds=1)).panel
    orders = list(Order.objects.all())
    assert total.revenue == sum(order.charge - order.refund for order in orders)
    assert total.cost == sum(order.actual_cost for order in orders)
