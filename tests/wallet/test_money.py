"""Amounts are stored with 5 places, rounded in one place; display follows the panel currency and the
active language, through Babel."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

from reseller.money import (
    currency_places,
    format_money,
    format_money_exact,
    format_number,
    format_rate,
    quantize_amount,
)

NBSP = "\xa0"  # Vietnamese puts a no-break space between the number and the symbol, as CLDR says


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
    ("language", "currency", "amount", "shown"),
    [
        ("en", "USD", "1234.56", "$1,234.56"),
        ("vi", "USD", "1234.56", f"1.234,56{NBSP}US$"),
        ("en", "VND", "1234", "₫1,234"),
        ("vi", "VND", "1234", f"1.234{NBSP}₫"),
        ("en", "USD", "-1.5", "-$1.50"),
        ("vi", "USD", "-1.5", f"-1,50{NBSP}US$"),
        ("en", "VND", "-25000", "-₫25,000"),
        ("vi", "VND", "-25000", f"-25.000{NBSP}₫"),
    ],
)
def test_money_shows_the_symbol_and_separators_of_the_active_language(language, currency, amount, shown):
    with translation.override(language), override_settings(PANEL_CURRENCY=currency):
        assert format_money(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("2.40500", "$2.41"),  # half up, so a column lines up at two decimals
        ("0.08125", "$0.08"),
        ("100.00000", "$100.00"),
        ("142.62787", "$142.63"),
        ("10.00500", "$10.01"),
        ("-2.40500", "-$2.41"),  # half away from zero for debits too
        ("1234567.89499", "$1,234,567.89"),
    ],
)
def test_money_is_rounded_half_up_to_the_currency_decimals(amount, shown):
    assert format_money(Decimal(amount), "USD") == shown


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("VND", "150000.50000", "₫150,001"),
        ("VND", "150000.49999", "₫150,000"),
        ("VND", "12.00000", "₫12"),
        ("JPY", "0", "¥0"),
    ],
)
def test_zero_decimal_currencies_show_no_decimals(currency, amount, shown):
    assert currency_places(currency) == 0
    assert format_money(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("USD", "0.00156", "$0.00156"),
        ("USD", "0.00500", "$0.005"),
        ("USD", "-0.00400", "-$0.004"),
        ("USD", "0.00999", "$0.00999"),
        ("USD", "0.000004", "$0.00"),  # under the stored precision: nothing to show
        ("VND", "0.50000", "₫0.5"),
        ("VND", "0.00001", "₫0.00001"),
    ],
)
def test_an_amount_under_one_minor_unit_keeps_the_decimals_it_needs(currency, amount, shown):
    assert format_money(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("language", "currency", "amount", "shown"),
    [
        ("en", "USD", "0", "$0.00"),
        ("en", "USD", "-0.00000", "$0.00"),
        ("en", "USD", "-0.000001", "$0.00"),  # rounds to zero at the stored precision
        ("vi", "USD", "-0.00000", f"0,00{NBSP}US$"),
        ("en", "VND", "-0.000001", "₫0"),
        ("vi", "VND", "-0", f"0{NBSP}₫"),
    ],
)
def test_zero_never_shows_a_minus_sign(language, currency, amount, shown):
    with translation.override(language):
        assert format_money(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("currency", "rate", "shown"),
    [
        ("USD", "1.5", "$1.50"),
        ("USD", "0.0812", "$0.0812"),
        ("USD", "0.54600000", "$0.546"),
        ("USD", "0.123456", "$0.12346"),  # at most 5 decimals, half up
        ("USD", "0.000005", "$0.00001"),
        ("USD", "1200", "$1,200.00"),
        ("VND", "12000", "₫12,000"),
        ("VND", "12000.5", "₫12,000.5"),
    ],
)
def test_a_rate_keeps_its_non_zero_decimals_up_to_five(currency, rate, shown):
    assert format_rate(Decimal(rate), currency) == shown


def test_a_rate_follows_the_active_language_and_the_panel_currency():
    with translation.override("vi"):
        assert format_rate(Decimal("0.0812")) == f"0,0812{NBSP}US$"
        with override_settings(PANEL_CURRENCY="VND"):
            assert format_rate(Decimal("12000")) == f"12.000{NBSP}₫"


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("USD", "10.00500", "$10.005"),  # beside a rounded $10.01
        ("USD", "12.00000", "$12.00"),
        ("USD", "-0.00001", "-$0.00001"),
        ("USD", "-0.00000", "$0.00"),
        ("USD", "1234.56789", "$1,234.56789"),
        ("VND", "150000.50000", "₫150,000.5"),
        ("VND", "150000.00000", "₫150,000"),
    ],
)
def test_the_exact_form_shows_every_stored_decimal(currency, amount, shown):
    assert format_money_exact(Decimal(amount), currency) == shown


def test_the_exact_form_follows_the_active_language():
    with translation.override("vi"):
        assert format_money_exact(Decimal("1234.00500")) == f"1.234,005{NBSP}US$"


def test_numbers_are_grouped_as_the_language_groups_them():
    assert format_number(10000) == "10,000"
    with translation.override("vi"):
        assert format_number(10000) == "10.000"


@pytest.mark.parametrize("format_", [format_money, format_rate, format_money_exact])
def test_the_formatters_take_strings_and_ints_but_refuse_floats(format_):
    assert format_("12.5", "USD") == format_(Decimal("12.5"), "USD") == "$12.50"
    assert format_(12, "USD") == "$12.00"
    with pytest.raises(TypeError, match="never a float"):
        format_(0.1, "USD")
    with pytest.raises(ValueError):
        format_("NaN", "USD")


@override_settings(PANEL_CURRENCY="EUR")
def test_the_money_filters_show_the_amount_in_the_panel_currency():
    template = Template(
        "{% load money %}{{ amount|money }}|{{ amount|money:'VND' }}|{{ missing|money }}|"
        "{{ exact|money_exact }}|{{ empty|money_exact }}|{{ count|number }}|{{ empty|number }}"
    )
    context = {"amount": Decimal("9.9"), "exact": Decimal("10.00500"), "count": 10000, "empty": ""}

    assert template.render(Context(context)) == "€9.90|₫10||€10.005||10,000|"


def test_the_money_filter_takes_the_strings_that_emails_pass():
    template = Template("{% load money %}{{ amount|money }}")

    assert template.render(Context({"amount": "1234.5"})) == "$1,234.50"
    assert template.render(Context({"amount": 7})) == "$7.00"
    with translation.override("vi"):
        assert template.render(Context({"amount": "1234.5"})) == f"1.234,50{NBSP}US$"


def test_the_rate_filter_shows_the_symbol():
    template = Template("{% load catalog_tags %}{{ rate|rate }}|{{ rate|rate:'VND' }}|{{ missing|rate }}")

    assert template.render(Context({"rate": Decimal("0.08120000")})) == "$0.0812|₫0.0812|"
