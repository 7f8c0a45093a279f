from django import template

from reseller.money import format_money

register = template.Library()


@register.filter(name="money")
def money(amount, currency=None):
    """`{{ amount|money }}` shows `12.50 USD` in the panel currency; `{{ amount|money:"VND" }}` in another."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency)
