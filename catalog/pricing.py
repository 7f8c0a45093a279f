"""Prices as pure functions, so they can be checked exhaustively (tests/catalog/test_pricing.py).

Two rules hold whatever the inputs: a price is never below cost, and rounding only ever goes up, so the
panel never sells at a loss through arithmetic.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from reseller.money import quantize_amount

RATE_PLACES = Decimal("0.00000001")  # what the database stores for rates (8 decimals)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rule:
    """A markup rule: a fixed rate per 1000 wins over a percent; neither means "not set here"."""

    fixed_rate: Decimal | None = None
    percent: Decimal | None = None

    @property
    def is_set(self) -> bool:
        return self.fixed_rate is not None or self.percent is not None


def round_up(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_CEILING)


def cost_rate(upstream_rate: Decimal, exchange_rate: Decimal) -> Decimal:
    """What 1000 units cost us in the panel currency (rounded up to the stored precision)."""
    return round_up(upstream_rate * exchange_rate, 8)


def pick_rule(*rules: Rule, default_percent: Decimal) -> Rule:
    """The most specific rule that is set (service, category, provider), else the global default."""
    for rule in rules:
        if rule.is_set:
            return rule
    return Rule(percent=default_percent)


def list_rate(*, cost: Decimal, rule: Rule, decimals: int) -> Decimal:
    """The price per 1000 before any customer discount."""
    markup = 1 + (rule.percent or 0) / HUNDRED
    base = rule.fixed_rate if rule.fixed_rate is not None else cost * markup
    return _not_below_cost(base, cost, decimals)


def customer_rate(*, price: Decimal, cost: Decimal, discount_percent: Decimal, decimals: int) -> Decimal:
    """A customer's price per 1000: the list price less their discount, never below cost."""
    discount = min(max(discount_percent or Decimal(0), Decimal(0)), HUNDRED)
    return _not_below_cost(price * (1 - discount / HUNDRED), cost, decimals)


def _not_below_cost(amount: Decimal, cost: Decimal, decimals: int) -> Decimal:
    return max(round_up(amount, decimals), round_up(cost, decimals))


def order_amount(*, rate: Decimal, quantity: int, per: int) -> Decimal:
    """What `quantity` costs at `rate` per `per` units, rounded up to the stored precision."""
    return quantize_amount(rate * quantity / per, rounding=ROUND_CEILING)


def partial_refund(*, charge: Decimal, remains: int, quantity: int) -> Decimal:
    """The undelivered share of a charge, rounded down so that a refund never exceeds it.

    `remains` is clamped to 0..quantity: a negative one (over-delivery) refunds nothing.
    """
    if quantity <= 0:
        return Decimal(0)
    undelivered = min(max(remains, 0), quantity)
    return quantize_amount(charge * undelivered / quantity, rounding=ROUND_FLOOR)
