from django import template
from django.utils.translation import gettext, ngettext

from reseller.money import format_rate

register = template.Library()


@register.filter
def rate(value, currency=None):
    """`{{ service.customer_rate|rate }}`: a price per 1000 with the currency symbol, `$0.0812`, keeping
    the decimals that are not zero (at most 5)."""
    if value in (None, ""):
        return ""
    return format_rate(value, currency)


@register.filter
def completion(value):
    """`{{ service.completion_time|completion }}`: a duration told briefly, "about 2 h 15 min". Rounded to
    the minute under an hour, to five minutes under a day, then to the day: an average, not a promise."""
    if value in (None, ""):
        return ""
    seconds = value.total_seconds()
    if seconds < 60:
        return gettext("under a minute")
    minutes = round(seconds / 60)
    if minutes < 60:
        return ngettext("about %(minutes)d min", "about %(minutes)d min", minutes) % {"minutes": minutes}
    minutes = 5 * round(minutes / 5)
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        if not minutes:
            return ngettext("about %(hours)d h", "about %(hours)d h", hours) % {"hours": hours}
        return gettext("about %(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    days = round(seconds / 86400)
    return ngettext("about %(days)d day", "about %(days)d days", days) % {"days": days}
