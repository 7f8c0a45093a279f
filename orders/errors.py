class OrderError(Exception):
    """A refused placement or action: nothing was charged or changed. `code` names the reason for the API,
    `field` the form field it concerns, if any."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.message, self.code, self.field = message, code, field
