"""Why an order, or an action on one, was refused: in the customer's words, and as a code for machines."""

from django.utils.functional import Promise, lazy


class OrderError(Exception):
    """A refused placement or action: nothing was charged or changed.

    `message` is the customer's text, translatable and usually lazy: it is rendered in the language active
    where it is shown (str() it there; our API shows it under English). `code` names the reason for
    machines (our API answers the protocol's text for it), `field` the form field it concerns, if any."""

    def __init__(self, message: str | Promise, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field


def _interpolated(message: str | Promise, values: dict) -> str:
    return str(message) % {name: str(value) for name, value in values.items()}


# `message % values`, done only when the text is shown, so that both the sentence and the values (lazy
# numbers in the language's grouping) come out in the language active then:
# interpolate_lazy(gettext_lazy("The quantity must be at least %(min)s."), {"min": lazy_number(10)}).
interpolate_lazy = lazy(_interpolated, str)
