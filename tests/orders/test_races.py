"""Races on the paths that move orders and money, against a real PostgreSQL.

Threads, each on its own connection, are released at once (tests/helpers.run_together). Being released at
once is not enough to make them meet: the first thread can be done before the last one starts. So each race
also holds the threads at a second barrier placed in front of the guard under test (`meet_before`): every
thread has done what comes before it (read the order as queued, looked the form's token up...) before any
goes on, and only the guard (a compare-and-swap, a unique constraint) can keep them apart. The assertions are
what a customer or an operator would see: balances, ledger rows, orders upstream, statuses, history.

The last two tests are not races and run on any database.
"""

from decimal import Decimal

import pytest

from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from orders import placement, submission
from orders.models import Order, OrderEvent, Source, Status
from orders.moves import Move, MoveNotAllowed, order_move, orders_move
from orders.placement import order_place
from orders.submission import Outcome, order_submit
from reseller.wallet import services as wallet_services
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from reseller.wallet.services import wallet_credit
from tests.conftest import SIMULATOR_KEY
from tests.factories import StaffFactory
from tests.helpers import LINK, balance_of, meet_before, reload, run_together

HUNDRED = Decimal(100)


def moving_to(status):
    return lambda order, to, **kwargs: to == status


def history(order):
    return list(OrderEvent.objects.filter(order=order).order_by("id").values_list("old_status", "new_status"))


def pks(results):
    """Each thread's answer: a row's primary key, or what it raised (shown by the failing assertion)."""
    return [getattr(result, "pk", result) for result in results]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_one_order_form_submitted_many_times_at_once_places_and_charges_one_order(
    alice, likes, simulator, eager_celery, monkeypatch
):
    """A double click or a resent form carries the same one-time token several times at once. All the
    requests are held until each has looked the token up and found nothing, so only the unique constraint
    `one_order_per_form_submission` and order_place's IntegrityError branch stand between the customer and
    five charges; each request must get the one order back, and only that order goes upstream."""
    count = 5
    monkeypatch.setattr(placement, "order_validate", meet_before(count, placement.order_validate))

    results = run_together(
        count,
        lambda i: order_place(user=alice, service=likes, link=LINK, quantity=1000, client_token="form-1"),
    )

    order = Order.objects.get()
    assert pks(results) == [order.pk] * count
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    assert balance_of(alice) == HUNDRED - order.charge
    assert len(simulator.simulator.orders) == 1, "one order upstream"
    assert history(order) == [("", "queued"), ("queued", "submitting"), ("submitting", "pending")]
    assert ledger_check().ok

    monkeypatch.undo()
    second = order_place(user=alice, service=likes, link=LINK, quantity=1000, client_token="form-2")

    assert second.pk != order.pk, "another form shown is another order"
    assert balance_of(alice) == HUNDRED - order.charge - second.charge
    assert len(simulator.simulator.orders) == 2
    assert ledger_check().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_staff_credit_form_submitted_many_times_at_once_credits_once(alice, monkeypatch):
    """The same for the staff credit form: every submission is past the token look-up before any writes,
    so the unique constraint `one_entry_per_request` (and wallet_credit's IntegrityError branch) must make
    it one credit, and every submission must be answered with that one ledger row."""
    count = 5
    staff = StaffFactory()
    monkeypatch.setattr(wallet_services, "wallet_move", meet_before(count, wallet_services.wallet_move))

    results = run_together(
        count,
        lambda i: wallet_credit(
            user=alice,
            amount=Decimal("25.5"),
            note="Bank transfer 42",
            created_by=staff,
            request_token="cr-1",
        ),
    )

    entry = LedgerEntry.objects.get(request_token="cr-1")
    assert pks(results) == [entry.pk] * count
    assert (entry.kind, entry.amount, entry.balance_after) == ("deposit", Decimal("25.5"), Decimal("125.5"))
    assert LedgerEntry.objects.filter(user=alice).count() == 2, "the test funds and this credit"
    assert balance_of(alice) == Decimal("125.5")
    assert ledger_check().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_submitting_one_queued_order_at_once_place_it_upstream_once(
    alice, likes, simulator, monkeypatch
):
    """A task redelivered while the first run is still going: every run has loaded the order as queued
    before any claims it, so the claim's compare-and-swap (queued -> submitting) is all that keeps a
    second `add`, and a second bill from the provider, from going out."""
    count = 4
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    claim = meet_before(count, submission.order_move, when=moving_to(Status.SUBMITTING))
    monkeypatch.setattr(submission, "order_move", claim)

    outcomes = run_together(count, lambda i: order_submit(order_id=order.pk))

    assert (outcomes.count(Outcome.PLACED), outcomes.count(Outcome.SKIPPED)) == (1, count - 1), outcomes
    order = reload(order)
    assert list(simulator.simulator.orders) == [int(order.upstream_id)], "one add reached the provider"
    assert (order.status, order.submit_attempts, order.refund) == (Status.PENDING, 1, 0)
    assert history(order) == [("", "queued"), ("queued", "submitting"), ("submitting", "pending")]
    assert balance_of(alice) == HUNDRED - order.charge
    assert ledger_check().ok


