"""Why a customer's or an operator's action on a ticket was refused, in words fit to show them."""

from django.utils.functional import Promise


class SupportError(Exception):
    """A refused action: nothing was created or changed. `message` is translated (lazily for customers),
    `field` the form field it concerns, if any."""

    def __init__(self, message: str | Promise, *, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field
