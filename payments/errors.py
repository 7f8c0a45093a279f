"""Why a notification or a gateway call was refused."""

import json


class NotificationRefused(Exception):
    """A notification that changes nothing: answered `status` (400 or 401) with `{"error": message}`.
    The message is short and never carries a secret."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message, self.http_status = message, status


class GatewayError(Exception):
    """The gateway could not start a payment (unreachable, refused): the deposit is canceled, nothing
    was charged. The message is fit for the customer's page."""


MAX_BODY = 256 * 1024  # bytes; every gateway's notification is far smaller


def json_body(payload: bytes) -> object:
    """A notification's JSON body, or NotificationRefused("malformed body")."""
    if len(payload) > MAX_BODY:
        raise NotificationRefused("body too large")
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise NotificationRefused("malformed body") from None
