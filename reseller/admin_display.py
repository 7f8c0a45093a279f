"""What the admin's lists share: short times, and status badges coloured by what a status asks of an
operator (django-unfold's `display(label=...)`)."""

from django.utils import timezone
from django.utils.formats import date_format

# unfold's badge colours
GOOD, BUSY, WAITING, BAD, NEUTRAL = "success", "info", "warning", "danger", ""


def short_time(moment) -> str:
    """`02 Dec 06:56` in the admin's time zone (the year only when it is not this one)."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    shape = "d M H:i" if local.year == timezone.localtime().year else "d M Y H:i"
    return date_format(local, shape)


def badges(choices, **colours) -> dict[str, str]:
    """Every value of `choices` with its colour: those named (by value) get theirs, the others none."""
    return {value: colours.get(value, NEUTRAL) for value in choices.values}
