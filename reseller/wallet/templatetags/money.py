from django import template

from reseller.money import format_money, format_money_exact, format_number

register = template.Library()


@register.filter(name="money")
def money(amount, currency=None):
    """`{{ amount|money }}` shows `$12.50` in the panel currency and the active language;
    `{{ amount|money:"VND" }}` in another currency. Takes a Decimal, an int or a numeric string (emails)."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency)


@register.filter(name="money_exact")
def money_exact(amount, currency=None):
    """`{{ entry.amount|money_exact }}`: every stored decimal that is not zero, `$10.005`."""
    if amount is None or amount == "":
        return ""
    return format_money_exact(amount, currency)


@register.filter(name="number")
def number(value):
    """`{{ order.quantity|number }}`: `10,000` in English, `10.000` in Vietnamese."""
    if value is None or value == "":
        return ""
    return format_number(value)