class SameIdSimulator(Simulator):
    """A provider that answers every `add` after its first with its first order's id (a broken provider,
    or a cache in front of one replaying an answer). Counts the adds it was asked for."""

    adds = 0

    def _add(self, params):
        self.adds += 1
        if not self.orders:
            return super()._add(params)
        return {"order": next(iter(self.orders))}


@pytest.fixture
def same_id_provider(synced):
    """The synced provider (its catalog imported) now served by a SameIdSimulator."""
    server = SimulatorServer(SameIdSimulator(SimulatorConfig(key=SIMULATOR_KEY, seed=7))).start()
    synced.api_url = server.url
    synced.save(update_fields=["api_url"])
    yield server.simulator
    server.stop()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_orders_answered_with_one_upstream_id_leave_one_pending_and_one_for_review(
    alice, likes, same_id_provider, monkeypatch
):
    """Two orders submitted at once, both answered with the same upstream id. Both runs hold the answer
    before either records it, so nothing but the unique constraint `one_order_per_upstream_id` can tell
    them apart: one order follows that id, the other goes to Needs review saying why, no refund (the
    provider may have it) and nothing is sent again."""
    orders = [order_place(user=alice, service=likes, link=LINK, quantity=1000) for _ in range(2)]
    record = meet_before(2, submission.order_move, when=moving_to(Status.PENDING))
    monkeypatch.setattr(submission, "order_move", record)

    outcomes = run_together(2, lambda i: order_submit(order_id=orders[i].pk))

    (upstream_id,) = same_id_provider.orders
    assert same_id_provider.adds == 2, "each order asked for once"
    placed = Order.objects.get(status=Status.PENDING)
    review = Order.objects.get(status=Status.NEEDS_REVIEW)
    by_order = {order.pk: outcome for order, outcome in zip(orders, outcomes, strict=True)}
    assert (by_order[placed.pk], by_order[review.pk]) == (Outcome.PLACED, Outcome.AMBIGUOUS), outcomes
    assert (placed.upstream_id, review.upstream_id) == (str(upstream_id), "")
    assert review.review_reason == (
        f"The provider answered order id {upstream_id}, which another order already has."
    )
    assert history(review) == [("", "queued"), ("queued", "submitting"), ("submitting", "needs_review")]
    assert (placed.refund, review.refund) == (0, 0)
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    assert LedgerEntry.objects.filter(kind="charge").count() == 2
    assert balance_of(alice) == HUNDRED - placed.charge - review.charge
    assert ledger_check().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("start", "to"),
    [(Status.QUEUED, Status.FAILED), (Status.PENDING, Status.CANCELED)],
    ids=["queued-to-failed", "pending-to-canceled"],
)
def test_workers_making_one_final_move_at_once_make_it_once_and_refund_once(
    alice, likes, simulator, start, to
):
    """An operator's click, a retry's last attempt and a poll can all decide an order's end at once,
    each from its own copy loaded before any moved. The move's compare-and-swap must let exactly one make
    it: one history row, one refund, and the losers told so (False) rather than refunding or failing."""
    count = 6
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    if start == Status.PENDING:
        assert order_submit(order_id=order.pk) is Outcome.PLACED
    copies = [reload(order) for _ in range(count)]
    assert {copy.status for copy in copies} == {start}

    results = run_together(count, lambda i: order_move(copies[i], to, source=Source.OPERATOR, note="race"))

    assert (results.count(True), results.count(False)) == (1, count - 1), results
    order = reload(order)
    assert (order.status, order.refund) == (to, order.charge) and order.finished_at is not None
    assert OrderEvent.objects.filter(order=order, new_status=to).count() == 1
    assert [copy.status for copy in copies].count(to) == 1, "only the winner's copy shows the move"
    (refund,) = LedgerEntry.objects.filter(kind="refund")
    assert (refund.order_id, refund.amount) == (order.pk, order.charge)
    assert (
        balance_of(alice)
        == HUNDRED
        == sum(LedgerEntry.objects.filter(user=alice).values_list("amount", flat=True))
    )
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_move_the_table_does_not_allow_raises_and_writes_nothing(alice, likes):
    """A batch with one move that is not in the table is refused whole, before anything is written: the
    allowed move in it is not made either, nothing is refunded and no history is written."""
    allowed, refused = (order_place(user=alice, service=likes, link=LINK, quantity=1000) for _ in range(2))
    balance = balance_of(alice)

    with pytest.raises(MoveNotAllowed, match="cannot go from Queued to Pending"):
        orders_move(
            [Move(allowed, Status.FAILED, Source.OPERATOR), Move(refused, Status.PENDING, Source.OPERATOR)]
        )

    assert [reload(order).status for order in (allowed, refused)] == [Status.QUEUED, Status.QUEUED]
    assert (allowed.status, allowed.refund, allowed.finished_at) == (Status.QUEUED, 0, None)
    assert list(OrderEvent.objects.values_list("new_status", flat=True)) == ["queued", "queued"]
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    assert balance_of(alice) == balance


