"""The words for the order types' fields (catalog/service_types.py holds their rules): each field's label
and hint on the order form and in admin, and the choices an operator sets for it."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from catalog.protocol import ServiceType
from catalog.service_types import ALL_FIELDS, DRIPFEED_FIELDS, TYPES, Field, Kind

LABELS = {
    "link": _("Link"),
    "quantity": _("Quantity"),
    "comments": _("Comments"),
    "usernames": _("Usernames"),
    "hashtags": _("Hashtags"),
    "hashtag": _("Hashtag"),
    "username": _("Username"),
    "media": _("Media link"),
    "answer_number": _("Answer number"),
    "keywords": _("Keywords"),
    "min": _("Minimum per post"),
    "max": _("Maximum per post"),
    "posts": _("Posts"),
    "old_posts": _("Old posts"),
    "delay": _("Delay"),
    "expiry": _("Expiry"),
    "runs": _("Runs"),
    "interval": _("Interval"),
}
HINTS = {
    "comments": _("One per line; the quantity is their number."),
    "usernames": _("One per line, without @."),
    "hashtags": _("One per line."),
    "keywords": _("One per line."),
    "username": _("Without @."),
    "media": _("The post whose likers are mentioned."),
    "answer_number": _("The answer's number in the poll, from 1."),
    "posts": _("How many new posts to serve; you pay for this many at the maximum."),
    "old_posts": _("Existing posts to include (optional, at most the posts)."),
    "delay": _("Minutes after a post appears."),
    "expiry": _("Optional: the last day."),
    "runs": _("Empty for one delivery; 2 or more to split it into runs of this quantity each."),
    "interval": _("Minutes between two runs."),
}
FIELD_NAMES = tuple(field.name for field in ALL_FIELDS)
assert set(LABELS) == {field.name for field in ALL_FIELDS}, "every field of the type table needs a label"


def label(name: str) -> str:
    return LABELS[name]


def choices(field: Field) -> list[int]:
    """The minutes a CHOICE field offers (the operator's settings)."""
    return list(getattr(settings, field.setting)) if field.kind is Kind.CHOICE else []


def maximum(field: Field) -> int | None:
    """The largest value a NUMBER field takes (a setting), if it has one."""
    return getattr(settings, field.setting) if field.kind is Kind.NUMBER and field.setting else None


@dataclass(frozen=True)
class FormField:
    """One field of the order form as the template draws it."""

    name: str
    label: str
    hint: str
    kind: str  # a Kind's value: how it is drawn
    required: bool
    value: str
    error: str | None
    choices: tuple[int, ...]

    @property
    def widget(self) -> str:
        return {"lines": "textarea", "choice": "select", "url": "url", "date": "date"}.get(self.kind, "text")

    @property
    def describedby(self) -> str:
        """The ids of the error and the hint, for aria-describedby."""
        ids = [f"error-{self.name}"] if self.error else []
        return " ".join(ids + ([f"hint-{self.name}"] if self.hint else []))

    @property
    def numeric(self) -> bool:
        return self.kind in ("count", "number")


def form_fields(service, data, errors) -> list[FormField]:
    """The fields the order form shows for this service (a Default service's when none is chosen yet),
    drip-feed's last where the service offers it; with the values typed and each one's problem."""
    rule = service.type_rule if service is not None else TYPES[ServiceType.DEFAULT]
    fields = list(rule.fields)
    if service is not None and service.offers_dripfeed:
        fields += DRIPFEED_FIELDS
    return [
        FormField(
            name=field.name,
            label=LABELS[field.name],
            hint=HINTS.get(field.name, ""),
            kind=field.kind.value,
            required=field.required,
            value=str(data.get(field.name) or ""),
            error=errors.get(field.name),
            choices=tuple(choices(field)),
        )
        for field in fields
    ]


# Shown on their own (the link, the quantity, drip-feed's runs and interval): not among the details.
SHOWN_APART = {"link", "quantity", "comments", "runs", "interval"}


def order_details(order) -> list[tuple[str, str]]:
    """The order's other fields as it was placed, labelled (usernames, keywords, a subscription's ...)."""
    return [
        (LABELS.get(name, name), value)
        for name, value in order.upstream_fields.items()
        if name not in SHOWN_APART
    ]
