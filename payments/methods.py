"""Which methods customers may use: configured (the gateway's credentials are set), enabled by the operator
(payments.PaymentMethod, defaults without a row) and, for a currency other than the panel's, with an
exchange rate set."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from .models import ExchangeRate, Method, PaymentMethod

CUSTOMER_METHODS = (Method.STRIPE, Method.PAYOS, Method.BANK)


@dataclass(frozen=True)
class MethodInfo:
    method: str
    name: str
    currency: str
    config: PaymentMethod

    @property
    def min_amount(self) -> Decimal | None:
        return self.config.min_amount

    @property
    def max_amount(self) -> Decimal | None:
        return self.config.max_amount


def method_currency(method: str) -> str:
    if method == Method.STRIPE:
        return settings.STRIPE_CURRENCY
    if method in (Method.PAYOS, Method.BANK):
        return "VND"
    return settings.PANEL_CURRENCY


def method_configured(method: str) -> bool:
    """Whether the gateway's credentials are all set (a method without them is hidden)."""
    needed = {
        Method.STRIPE: [settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET],
        Method.PAYOS: [settings.PAYOS_CLIENT_ID, settings.PAYOS_API_KEY, settings.PAYOS_CHECKSUM_KEY],
        Method.BANK: [settings.SEPAY_API_KEY, settings.BANK_BIN, settings.BANK_ACCOUNT_NUMBER],
    }.get(method)
    return bool(needed) and all(needed)


def method_config(method: str) -> PaymentMethod:
    """The operator's row for the method, or an unsaved one with the defaults."""
    return PaymentMethod.objects.filter(method=method).first() or PaymentMethod(method=method)


def _info(config: PaymentMethod) -> MethodInfo:
    name = config.display_name or Method(config.method).label
    return MethodInfo(config.method, name, method_currency(config.method), config)


def methods_available() -> list[MethodInfo]:
    """The methods shown to customers, in the operator's order."""
    rows = {row.method: row for row in PaymentMethod.objects.filter(method__in=CUSTOMER_METHODS)}
    rates = set(ExchangeRate.objects.values_list("currency", flat=True)) | {settings.PANEL_CURRENCY}
    infos = []
    for method in CUSTOMER_METHODS:
        config = rows.get(method) or PaymentMethod(method=method, position=CUSTOMER_METHODS.index(method))
        if config.enabled and method_configured(method) and method_currency(method) in rates:
            infos.append(_info(config))
    return sorted(infos, key=lambda info: (info.config.position, CUSTOMER_METHODS.index(info.method)))


def method_available(method: str) -> MethodInfo | None:
    return next((info for info in methods_available() if info.method == method), None)
