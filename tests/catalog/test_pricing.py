from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from catalog import pricing
from catalog.pricing import Rule

rates = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8)
percents = st.one_of(st.none(), st.decimals(min_value=-100, max_value=1000, places=2))
fixed = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("100000"), places=8))
rules = st.builds(Rule, fixed_rate=fixed, percent=percents)
decimals = st.sampled_from([0, 2, 4])
discounts = st.decimals(min_value=-50, max_value=150, places=2)


@given(
    rates,
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("50000"), places=4),
    rules,
    rules,
    rules,
    st.decimals(min_value=0, max_value=500, places=2),
    discounts,
    decimals,
)
def test_a_customer_never_pays_below_cost_whatever_the_rules(
    upstream_rate, exchange, service_rule, category_rule, provider_rule, default, discount, places
):
    cost = pricing.cost_rate(upstream_rate, exchange)
    rule = pricing.pick_rule(service_rule, category_rule, provider_rule, default_percent=default)
    price = pricing.list_rate(cost=cost, rule=rule, decimals=places)
    paid = pricing.customer_rate(price=price, cost=cost, discount_percent=discount, decimals=places)

    assert cost >= upstream_rate * exchange
    assert price >= cost and paid >= cost
    assert paid <= price
    assert paid == paid.quantize(Decimal(1).scaleb(-places))


@given(st.decimals(min_value=0, max_value=Decimal("1000000"), places=10), decimals)
def test_rounding_goes_up_by_less_than_one_unit(amount, places):
    rounded = pricing.round_up(amount, places)

    assert amount <= rounded < amount + Decimal(1).scaleb(-places)


def test_the_most_specific_rule_wins():
    service, category, provider = (
        Rule(percent=Decimal(10)),
        Rule(fixed_rate=Decimal(5)),
        Rule(percent=Decimal(50)),
    )

    assert pricing.pick_rule(service, category, provider, default_percent=Decimal(30)) == service
    assert pricing.pick_rule(Rule(), category, provider, default_percent=Decimal(30)) == category
    assert pricing.pick_rule(Rule(), Rule(), provider, default_percent=Decimal(30)) == provider
    assert pricing.pick_rule(Rule(), Rule(), Rule(), default_percent=Decimal(30)) == Rule(percent=Decimal(30))


def test_a_fixed_rate_wins_over_a_percent_but_not_over_cost():
    cost = Decimal("4")

    assert (
        pricing.list_rate(cost=cost, rule=Rule(fixed_rate=Decimal(6), percent=Decimal(90)), decimals=2) == 6
    )
    assert pricing.list_rate(cost=cost, rule=Rule(fixed_rate=Decimal(3)), decimals=2) == 4


def test_vnd_prices_are_whole_and_usd_tiny_rates_round_up():
    vnd_cost = pricing.cost_rate(Decimal("0.9"), Decimal("25400"))
    assert pricing.list_rate(cost=vnd_cost, rule=Rule(percent=Decimal(30)), decimals=0) == Decimal("29718")

    tiny = pricing.cost_rate(Decimal("0.0042"), Decimal(1))
    assert pricing.list_rate(cost=tiny, rule=Rule(percent=Decimal(30)), decimals=4) == Decimal("0.0055")
    assert pricing.list_rate(cost=tiny, rule=Rule(percent=Decimal(30)), decimals=2) == Decimal("0.01")


def test_a_discount_lowers_the_price_down_to_cost_at_most():
    price, cost = Decimal("13.00"), Decimal("10")

    assert pricing.customer_rate(price=price, cost=cost, discount_percent=Decimal(10), decimals=2) == Decimal(
        "11.70"
    )
    assert pricing.customer_rate(price=price, cost=cost, discount_percent=Decimal(90), decimals=2) == cost


@given(
    st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("100000"), places=5),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=-(10**9), max_value=2 * 10**9),
)
def test_a_partial_refund_never_exceeds_the_undelivered_share(charge, quantity, remains):
    refund = pricing.partial_refund(charge=charge, remains=remains, quantity=quantity)
    undelivered = min(max(remains, 0), quantity)
    exact = charge * undelivered / quantity

    assert 0 <= refund <= exact <= charge
    assert exact - refund < Decimal("0.00001")
    assert refund == refund.quantize(Decimal("0.00001"))


@given(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("100000"), places=8),
    st.integers(min_value=1, max_value=10**7),
    st.sampled_from([1, 1000]),
)
def test_an_order_amount_rounds_up_so_the_panel_never_undercharges(rate, quantity, per):
    amount = pricing.order_amount(rate=rate, quantity=quantity, per=per)
    exact = rate * quantity / per

    assert exact <= amount < exact + Decimal("0.00001")
