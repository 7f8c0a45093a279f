"""What a deposit is worth: the exchange rate into the panel currency, the method's fee, the bonus tier."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.conf import settings

from reseller.money import quantize_amount

from .models import BonusTier, ExchangeRate, PaymentMethod

HUNDRED = Decimal(100)


def _places() -> Decimal:
    """Deposits are figured to 5 places, or to whole units in a panel currency without minor units (no
    balance of fractions of a dong)."""
    return Decimal(1) if settings.PANEL_CURRENCY in settings.ZERO_DECIMAL_CURRENCIES else Decimal("0.00001")


class NoExchangeRate(Exception):
    """The operator has not set what this currency is worth in the panel currency."""


@dataclass(frozen=True)
class Quote:
    amount: Decimal  # what the customer pays, in `currency`
    currency: str
    rate: Decimal  # panel currency per unit of `currency`
    value: Decimal  # amount x rate
    fee: Decimal
    credited: Decimal  # value - fee
    bonus: Decimal

    @property
    def total(self) -> Decimal:
        return self.credited + self.bonus


def exchange_rate(currency: str) -> Decimal:
    """Panel currency per unit of `currency`; 1 for the panel currency itself."""
    currency = currency.upper()
    if currency == settings.PANEL_CURRENCY:
        return Decimal(1)
    rate = ExchangeRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    if rate is None:
        raise NoExchangeRate(currency)
    return rate


def bonus_percent(credited: Decimal) -> Decimal:
    """The percent of the highest tier the amount reaches; 0 without one."""
    tier = BonusTier.objects.filter(min_amount__lte=credited).order_by("-min_amount").first()
    return tier.percent if tier else Decimal(0)


def deposit_quote(
    *, config: PaymentMethod, amount: Decimal, currency: str, rate: Decimal | None = None, bonus: bool = True
) -> Quote:
    """The figures of a deposit of `amount` in `currency` by this method. The value and the bonus are
    rounded down, the fee up (never more than the value)."""
    amount = quantize_amount(amount)
    places = _places()
    rate = exchange_rate(currency) if rate is None else rate
    value = (amount * rate).quantize(places, rounding=ROUND_DOWN)
    fee = (value * config.fee_percent / HUNDRED + config.fee_fixed).quantize(places, rounding=ROUND_UP)
    fee = min(fee, value)
    credited = value - fee
    percent = bonus_percent(credited) if bonus and credited > 0 else Decimal(0)
    extra = (credited * percent / HUNDRED).quantize(places, rounding=ROUND_DOWN)
    return Quote(amount, currency.upper(), rate, value, fee, credited, extra)
