"""What the admin's pages share: short times, status badges coloured by what a status asks of an operator
(django-unfold's `display(label=...)`), unfold's look on plain forms, read-only admins."""

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from unfold.widgets import INPUT_CLASSES, TEXTAREA_CLASSES

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


def admin_look(form):
    """Unfold styles its own ModelAdmin forms only: its look on this plain form's fields too."""
    for field in form.fields.values():
        classes = TEXTAREA_CLASSES if isinstance(field.widget, forms.Textarea) else INPUT_CLASSES
        field.widget.attrs["class"] = " ".join(classes)
    return form


class ReadOnly:
    """An admin that shows rows written elsewhere (a service, a check) and never adds, changes or deletes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
