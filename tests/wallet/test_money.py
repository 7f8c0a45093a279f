"""Amounts are stored with 5 places, rounded in one place; display follows the panel currency."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from reseller.money import currency_places, format_amount, format_money, quantize_amount


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1.234564", "1.23456"),
        ("1.234565", "1.23457"),  # half rounds away from zero...
        ("-1.234565", "-1.23457"),  # ...for debits too, so a charge and its refund round alike
        ("0.000005", "0.00001"),
        ("12", "12.00000"),
        (7, "7.00000"),
        (Decimal("0.1"), "0.10000"),
    ],
)
def test_amounts_are_rounded_half_away_from_zero_to_five_places(given, stored):
    amount = quantize_amount(given)

    assert amount == Decimal(stored)
    assert amount.as_tuple().exponent == -5


def test_floats_are_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="never a float"):
        quantize_amount(0.1)


@pytest.mark.parametrize("given", ["NaN", "Infinity", "-inf", "ten", "", "1e15", "1e40"])
def test_things_that_are_not_amounts_are_refused(given):
    with pytest.raises(ValueError):
        quantize_amount(given)


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("USD", "12.5", "12.50"),
        ("USD", "1234567.00000", "1,234,567.00"),
        ("USD", "0.00123", "0.00123"),  # never shown as 0.00
        ("USD", "10.00500", "10.005"),  # nor rounded up to 10.01
        ("USD", "-3.20000", "-3.20"),
        ("USD", "-0.00000", "0.00"),
        ("VND", "150000.00000", "150,000"),
        ("VND", "150000.50000", "150,000.5"),
        ("JPY", "0", "0"),
    ],
)
def test_display_uses_the_currency_decimals_and_never_hides_digits(currency, amount, shown):
    assert format_amount(Decimal(amount), currency) == shown


def test_zero_decimal_currencies_show_no_decimals(settings):
    settings.PANEL_CURRENCY = "VND"

    assert currency_places() == 0
    assert format_money(Decimal("25000")) == "25,000 VND"


def test_the_money_filter_shows_the_amount_in_the_panel_currency(settings):
    settings.PANEL_CURRENCY = "EUR"
    template = Template("{% load money %}{{ amount|money }}|{{ amount|money:'VND' }}|{{ missing|money }}")

    assert template.render(Context({"amount": Decimal("9.9")})) == "9.90 EUR|9.9 VND|"
