"""Commission: a percent of each referred customer's finished order, net of its refund, rounded down,
earned once per order when the move into a final status is made."""

import threading
from decimal import Decimal

import pytest

from affiliates.commissions import commission_amount, commissions_earn
from affiliates.models import Commission
from orders import polling
from orders.models import OrderCheck, Status
from orders.operators import order_fail_and_refund
from orders.placement import order_place
from orders.polling import orders_poll
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.factories import OrderFactory, StaffFactory
from tests.helpers import LINK, balance_of, finish, meet_before, place, reload, run_together, set_outcome

FIVE = Decimal("5")


def expected(net, percent=FIVE):
    """percent x net / 100, cut (not rounded) at the fifth decimal."""
    exact = net * percent / 100
    return exact.quantize(Decimal("0.00001"), rounding="ROUND_DOWN")


def commissions():
    return list(Commission.objects.order_by("order_id").values_list("order_id", "base", "percent", "amount"))


def test_the_amount_is_cut_never_rounded_up():
    assert commission_amount(net=Decimal("12.34567"), percent=FIVE) == Decimal("0.61728")  # 0.6172835
    assert commission_amount(net=Decimal("0.00019"), percent=FIVE) == Decimal("0")  # 0.0000095
    assert commission_amount(net=Decimal("100"), percent=Decimal("12.5")) == Decimal("12.5")
    assert commission_amount(net=Decimal("-1"), percent=FIVE) == 0


@pytest.mark.django_db
def test_an_order_of_12_34567_earns_0_61728_once_however_often_it_is_told(affiliate, bob):
    order = OrderFactory(user=bob, charge=Decimal("12.34567"), status=Status.COMPLETED)

    commissions_earn(orders=[order])
    commissions_earn(orders=[reload(order)])

    assert commissions() == [(order.pk, Decimal("12.34567"), FIVE, Decimal("0.61728"))]
    assert Commission.objects.get().affiliate == affiliate


@pytest.mark.django_db
def test_a_completed_order_of_a_referred_customer_earns_five_percent_of_its_charge(
    affiliate, bob, followers, simulator
):
    (order,) = finish(simulator, place(bob, followers))

    (row,) = commissions()
    assert row == (order.pk, order.charge, FIVE, expected(order.charge))
    assert row[3] > 0


@pytest.mark.django_db
def test_a_partial_order_earns_on_the_delivered_share_only(affiliate, bob, followers, simulator):
    (order,) = finish(simulator, place(bob, followers, quantity=1000), "Partial", remains=400)

    assert order.refund > 0
    assert commissions() == [
        (order.pk, order.charge - order.refund, FIVE, expected(order.charge - order.refund))
    ]


@pytest.mark.django_db
def test_canceled_and_failed_orders_earn_nothing(affiliate, bob, followers, simulator):
    canceled = finish(simulator, place(bob, followers), "Canceled")
    failed = order_place(user=bob, service=followers, link=LINK, quantity=followers.min_quantity)
    order_fail_and_refund(order=failed, reason="Lost upstream", by=StaffFactory())

    assert reload(failed).status == Status.FAILED and canceled[0].refund == canceled[0].charge
    assert commissions() == []


@pytest.mark.django_db
def test_an_affiliates_own_percent_replaces_the_panels(affiliate, bob, followers, simulator):
    affiliate.commission_percent = Decimal("12.5")
    affiliate.save()

    (order,) = finish(simulator, place(bob, followers))

    assert commissions() == [
        (order.pk, order.charge, Decimal("12.5"), expected(order.charge, Decimal("12.5")))
    ]


@pytest.mark.django_db
def test_a_customer_nobody_referred_earns_nobody_anything(affiliate, charlie, followers, simulator):
    finish(simulator, place(charlie, followers, count=2))

    assert commissions() == []


@pytest.mark.django_db
def test_the_affiliates_own_orders_earn_nothing(affiliate, alice, followers, simulator):
    finish(simulator, place(alice, followers))

    assert commissions() == []


@pytest.mark.django_db
def test_a_deactivated_affiliate_earns_nothing_more(affiliate, alice, bob, followers, simulator):
    alice.is_active = False
    alice.save()

    finish(simulator, place(bob, followers))

    assert commissions() == []


@pytest.mark.django_db
def test_a_batch_of_finished_orders_costs_two_queries_and_one_without_referrals(
    affiliate, bob, charlie, django_assert_num_queries
):
    bobs = [OrderFactory(user=bob, charge=Decimal("2"), status=Status.COMPLETED) for _ in range(30)]
    charlies = [OrderFactory(user=charlie, charge=Decimal("2"), status=Status.COMPLETED) for _ in range(30)]

    with django_assert_num_queries(1):
        commissions_earn(orders=charlies)
    with django_assert_num_queries(2):
        commissions_earn(orders=bobs + charlies)

    assert Commission.objects.count() == 30


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_pollers_finishing_the_same_orders_earn_one_exact_commission_each(
    affiliate, bob, followers, simulator, monkeypatch
):
    """Two overlapping polls ("poll now" while a sweep runs) both claim the same orders, one after the
    other, ask the provider and hold the answers until both have them: only the move (its row lock and
    compare-and-swap) and the one-commission-per-order constraint stand between the affiliate and a
    second commission. Each order earns one, of the exact amount, and is refunded once."""
    completed, partial = place(bob, followers, count=2, quantity=1000)
    set_outcome(simulator, completed, "Completed")
    set_outcome(simulator, partial, "Partial", 250)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)
    ids = [completed.pk, partial.pk]
    OrderCheck.objects.filter(pk__in=ids).update(next_check_at=None)
    claiming = threading.Lock()  # a claim is SKIP LOCKED: one at a time, so both pollers get the orders
    claim_due = polling.claim_due

    def claim_in_turn(*args, **kwargs):
        with claiming:
            return claim_due(*args, **kwargs)

    monkeypatch.setattr(polling, "claim_due", claim_in_turn)
    monkeypatch.setattr(polling, "_apply", meet_before(2, polling._apply))

    results = run_together(2, lambda i: orders_poll(order_ids=ids))

    assert sum(result.changed for result in results) == 2, results
    completed, partial = reload(completed), reload(partial)
    assert (completed.status, partial.status) == (Status.COMPLETED, Status.PARTIAL)
    assert commissions() == [
        (completed.pk, completed.charge, FIVE, expected(completed.charge)),
        (partial.pk, partial.charge - partial.refund, FIVE, expected(partial.charge - partial.refund)),
    ]
    (refund,) = LedgerEntry.objects.filter(kind="refund")
    assert (refund.order_id, refund.amount) == (partial.pk, partial.refund)
    assert balance_of(bob) == Decimal(100) - completed.charge - partial.charge + partial.refund
    assert ledger_check().ok
