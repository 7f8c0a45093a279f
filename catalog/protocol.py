"""The vocabulary of the "SMM panel API v2" (../shared/upstream-api-v2.md), written once.

The upstream client (catalog/upstream.py), our own API (reseller/api) and the provider simulator
(catalog/simulator.py) all speak through these names: the 100-id limit, how a list of ids is split, the
status and service type names, and the error texts clients know. Standard library only, so the simulator
runs without Django; `make lint` keeps it that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

MAX_IDS = 100  # ids per multi call (`orders`, `refills`), both ways

# Error texts clients know (part 2, "Error texts clients know")
INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE_ID = "Incorrect service ID"
INCORRECT_ORDER_ID = "Incorrect order ID"
INCORRECT_LINK = "Incorrect link"
NOT_ENOUGH_FUNDS = "Not enough funds on balance"
REFILL_NOT_FOUND = "Refill not found"
ACTIVE_ORDER_WITH_LINK = "You have active order with this link. Please wait until order being completed."
CANCEL_NOT_ACCEPTED = "Cancel was not accepted"
# Ours, in the same style: an `add` of a Custom Comments service without any comments.
COMMENTS_REQUIRED = "Comments are required: one per line"
DRIPFEED_NOT_AVAILABLE = "Drip-feed is not available for this service"
EXPIRY_FORMAT = "%d/%m/%Y"  # a subscription's `expiry`, d/m/Y (part 3)


def quantity_below_min(minimum: int) -> str:
    return f"Quantity less than minimal {minimum}"


def quantity_above_max(maximum: int) -> str:
    return f"Quantity more than maximum {maximum}"


def _folded_error(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".! ")


def error_is(text: Any, known: str) -> bool:
    """Whether a provider's error text is the known one, compared without regard to case, spacing or a
    final full stop ("incorrect link." is Incorrect link)."""
    return isinstance(text, str) and _folded_error(text) == _folded_error(known)


def is_quantity_limit_error(text: Any) -> bool:
    """Whether a provider's error text is "Quantity less than minimal N" or "Quantity more than maximum N"."""
    if not isinstance(text, str):
        return False
    limits = "|".join(
        re.escape(_folded_error(say(0)[:-1])) for say in (quantity_below_min, quantity_above_max)
    )
    return re.fullmatch(rf"(?:{limits})\s*\d+", _folded_error(text)) is not None


class OrderStatus(StrEnum):
    """An order's status as the protocol spells it."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"


class RefillStatus(StrEnum):
    """A refill's status as the protocol spells it."""

    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    REJECTED = "Rejected"


class SubscriptionStatus(StrEnum):
    """A subscription's status (part 3); `status` of a subscription answers one of these."""

    ACTIVE = "Active"
    PAUSED = "Paused"
    COMPLETED = "Completed"
    EXPIRED = "Expired"
    CANCELED = "Canceled"


# Other spellings providers send, after case and spaces are folded ("In Progress", "Cancelled").
_STATUS_ALIASES = {"cancelled": "canceled", "inprogress": "in progress"}


S = TypeVar("S", bound=StrEnum)


def status_named(text: Any, statuses: type[S]) -> S | None:
    """The status `text` names, compared without regard to case, spacing or the usual variant spellings;
    None when it names none of `statuses`."""
    if not isinstance(text, str):
        return None
    folded = " ".join(text.split()).lower()
    return _folded(statuses).get(_STATUS_ALIASES.get(folded, folded))


@cache
def _folded(statuses: type[S]) -> dict[str, S]:
    """Each status by its lower-case name (the first of any two alike), once per enum: a status answer
    names a status for each of its hundred orders."""
    named: dict[str, S] = {}
    for status in statuses:
        named.setdefault(status.lower(), status)
    return named


class ServiceType(StrEnum):
    """The service types of part 2, as `services` names them. Providers may list others: those are kept as
    text and never sold."""

    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    COMMENT_LIKES = "Comment Likes"
    POLL = "Poll"
    SEO = "SEO"
    SUBSCRIPTIONS = "Subscriptions"

    @classmethod
    def named(cls, text: str) -> ServiceType | None:
        """The type `text` names exactly (as providers list it), else None."""
        try:
            return cls(text)
        except ValueError:
            return None


# Ids -------------------------------------------------------------------------------------------------------


def split_ids(text: str, *, unique: bool = True) -> list[str]:
    """The ids of a multi call ("123,456,789") as sent, without blanks and repeats, in their order.
    `unique=False` keeps the repeats, for a provider that answers every id as often as it was sent.

    Raises ValueError when there are none or more than MAX_IDS: the call is an "Incorrect request"."""
    tokens = [token.strip() for token in (text or "").split(",") if token.strip()]
    if unique:
        tokens = list(dict.fromkeys(tokens))
    if not tokens or len(tokens) > MAX_IDS:
        raise ValueError(INCORRECT_REQUEST)
    return tokens


def join_ids(ids: Iterable[Any]) -> str:
    return ",".join(str(item) for item in ids)


def chunks(ids: Sequence[str], size: int = MAX_IDS) -> Iterator[list[str]]:
    """`ids` in runs of at most `size`: one multi call each."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def parse_id(value: Any) -> str:
    """An upstream id in its canonical form: ids come as ints or strings, and "007", 7 and "7.0" are the same
    id. Raises ValueError for anything that is no id."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an id: {value!r}")
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return str(int(text))
    if re.fullmatch(r"\d+\.0*", text):
        try:
            return str(int(Decimal(text)))
        except InvalidOperation:  # more digits than the decimal context holds
            raise ValueError(f"not an id: {value!r}") from None
    if not text or len(text) > 64 or not re.fullmatch(r"[\w-]+", text):
        raise ValueError(f"not an id: {value!r}")
    return text


def number_id(token: Any, *, max_digits: int | None = None) -> int | None:
    """A numeric id as sent ("23501"), else None: ASCII digits only, at most `max_digits` of them."""
    text = str(token if token is not None else "").strip()
    if not (text and text.isascii() and text.isdigit()):
        return None
    if max_digits is not None and len(text) > max_digits:
        return None
    return int(text)
