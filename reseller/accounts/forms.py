"""The customer's preferences form, on the account page. It validates; services.py saves."""

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .models import User, time_zone_names

# Shown first in the time zone list: where most customers are, then the usual references.
COMMON_TIME_ZONES = (
    "Asia/Ho_Chi_Minh",
    "UTC",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Manila",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
)


def time_zone_choices() -> list:
    """Blank (the panel's zone), the common zones, then every zone this machine knows, A to Z."""
    known = time_zone_names()
    return [
        ("", _("The panel's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}),
        (_("Common"), [(name, name) for name in COMMON_TIME_ZONES if name in known]),
        (_("All time zones"), [(name, name) for name in sorted(known)]),
    ]


class QuickSelect(forms.Select):
    """A select whose options are written here rather than through a template each: Django's took 30 ms
    for the 600 time zones, most of the account page's time. The same HTML (options' own attributes
    aside, which these have none of)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group, options, _index in widget["optgroups"]:
            rows = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], mark_safe(" selected") if o["selected"] else "", o["label"]) for o in options),
            )
            groups.append(format_html('<optgroup label="{}">{}</optgroup>', group, rows) if group else rows)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(widget["attrs"]),
            format_html_join("", "{}", ((g,) for g in groups)),
        )


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, widget=QuickSelect)
    email_notifications = forms.BooleanField(
        label=_(
            "Email me when an order is refunded, a refill completes, funds are credited "
            "or support answers my ticket"
        ),
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "language": user.language,
                "time_zone": user.time_zone,
                "email_notifications": user.email_notifications,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The browser's language")), *settings.LANGUAGES]
        self.fields["time_zone"].choices = time_zone_choices()