@pytest.mark.django_db
def test_a_move_from_a_stale_copy_returns_false_and_leaves_the_row_and_history_alone(alice, likes):
    """The sequential form of the races above, on any database: a copy loaded before another move was made
    loses the swap, whether it tries another move or the same final one, and changes nothing: not the row,
    not its history, not the balance (no second refund), not even the copy in memory."""
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    stale = reload(order)
    assert order_move(order, Status.FAILED, source=Source.OPERATOR, note="first") is True
    row = Order.objects.filter(pk=order.pk).values().get()

    assert order_move(stale, Status.SUBMITTING, source=Source.SUBMISSION, submit_attempts=1) is False
    assert order_move(stale, Status.FAILED, source=Source.OPERATOR, note="again") is False

    assert Order.objects.filter(pk=order.pk).values().get() == row
    assert (stale.status, stale.submit_attempts, stale.refund) == (Status.QUEUED, 0, 0)
    assert history(order) == [("", "queued"), ("queued", "failed")]
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    assert balance_of(alice) == HUNDRED
    assert ledger_check().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_cancels_at_once_ask_the_provider_once_and_neither_reads_as_refused(alice, followers, simulator):
    from orders.cancels import ALREADY_REQUESTED, orders_cancel
    from tests.helpers import place

    (order,) = place(alice, followers)

    results = run_together(2, lambda i: orders_cancel(user=alice, orders=[Order.objects.get(pk=order.pk)]))

    answers = sorted(("ok" if result[order.pk] is True else str(result[order.pk])) for result in results)
    order = Order.objects.get(pk=order.pk)
    assert answers == [str(ALREADY_REQUESTED), "ok"]  # before the claim: one accepted, one "refused"
    assert order.cancel_refusal == "" and order.cancel_requested_at is not None
    notes = list(order.events.filter(note__startswith="Cancel").values_list("note", flat=True))
    assert notes == ["Cancel requested"]
