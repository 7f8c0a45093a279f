"""Any sequence of deposits, charges and refunds keeps the balance equal to the sum of the ledger."""

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

from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from reseller.wallet.services import DuplicateRefund, InsufficientFunds, RefundExceedsCharge, wallet_move
from tests.factories import OrderFactory, ServiceFactory, UserFactory

Kind = LedgerEntry.Kind
amounts = st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("500"), places=5)
machine_numbers = itertools.count()


class Ledger(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.user = UserFactory(username=f"machine{next(machine_numbers)}")
        self.service = ServiceFactory()  # one per run, so each charge adds just its order row
        self.expected = Decimal(0)
        self.charged = {}  # order id -> amount charged
        self.refunded = set()

    @rule(amount=amounts)
    def deposit(self, amount):
        wallet_move(user=self.user, amount=amount, kind=Kind.DEPOSIT)
        self.expected += amount

    @rule(amount=amounts)
    def charge(self, amount):
        order_id = OrderFactory(user=self.user, service=self.service).pk
        if amount > self.expected:
            with pytest.raises(InsufficientFunds):
                wallet_move(user=self.user, amount=-amount, kind=Kind.CHARGE, order_id=order_id)
            return
        wallet_move(user=self.user, amount=-amount, kind=Kind.CHARGE, order_id=order_id)
        self.expected -= amount
        self.charged[order_id] = amount

    @precondition(lambda self: self.charged)
    @rule(data=st.data(), share=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1.5"), places=2))
    def refund(self, data, share):
        order_id = data.draw(st.sampled_from(sorted(self.charged)))
        amount = (self.charged[order_id] * share).quantize(Decimal("0.00001"))
        if amount == 0:
            return
        if order_id in self.refunded:
            # Refused either way; which reason is named first depends on the amount.
            with pytest.raises((DuplicateRefund, RefundExceedsCharge)):
                wallet_move(user=self.user, amount=amount, kind=Kind.REFUND, order_id=order_id)
        elif amount > self.charged[order_id]:
            with pytest.raises(RefundExceedsCharge):
                wallet_move(user=self.user, amount=amount, kind=Kind.REFUND, order_id=order_id)
        else:
            wallet_move(user=self.user, amount=amount, kind=Kind.REFUND, order_id=order_id)
            self.expected += amount
            self.refunded.add(order_id)

    @invariant()
    def balance_is_the_sum_of_the_ledger_and_never_negative(self):
        balance = wallet_balance(user=self.user)
        entries = list(LedgerEntry.objects.filter(user=self.user).order_by("created_at", "id"))
        assert balance == self.expected == sum((e.amount for e in entries), Decimal(0))
        assert balance >= 0
        if entries:
            assert entries[-1].balance_after == balance

    def teardown(self):
        assert ledger_check().ok


@pytest.mark.django_db
def test_the_ledger_invariant_holds_for_any_sequence_of_moves():
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
