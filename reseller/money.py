"""Money: the one place where amounts are rounded, and how they are shown.

Amounts are stored with 5 decimal places, as the provider protocol's charges are. `quantize_amount` is the
only rounding: half away from zero (ROUND_HALF_UP) by default; an order's charge rounds up and a partial
refund rounds down (catalog/pricing.py passes those rules in), so that rounding never loses the panel money
and never refunds more than was undelivered.

Display never rounds: an amount shows at least the panel currency's decimals (0 for currencies without minor
units, else 2) and more only when there are non-zero digits past them, so a balance of 0.00123 USD does not
show as 0.00 and 10.005 does not show as 10.01.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

STORED_PLACES = 5
STORED_QUANTUM = Decimal(1).scaleb(-STORED_PLACES)  # 0.00001
# max_digits=20 with 5 places leaves 15 digits before the point.
MAX_ABS_AMOUNT = Decimal(10) ** (20 - STORED_PLACES)


def quantize_amount(value: Decimal | int | str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """The stored form of an amount: a finite Decimal with exactly 5 places. Floats are refused, since
    they cannot say 0.1 exactly.

    Rounding is half away from zero unless the caller's rule says otherwise: an order's charge rounds up
    (ROUND_CEILING, never undercharging), a partial refund rounds down (ROUND_FLOOR, never refunding more
    than the undelivered share). Those are the only other two, both in catalog/pricing.py."""
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


def format_amount(amount: Decimal | int, currency: str | None = None) -> str:
    """`1234.5` as `1,234.50` in USD; extra decimals only when they are not zero (`0.00123`)."""
    amount = Decimal(amount)
    places = currency_places(currency)
    exponent = amount.normalize().as_tuple().exponent
    significant = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    shown = max(places, significant)
    if amount == 0:
        amount = abs(amount)  # never "-0.00"
    return f"{amount:,.{shown}f}"


def format_money(amount: Decimal | int, currency: str | None = None) -> str:
    """`format_amount` followed by the currency code: `12.50 USD`."""
    currency = (currency or settings.PANEL_CURRENCY).upper()
    return f"{format_amount(amount, currency)} {currency}"
