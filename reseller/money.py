"""Money: the one place where amounts are rounded, and how they are shown.

Amounts are stored with 5 decimal places, as the provider protocol's charges are. `quantize_amount` is the
only rounding of what is stored: half away from zero (ROUND_HALF_UP) by default; an order's charge rounds up,
a partial refund and an affiliate's commission round down (catalog/pricing.py and affiliates/commissions.py
pass those rules in), so that rounding never loses the panel money, never refunds more than was undelivered
and never pays a commission above its exact share.

Display goes through Babel in the active Django language: the panel currency's symbol, that language's
separators, symbol placement and minus sign (`$1,234.56` and `-$1.50` in English, `1.234,56 US$` in
Vietnamese, `₫1,234` and `1.234 ₫` for VND), and never `-0`. A currency's decimals are 0 for
ZERO_DECIMAL_CURRENCIES (Babel agrees for all of them), else 2.
- `format_money` rounds half up to the currency's decimals, so a column of amounts lines up ($2.41, $0.08,
  $100.00) and a balance shows what the customer can think in. A non-zero amount under one minor unit would
  round to a misleading zero, so it keeps the decimals it needs, at most 5: `$0.00156`, `$0.005`.
- `format_rate` (a price per 1000, often fractions of a cent) shows at least the currency's decimals and more
  only when they are not zero, at most 5 (rounded half up): `$1.50`, `$0.0812`, `$0.12346`.
- `format_money_exact` shows every non-zero stored decimal, for the exact amount beside the rounded one.
- `format_number` is a whole number with the language's grouping: `10,000`, `10.000`.
Only the display rounds here; what is stored, charged and returned by the API keeps its 5 places.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern
from django.conf import settings
from django.db import models
from django.utils.translation import get_language, to_locale

STORED_PLACES = 5
STORED_QUANTUM = Decimal(1).scaleb(-STORED_PLACES)  # 0.00001
# max_digits=20 with 5 places leaves 15 digits before the point.
MAX_ABS_AMOUNT = Decimal(10) ** (20 - STORED_PLACES)


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money must be a Decimal (or int or str), never a float.")
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"Money must be a Decimal, not {type(value).__name__}.")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of money.") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount of money.")
    return amount


def money_field(**kwargs) -> models.DecimalField:
    """The model field of a stored amount: 5 places, up to MAX_ABS_AMOUNT."""
    return models.DecimalField(max_digits=20, decimal_places=5, **kwargs)


def quantize_amount(value: Decimal | int | str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """The stored form of an amount: a finite Decimal with exactly 5 places. Floats are refused, since
    they cannot say 0.1 exactly.

    Rounding is half away from zero unless the caller's rule says otherwise: an order's charge rounds up
    (ROUND_CEILING, never undercharging), a partial refund rounds down (ROUND_FLOOR, never refunding more
    than the undelivered share), and so does a commission (never above its exact share). Those are the
    only others: catalog/pricing.py and affiliates/commissions.py."""
    amount = _to_decimal(value)
    if abs(amount) >= MAX_ABS_AMOUNT:
        raise ValueError(f"{value} is too large an amount.")
    amount = amount.quantize(STORED_QUANTUM, rounding=rounding)
    if abs(amount) >= MAX_ABS_AMOUNT:  # 999999999999999.999995 rounds up past the limit
        raise ValueError(f"{value} is too large an amount.")
    return amount


def currency_places(currency: str | None = None) -> int:
    """How many decimals the currency shows: 0 for currencies without minor units, else 2."""
    currency = (currency or settings.PANEL_CURRENCY).upper()
    return 0 if currency in settings.ZERO_DECIMAL_CURRENCIES else 2


def format_money(amount: Decimal | int | str, currency: str | None = None) -> str:
    """`$12.50`: rounded half up to the currency's decimals, unless that would turn a non-zero amount
    into zero (`$0.00156`)."""
    currency = (currency or settings.PANEL_CURRENCY).upper()
    amount = _to_decimal(amount)
    places = currency_places(currency)
    minor_unit = Decimal(1).scaleb(-places)
    if 0 < abs(amount) < minor_unit:
        amount = amount.quantize(STORED_QUANTUM, rounding=ROUND_HALF_UP)
        places = max(places, _places_needed(amount))
    return _format(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), currency, places)


def format_rate(rate: Decimal | int | str, currency: str | None = None) -> str:
    """A price per 1000: `$1.50`, `$0.0812`; the currency's decimals and the non-zero ones past them,
    at most 5."""
    currency = (currency or settings.PANEL_CURRENCY).upper()
    rate = _to_decimal(rate).quantize(STORED_QUANTUM, rounding=ROUND_HALF_UP)
    return _format(rate, currency, max(currency_places(currency), _places_needed(rate)))


def format_money_exact(amount: Decimal | int | str, currency: str | None = None) -> str:
    """Every non-zero decimal, at least the currency's: `$10.00500` as `$10.005`. Never rounds."""
    currency = (currency or settings.PANEL_CURRENCY).upper()
    amount = _to_decimal(amount)
    return _format(amount, currency, max(currency_places(currency), _places_needed(amount)))


def format_number(number: int) -> str:
    """A whole number with the active language's grouping: `10,000` in English, `10.000` in Vietnamese."""
    return format_decimal(number, locale=_active_locale())


def _places_needed(amount: Decimal) -> int:
    """Decimals up to the last non-zero one: 2 for 1.50000, 0 for 12000.00000."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _format(amount: Decimal, currency: str, places: int) -> str:
    if amount == 0:
        amount = amount.copy_abs()  # never "-$0.00"
    locale = _active_locale()
    pattern = _currency_pattern(str(locale), places)
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def _active_locale() -> Locale:
    return _babel_locale(get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=32)
def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(to_locale(settings.LANGUAGE_CODE))


@lru_cache(maxsize=64)
def _currency_pattern(locale_name: str, places: int) -> NumberPattern:
    """The locale's currency pattern with exactly `places` decimals (its own says 2 for every currency)."""
    pattern = parse_pattern(Locale.parse(locale_name).currency_formats["standard"].pattern)
    pattern.frac_prec = (places, places)
    return pattern
