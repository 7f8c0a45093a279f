from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def rate(value):
    """A rate per 1000 at the panel's rate precision (it is already rounded up to it)."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-settings.PANEL_RATE_DECIMALS)):,}"
