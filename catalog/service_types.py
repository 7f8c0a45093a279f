"""What each service type takes and how it is counted and priced, in one table (protocol part 2).

Every row names the type's fields, in the order a form shows them; each field's kind says how it is checked
(orders/placement.py does it, for the order form, our API and admin alike) and every field is sent upstream
under its own name. A type missing here is imported from its provider but cannot be sold: a database
constraint keeps its services from being enabled. Adding a type is one row (and a migration for that
constraint); a type with a new field also needs the field's label and help (orders/fields.py).

Standard library only, like the protocol: `make lint` keeps it so.
"""

import enum
from dataclasses import dataclass

from .protocol import ServiceType


class Kind(enum.Enum):
    URL = "url"  # an http(s) link
    COUNT = "count"  # a whole number within the service's min and max
    NUMBER = "number"  # a whole number within the field's own bounds
    TEXT = "text"  # one line
    LINES = "lines"  # one item per line, sent joined by newlines
    DATE = "date"  # a day after today, sent as d/m/Y (protocol.EXPIRY_FORMAT)
    CHOICE = "choice"  # one of a list of minutes the operator sets (settings)


@dataclass(frozen=True)
class Field:
    name: str  # the form field's and the upstream field's name
    kind: Kind
    required: bool = True
    minimum: int = 0  # NUMBER: the smallest value accepted
    setting: str = ""  # NUMBER: the setting that holds the largest; CHOICE: the setting of the choices


class Counting(enum.Enum):
    GIVEN = "given"  # the customer says how many (`quantity`)
    LINES = "lines"  # one per line of a field (`comments`, `usernames`)
    ONE = "one"  # a package: always one
    POSTS = "posts"  # a subscription: posts x the most per post


LINK = Field("link", Kind.URL)
QUANTITY = Field("quantity", Kind.COUNT)
COMMENTS = Field("comments", Kind.LINES)
USERNAMES = Field("usernames", Kind.LINES)
HASHTAGS = Field("hashtags", Kind.LINES)
HASHTAG = Field("hashtag", Kind.TEXT)
USERNAME = Field("username", Kind.TEXT)
MEDIA = Field("media", Kind.URL)
ANSWER_NUMBER = Field("answer_number", Kind.NUMBER, minimum=1, setting="POLL_MAX_ANSWER")
KEYWORDS = Field("keywords", Kind.LINES)
MIN = Field("min", Kind.COUNT)
MAX = Field("max", Kind.COUNT)
POSTS = Field("posts", Kind.NUMBER, minimum=1, setting="SUBSCRIPTION_MAX_POSTS")
OLD_POSTS = Field("old_posts", Kind.NUMBER, required=False, setting="SUBSCRIPTION_MAX_POSTS")
DELAY = Field("delay", Kind.CHOICE, setting="SUBSCRIPTION_DELAYS")
EXPIRY = Field("expiry", Kind.DATE, required=False)
# Drip-feed (part 3): offered on a type that allows it, for services whose provider flags it.
RUNS = Field("runs", Kind.NUMBER, required=False, minimum=2, setting="DRIPFEED_MAX_RUNS")
INTERVAL = Field("interval", Kind.CHOICE, required=False, setting="DRIPFEED_INTERVALS")
DRIPFEED_FIELDS = (RUNS, INTERVAL)


@dataclass(frozen=True)
class TypeRule:
    counting: Counting
    fields: tuple[Field, ...]  # what the customer fills in and `add` sends besides `service`
    per: int = 1000  # how many units a rate is the price of
    count_from: str = "quantity"  # the field whose lines (LINES) or value (GIVEN) is the count
    dripfeed: bool = False  # runs and interval may be added (Default services flagged `dripfeed`)

    @property
    def count_field(self) -> str:
        """The field a quantity problem belongs to on the order form."""
        return MAX.name if self.counting is Counting.POSTS else self.count_from

    @property
    def upstream_fields(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    @property
    def has_link(self) -> bool:
        return LINK in self.fields


def _link_and(*fields: Field, counting: Counting = Counting.GIVEN, **options) -> TypeRule:
    return TypeRule(counting, (LINK, *fields), **options)


T = ServiceType
TYPES: dict[ServiceType, TypeRule] = {
    T.DEFAULT: _link_and(QUANTITY, dripfeed=True),
    T.PACKAGE: _link_and(counting=Counting.ONE, per=1),
    T.CUSTOM_COMMENTS: _link_and(COMMENTS, counting=Counting.LINES, count_from="comments"),
    T.CUSTOM_COMMENTS_PACKAGE: _link_and(COMMENTS, counting=Counting.ONE, per=1),
    T.MENTIONS: _link_and(QUANTITY, USERNAMES),
    T.MENTIONS_WITH_HASHTAGS: _link_and(QUANTITY, USERNAMES, HASHTAGS),
    T.MENTIONS_CUSTOM_LIST: _link_and(USERNAMES, counting=Counting.LINES, count_from="usernames"),
    T.MENTIONS_HASHTAG: _link_and(QUANTITY, HASHTAG),
    T.MENTIONS_USER_FOLLOWERS: _link_and(QUANTITY, USERNAME),
    T.MENTIONS_MEDIA_LIKERS: _link_and(QUANTITY, MEDIA),
    T.COMMENT_LIKES: _link_and(QUANTITY, USERNAME),
    T.POLL: _link_and(QUANTITY, ANSWER_NUMBER),
    T.SEO: _link_and(QUANTITY, KEYWORDS),
    T.SUBSCRIPTIONS: TypeRule(
        Counting.POSTS, (USERNAME, MIN, MAX, POSTS, DELAY, EXPIRY, OLD_POSTS), count_from="max"
    ),
}
# Plain strings, for the database constraint and queries.
SELLABLE_TYPES = tuple(str(service_type) for service_type in TYPES)
# Every field any type takes, once, in a stable order: the order form and our API read these names.
ALL_FIELDS: tuple[Field, ...] = tuple(
    {field.name: field for rule in TYPES.values() for field in (*rule.fields, *DRIPFEED_FIELDS)}.values()
)
FIELDS = {field.name: field for field in ALL_FIELDS}


def type_rule(service_type: str) -> TypeRule | None:
    """The rule of a sellable type, else None."""
    named = ServiceType.named(service_type)
    return TYPES.get(named) if named is not None else None
