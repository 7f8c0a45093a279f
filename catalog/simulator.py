"""A simulated upstream provider speaking SMM panel API v2 over real HTTP.

Development and tests talk to it instead of a real provider: it keeps a catalog, a balance, orders and
refills, moves them along a clock that tests can advance, and can misbehave on demand (injected faults) or
answer with the representation quirks of real providers. Stdlib only, so it runs without Django or a database.

Conventions where the card is silent:
- Each service type of part 2 has one row in `_ADD_FIELDS`: the `add` fields it requires and how its quantity
  is counted. A required field that is absent or blank is an "Incorrect request", nothing charged; a link that
  is sent but no URL is an "Incorrect link". A type without a row (one the protocol does not know) is refused
  as an "Incorrect request": it is listed, never sold.
- Every order keeps the fields of its `add` as received (all but key, action and service), so tests can see
  what a panel sent.
- A Package and a Custom Comments Package are sold whole: the order's quantity is 1 and its charge is the
  rate (the rate is the price of one package, not per 1000).
- Refunds go back to the simulator's balance once, when an order turns Partial or Canceled; the reported
  charge is what the order finally cost.
- Drip-feed (`runs` + `interval` on a Default service whose `dripfeed` flag is true): the quantity is per
  run and limited per run; the order is `runs x quantity`, paid at placement. Run k is done at
  created + k x step_seconds + (k - 1) x interval x minute_seconds, and gets a child order id. `status`
  answers the whole order (`dripfeed_shape` "whole") or `{status, runs, orders}` ("runs").
- Subscriptions: one post served every step_seconds while Active (not while Paused), each a child order id.
  `posts` > 0 is paid for up front (posts x max x rate / 1000), the unserved share refunded once when it
  ends; unlimited ones (posts 0) pay max x rate / 1000 per post as it is served, even below a zero balance.
  An `expiry` date ends it (Expired) once the simulator's date (UTC) is past it. `min`, `max`, `delay` and
  `old_posts` are checked and kept, and change nothing else.
- Child ids (runs and posts) come from their own counter, in the order the runs and posts happened, so they
  depend on the seed and the clock, not on which order was asked about first.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from catalog import protocol
from catalog.fake_server import FakeHTTPServer, ServerRunner
from catalog.protocol import OrderStatus, RefillStatus, ServiceType, SubscriptionStatus

logger = logging.getLogger("catalog.simulator")

CENTS = Decimal("0.00001")
FIRST_ORDER_ID = 10001
FIRST_CHILD_ID = 500001  # the orders a drip-feed run or a subscription's post becomes

ORDER_STAGES = (OrderStatus.PENDING, OrderStatus.IN_PROGRESS, OrderStatus.PROCESSING)
REFILL_STAGES = (RefillStatus.PENDING, RefillStatus.IN_PROGRESS)
ORDER_FINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED})
REFILL_FINAL = frozenset({RefillStatus.COMPLETED, RefillStatus.REJECTED})
SUBSCRIPTION_OPEN = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED})

FAULTS = frozenset({"error", "http500", "html", "broken", "timeout", "reset", "http429"})
UNPROCESSED_FAULTS = frozenset({"error", "http500", "html", "http429"})
THROTTLE_SECONDS = 30  # the Retry-After of the "http429" fault
DRIPFEED_SHAPES = ("whole", "runs")
NOT_ADD_FIELDS = frozenset({"key", "action", "service"})


@dataclass
class SimulatorConfig:
    key: str = "sim-key"
    seed: int = 0
    currency: str = "USD"
    balance: Decimal = Decimal("1000")
    services: int = 0  # 0 = the built-in catalog; N > 0 = N generated services (sync benchmarks)
    step_seconds: float = 5.0  # how long each stage lasts; also a drip-feed's run and a subscription's post
    partial_share: float = 0.2
    cancel_share: float = 0.1
    refill_reject_share: float = 0.2
    expire_share: float = 0.1  # subscriptions (posts > 1) that expire before all their posts are served
    minute_seconds: float = 0.0  # how long a minute of drip-feed interval lasts: 0, intervals take no time
    dripfeed_shape: str = "whole"  # how `status` answers a drip-feed: "whole" or "runs" (part 3)
    latency: float = 0.0  # seconds added before every answer
    hang_seconds: float = 5.0  # how long the "timeout" fault sleeps before answering
    quirks: bool = False
    fault_rate: float = 0.0  # share of requests that get a random fault from `faults` (demos, soak runs)
    faults: tuple[str, ...] = ("error", "http500", "html", "broken", "timeout", "reset")


@dataclass(frozen=True)
class Service:
    id: int
    name: str
    type: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool | None = None
    desc: str | None = None


@dataclass
class Order:
    id: int
    service: int
    link: str
    quantity: int  # the whole order: runs x quantity for a drip-feed
    charge: Decimal  # what the order costs now: the price minus any refund
    status: OrderStatus
    remains: int
    start_count: int
    created_at: float
    outcome: OrderStatus  # the final status, decided at creation
    final_remains: int
    fields: dict[str, str] = field(default_factory=dict)  # the add's fields but key, action and service
    runs: int = 0  # drip-feed runs asked for; 0: not a drip-feed
    interval: int = 0  # minutes between runs
    final_runs: int = 0  # the runs a drip-feed does before it ends, decided at creation
    runs_done: int = 0
    children: list[int] = field(default_factory=list)  # a child order id per run done

    @property
    def run_quantity(self) -> int:
        return self.quantity // self.runs if self.runs else self.quantity


@dataclass
class Subscription:
    """Auto-likes or views on the future posts of `username` (part 3); each served post is a child order."""

    id: int
    service: int
    username: str
    min: int
    max: int
    delay: int  # minutes
    posts: int  # future posts to serve; 0: unlimited
    old_posts: int
    expiry: date | None
    charge: Decimal  # paid posts minus any refund; for an unlimited one, the posts served so far
    post_price: Decimal  # max x rate / 1000
    status: SubscriptionStatus
    created_at: float
    outcome: SubscriptionStatus  # how it ends by itself, decided at creation; Active: it does not
    served_cap: int  # the posts served before it ends by its outcome (0: no cap)
    end_post: int  # the post slot at which it ends by its outcome (0: never)
    deadline: float | None  # the simulator-clock moment its expiry date is past
    fields: dict[str, str] = field(default_factory=dict)
    served: int = 0
    children: list[int] = field(default_factory=list)  # a child order id per served post
    paused_at: float | None = None
    paused_total: float = 0.0


@dataclass
class Refill:
    id: int
    order: int
    status: RefillStatus
    created_at: float
    outcome: RefillStatus


@dataclass
class _Fault:
    kind: str
    action: str | None
    remaining: int


class _Refusal(Exception):
    """A request the provider turns down with an error text; nothing has changed."""


# How an add counts its quantity
BY_QUANTITY = "quantity"  # the `quantity` field
BY_LINES = "lines"  # the non-blank lines of the rule's `lines_of` field
WHOLE = "whole"  # one, at the rate
PER_POST = "posts"  # a subscription: charged per post


@dataclass(frozen=True)
class AddFields:
    """What an `add` of one service type must carry (part 2, "add fields by service type")."""

    required: tuple[str, ...]
    count: str = BY_QUANTITY
    lines_of: str = ""
    numbers: dict[str, int] = field(default_factory=dict)  # whole-number fields and the least each may be
    urls: tuple[str, ...] = ()  # fields besides the link that must be a URL
    dripfeed: bool = False  # takes the optional `runs` and `interval`


T = ServiceType  # short, so that every row below stays on one line
F = AddFields

_ADD_FIELDS: dict[ServiceType, AddFields] = {
    T.DEFAULT: F(("link", "quantity"), numbers={"runs": 1, "interval": 0}, dripfeed=True),
    T.PACKAGE: F(("link",), count=WHOLE),
    T.CUSTOM_COMMENTS: F(("link", "comments"), count=BY_LINES, lines_of="comments"),
    T.CUSTOM_COMMENTS_PACKAGE: F(("link", "comments"), count=WHOLE),
    T.MENTIONS: F(("link", "quantity", "usernames")),
    T.MENTIONS_WITH_HASHTAGS: F(("link", "quantity", "usernames", "hashtags")),
    T.MENTIONS_CUSTOM_LIST: F(("link", "usernames"), count=BY_LINES, lines_of="usernames"),
    T.MENTIONS_HASHTAG: F(("link", "quantity", "hashtag")),
    T.MENTIONS_USER_FOLLOWERS: F(("link", "quantity", "username")),
    T.MENTIONS_MEDIA_LIKERS: F(("link", "quantity", "media"), urls=("media",)),
    T.COMMENT_LIKES: F(("link", "quantity", "username")),
    T.POLL: F(("link", "quantity", "answer_number"), numbers={"answer_number": 1}),
    T.SEO: F(("link", "quantity", "keywords")),
    T.SUBSCRIPTIONS: F(
        ("username", "min", "max", "delay"), count=PER_POST, numbers={"delay": 0, "posts": 0, "old_posts": 0}
    ),
}

BETA_TYPE = "Custom Type Beta"  # a type the protocol does not know: listed, never sold

# (category, name, type, rate, min, max, refill, cancel); ids are 1.. in this order.
_BUILT_IN = (
    ("Instagram", "Instagram Followers [Real, 30 days refill]", T.DEFAULT, "1.85", 100, 100000, True, True),
    ("Instagram", "Instagram Likes [Instant]", T.DEFAULT, "0.42", 10, 50000, False, True),
    ("Instagram", "Instagram Reel Views", T.DEFAULT, "0.0042", 100, 10000000, False, False),
    ("Instagram", "Instagram Custom Comments", T.CUSTOM_COMMENTS, "12.5", 5, 500, False, False),
    ("Instagram", "Instagram Mentions [User Followers]", T.MENTIONS, "3.2", 100, 10000, False, False),
    ("Instagram", "Instagram 1000 Followers Package", T.PACKAGE, "2.9", 1, 1, False, False),
    ("Instagram", "Instagram Story Views", T.DEFAULT, "0.15", 100, 100000, False, True),
    ("TikTok", "TikTok Views", T.DEFAULT, "0.009", 100, 100000000, False, False),
    ("TikTok", "TikTok Likes [Refill 30 days]", T.DEFAULT, "0.65", 50, 100000, True, False),
    ("TikTok", "TikTok Followers", T.DEFAULT, "3.75", 100, 50000, True, True),
    ("TikTok", "TikTok Custom Comments", T.CUSTOM_COMMENTS, "18", 10, 1000, False, False),
    ("TikTok", "TikTok Shares", T.DEFAULT, "0.35", 100, 1000000, False, True),
    ("YouTube", "YouTube Views [Non-drop]", T.DEFAULT, "1.2", 500, 1000000, True, True),
    ("YouTube", "YouTube Likes", T.DEFAULT, "2.8", 50, 50000, True, False),
    ("YouTube", "YouTube Subscribers [Lifetime refill]", T.DEFAULT, "24.5", 100, 10000, True, False),
    ("YouTube", "YouTube 4000 Watch Hours Package", T.PACKAGE, "89.9", 1, 1, False, False),
    ("YouTube", "YouTube Custom Comments", T.CUSTOM_COMMENTS, "35", 5, 500, False, True),
    ("YouTube", "YouTube Video Ranking [Keywords]", T.SEO, "15", 100, 10000, False, False),
    ("Facebook", "Facebook Page Likes", T.DEFAULT, "4.4", 100, 50000, True, False),
    ("Facebook", "Facebook Post Reactions", T.DEFAULT, "1.1", 50, 20000, False, True),
    ("Facebook", "Facebook Video Views", T.DEFAULT, "0.25", 500, 5000000, False, False),
    ("Facebook", "Facebook Poll Votes", T.POLL, "6.5", 100, 10000, False, False),
    ("Telegram", "Telegram Channel Members", T.DEFAULT, "1.95", 100, 100000, True, True),
    ("Telegram", "Telegram Post Views", T.DEFAULT, "0.012", 100, 1000000, False, False),
    ("Telegram", "Telegram Views on Future Posts", T.SUBSCRIPTIONS, "9.5", 100, 10000, False, False),
    ("Telegram", "Telegram Post Reactions", T.DEFAULT, "0.5", 10, 50000, False, True),
    ("Twitter", "Twitter Followers", T.DEFAULT, "9.8", 100, 20000, True, False),
    ("Twitter", "Twitter Likes", T.DEFAULT, "2.2", 20, 10000, False, False),
    ("Twitter", "Twitter Retweets", T.DEFAULT, "3.1", 20, 5000, True, True),
    ("Twitter", "Twitter Premium Impressions Package", T.PACKAGE, "1450", 1, 1, False, False),
    # 31 on: one of each part-2 type the rows above lack, and one type the protocol does not know.
    ("Instagram", "Instagram 10 Comments Package", T.CUSTOM_COMMENTS_PACKAGE, "4.5", 1, 1, False, False),
    ("Instagram", "Instagram Mentions + Hashtags", T.MENTIONS_WITH_HASHTAGS, "4.1", 100, 10000, False, False),
    ("Instagram", "Instagram Mentions [Custom List]", T.MENTIONS_CUSTOM_LIST, "5.5", 10, 1000, False, False),
    ("Instagram", "Instagram Mentions [Hashtag Users]", T.MENTIONS_HASHTAG, "2.6", 100, 20000, False, False),
    ("Instagram", "Instagram Mentions [Followers]", T.MENTIONS_USER_FOLLOWERS, "3", 100, 20000, False, False),
    ("Instagram", "Instagram Mentions [Likers]", T.MENTIONS_MEDIA_LIKERS, "3.4", 100, 10000, False, False),
    ("YouTube", "YouTube Comment Likes", T.COMMENT_LIKES, "1.6", 20, 10000, False, True),
    ("Instagram", "Instagram Auto Likes [Future posts]", T.SUBSCRIPTIONS, "0.9", 50, 5000, False, True),
    ("Instagram", "Instagram Story Poll Votes [Beta]", BETA_TYPE, "7.5", 100, 5000, False, False),
)
_BUILT_IN_EXTRAS = {
    1: {"dripfeed": True, "desc": "Real-looking accounts. Start 0-1 hours, 10k/day."},
    2: {"dripfeed": True},
    8: {"dripfeed": False, "desc": "Fast start, up to 1M/day."},
    13: {"dripfeed": True, "desc": "Non-drop views from suggested videos."},
    23: {"desc": "Members stay; 30 days refill."},
    38: {"desc": "Likes on every new post, from 0 to 600 minutes after it appears."},
    39: {"desc": "Votes on a story poll. Beta: not every panel can order it yet."},
}
_CATEGORIES = ("Instagram", "TikTok", "YouTube", "Facebook", "Telegram", "Twitter")
_KINDS = ("Followers", "Likes", "Views", "Comments", "Shares", "Reactions")
# The "other types" share of a generated catalog: the beta type panels cannot sell, and a few of part 2.
_OTHER_TYPES = (
    BETA_TYPE,
    BETA_TYPE,
    ServiceType.MENTIONS,
    ServiceType.MENTIONS_HASHTAG,
    ServiceType.COMMENT_LIKES,
    ServiceType.POLL,
    ServiceType.SUBSCRIPTIONS,
    ServiceType.SEO,
)


def built_in_catalog() -> list[Service]:
    return [
        Service(i, name, kind, category, Decimal(rate), *rest, **_BUILT_IN_EXTRAS.get(i, {}))
        for i, (category, name, kind, rate, *rest) in enumerate(_BUILT_IN, start=1)
    ]


def generated_catalog(count: int, seed: int) -> list[Service]:
    """`count` services that depend only on the seed, for benchmarks of a catalog sync."""
    rng = random.Random(f"{seed}:catalog")
    return [_generated_service(i, _CATEGORIES[(i - 1) % len(_CATEGORIES)], rng) for i in range(1, count + 1)]


def _generated_service(service_id: int, category: str, rng: random.Random) -> Service:
    roll = rng.random()
    kind = rng.choice(_KINDS)
    rate = Decimal(rng.randint(1, 500000)) / 10000
    low = rng.choice((10, 50, 100, 500, 1000))
    high = low * rng.choice((10, 100, 1000))
    refill, cancel = rng.random() < 0.4, rng.random() < 0.3
    service_type, name = ServiceType.DEFAULT, f"{category} {kind} #{service_id}"
    if roll < 0.05:
        service_type, name, low, high = ServiceType.PACKAGE, f"{category} {kind} Package #{service_id}", 1, 1
    elif roll < 0.10:
        service_type, name = ServiceType.CUSTOM_COMMENTS, f"{category} Custom Comments #{service_id}"
    elif roll < 0.15:
        service_type = rng.choice(_OTHER_TYPES)
    return Service(service_id, name, service_type, category, rate, low, high, refill, cancel)


class Simulator:
    """The provider's state and protocol logic. Thread-safe: every entry point takes the one lock."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.orders: dict[int, Order | Subscription] = {}
        self.refills: dict[int, Refill] = {}
        self._lock = threading.Lock()
        self._clock_offset = 0.0
        self._wall_skew = time.time() - time.monotonic()  # the simulator's date: its clock plus this
        self._balance = Decimal(config.balance).quantize(CENTS, ROUND_HALF_UP)
        self._faults: list[_Fault] = []
        unknown = set(config.faults) - FAULTS
        if unknown:
            raise ValueError(f"Unknown faults {sorted(unknown)}; expected some of {sorted(FAULTS)}")
        self._dripfeed_shape = _checked_shape(config.dripfeed_shape)
        self._fault_rng = random.Random(f"faults-{config.seed}")
        self._next_order_id = FIRST_ORDER_ID
        self._next_child_id = FIRST_CHILD_ID
        self._next_refill_id = 1
        self._timed: dict[int, Order | Subscription] = {}  # open drip-feeds and subscriptions
        services = generated_catalog(config.services, config.seed) if config.services else built_in_catalog()
        self._catalog = {service.id: service for service in services}
        self._services_answer = [self._service_entry(service) for service in services]
        self._actions = {
            "services": self._services,
            "add": self._add,
            "status": self._status,
            "balance": self._balance_answer,
            "refill": self._refill,
            "refill_status": self._refill_status,
            "cancel": self._cancel,
        }

    # Control, for tests and the HTTP layer

    def advance(self, seconds: float) -> None:
        """Move the clock forward, so tests need not sleep through the stages."""
        with self._lock:
            self._clock_offset += seconds
            self._settle_all()

    def inject(self, fault: str, *, action: str | None = None, times: int = 1) -> None:
        if fault not in FAULTS:
            raise ValueError(f"Unknown fault {fault!r}; expected one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(fault, action, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, action: str) -> str | None:
        """The fault the next request of this action gets, if any; it counts as used."""
        with self._lock:
            for fault in self._faults:
                if fault.action in (None, action):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault.kind
            if self.config.fault_rate and self._fault_rng.random() < self.config.fault_rate:
                return self._fault_rng.choice(self.config.faults)
        return None

    def set_dripfeed_shape(self, shape: str) -> None:
        """How `status` answers drip-feed orders from now on: "whole" or "runs"."""
        with self._lock:
            self._dripfeed_shape = _checked_shape(shape)

    def pause(self, order_id: int) -> None:
        """Pause an Active subscription: no posts appear until it is resumed."""
        with self._lock:
            subscription = self._subscription(order_id, SubscriptionStatus.ACTIVE)
            subscription.status = SubscriptionStatus.PAUSED
            subscription.paused_at = self._now()

    def resume(self, order_id: int) -> None:
        """Resume a Paused subscription; posts go on appearing one step apart."""
        with self._lock:
            subscription = self._subscription(order_id, SubscriptionStatus.PAUSED)
            subscription.paused_total += self._now() - subscription.paused_at
            subscription.status, subscription.paused_at = SubscriptionStatus.ACTIVE, None

    @property
    def services(self) -> list[Service]:
        with self._lock:
            return list(self._catalog.values())

    def set_services(self, services: list[Service]) -> None:
        """Replace the catalog: tests change a price, remove a service or bring one back."""
        with self._lock:
            self._catalog = {service.id: service for service in services}
            self._services_answer = [self._service_entry(service) for service in services]

    @property
    def balance(self) -> Decimal:
        with self._lock:
            self._settle_all()
            return self._balance

    def handle(self, params: dict[str, str]) -> object:
        """Answer one request given its form fields, as the JSON-able object a provider sends."""
        with self._lock:
            if params.get("key") != self.config.key:
                return {"error": protocol.INVALID_KEY}
            action = self._actions.get(params.get("action", ""))
            try:
                if action is None:
                    raise _Refusal(protocol.INCORRECT_REQUEST)
                return action(params)
            except _Refusal as refusal:
                return {"error": str(refusal)}

    # Actions

    def _services(self, params: dict[str, str]) -> list[dict]:
        return self._services_answer

    def _add(self, params: dict[str, str]) -> dict:
        service = self._catalog.get(protocol.number_id(params.get("service", "")))
        if service is None:
            raise _Refusal(protocol.INCORRECT_SERVICE_ID)
        rule = _ADD_FIELDS.get(ServiceType.named(service.type))
        if rule is None:
            raise _Refusal(protocol.INCORRECT_REQUEST)
        _check_fields(rule, params)
        fields = {name: value for name, value in params.items() if name not in NOT_ADD_FIELDS}
        if rule.count == PER_POST:
            order_id = self._add_subscription(service, params, fields)
        else:
            order_id = self._add_order(service, rule, params, fields)
        return {"order": _ident(order_id, self._quirk_rng("add", order_id))}

    def _add_order(self, service: Service, rule: AddFields, params: dict[str, str], fields: dict) -> int:
        runs, interval = _dripfeed(service, rule, params)
        quantity = _order_quantity(service, rule, params) * max(runs, 1)
        charge = _order_charge(service, rule, quantity)
        if charge > self._balance:
            raise _Refusal(protocol.NOT_ENOUGH_FUNDS)
        self._balance -= charge
        return self._create_order(service, params["link"], quantity, charge, fields, runs, interval).id

    def _add_subscription(self, service: Service, params: dict[str, str], fields: dict) -> int:
        low, high = _parse_int(params["min"]), _parse_int(params["max"])
        if low is None or high is None:
            raise _Refusal(protocol.INCORRECT_REQUEST)
        if low < service.min:
            raise _Refusal(protocol.quantity_below_min(service.min))
        if high > service.max:
            raise _Refusal(protocol.quantity_above_max(service.max))
        if low > high:
            raise _Refusal(protocol.quantity_below_min(low))  # the max is below the order's own min
        expiry = None
        if params.get("expiry", "").strip():
            try:
                expiry = datetime.strptime(params["expiry"].strip(), protocol.EXPIRY_FORMAT).date()
            except ValueError:
                raise _Refusal(protocol.INCORRECT_REQUEST) from None
        posts = _parse_int(params.get("posts", "").strip() or "0")
        charge = (service.rate * high * posts / 1000).quantize(CENTS, ROUND_HALF_UP)
        if charge > self._balance:
            raise _Refusal(protocol.NOT_ENOUGH_FUNDS)
        self._balance -= charge
        return self._create_subscription(service, params, fields, low, high, posts, expiry, charge).id

    def _status(self, params: dict[str, str]) -> dict:
        if "orders" in params:
            return {token: self._status_entry_or_error(token) for token in _split_ids(params["orders"])}
        entry = self._status_entry(self._find_order(params.get("order", "")))
        entry["currency"] = self.config.currency
        return entry

    def _balance_answer(self, params: dict[str, str]) -> dict:
        self._settle_all()
        return {
            "balance": _number(self._balance, self._quirk_rng("balance")),
            "currency": self.config.currency,
        }

    def _refill(self, params: dict[str, str]) -> object:
        if "orders" in params:
            return [
                {"order": self._echo_id(token), "refill": self._per_id(self._refill_id_for, token)}
                for token in _split_ids(params["orders"])
            ]
        refill_id = self._refill_id_for(params.get("order", ""))
        rng = self._quirk_rng("refill", refill_id)
        return {"refill": str(refill_id) if rng is None else _ident(refill_id, rng)}

    def _refill_status(self, params: dict[str, str]) -> object:
        if "refills" in params:
            return [
                {"refill": self._echo_id(token), "status": self._per_id(self._refill_status_text, token)}
                for token in _split_ids(params["refills"])
            ]
        return {"status": self._refill_status_text(params.get("refill", ""))}

    def _cancel(self, params: dict[str, str]) -> list[dict]:
        if "orders" in params:
            tokens = _split_ids(params["orders"])
        elif "order" in params:
            tokens = [params["order"].strip()]
        else:
            raise _Refusal(protocol.INCORRECT_REQUEST)
        return [{"order": self._echo_id(t), "cancel": self._per_id(self._cancel_one, t)} for t in tokens]

    # Orders

    def _create_order(
        self,
        service: Service,
        link: str,
        quantity: int,
        charge: Decimal,
        fields: dict,
        runs: int,
        interval: int,
    ) -> Order:
        order_id = self._take_order_id()
        rng = random.Random(f"{self.config.seed}:order:{order_id}")
        start_count = rng.randint(0, 20000)
        final_runs = 0
        if runs:
            outcome, final_runs = self._decide_runs(rng, runs)
            final_remains = quantity - final_runs * (quantity // runs)
        else:
            outcome, final_remains = self._decide_outcome(rng, quantity)
        order = Order(
            id=order_id,
            service=service.id,
            link=link,
            quantity=quantity,
            charge=charge,
            status=OrderStatus.PENDING,
            remains=quantity,
            start_count=start_count,
            created_at=self._now(),
            outcome=outcome,
            final_remains=final_remains,
            fields=fields,
            runs=runs,
            interval=interval,
            final_runs=final_runs,
        )
        self.orders[order_id] = order
        if runs:
            self._timed[order_id] = order
        return order

    def _create_subscription(
        self,
        service: Service,
        params: dict[str, str],
        fields: dict,
        low: int,
        high: int,
        posts: int,
        expiry: date | None,
        charge: Decimal,
    ) -> Subscription:
        order_id = self._take_order_id()
        rng = random.Random(f"{self.config.seed}:subscription:{order_id}")
        roll, expire_after = rng.random(), rng.randint(1, max(1, posts - 1))
        outcome, served_cap, end_post = SubscriptionStatus.ACTIVE, 0, 0
        if posts > 1 and roll < self.config.expire_share:
            outcome, served_cap, end_post = SubscriptionStatus.EXPIRED, expire_after, expire_after + 1
        elif posts:
            outcome, served_cap, end_post = SubscriptionStatus.COMPLETED, posts, posts
        deadline = None
        if expiry is not None:  # the first moment of the day after the expiry date
            day_after = datetime.combine(expiry + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
            deadline = day_after.timestamp() - self._wall_skew
        subscription = Subscription(
            id=order_id,
            service=service.id,
            username=params["username"],
            min=low,
            max=high,
            delay=int(params["delay"]),
            posts=posts,
            old_posts=_parse_int(params.get("old_posts", "").strip() or "0"),
            expiry=expiry,
            charge=charge,
            post_price=(service.rate * high / 1000).quantize(CENTS, ROUND_HALF_UP),
            status=SubscriptionStatus.ACTIVE,
            created_at=self._now(),
            outcome=outcome,
            served_cap=served_cap,
            end_post=end_post,
            deadline=deadline,
            fields=fields,
        )
        self.orders[order_id] = self._timed[order_id] = subscription
        return subscription

    def _take_order_id(self) -> int:
        order_id = self._next_order_id
        self._next_order_id += 1
        return order_id

    def _decide_outcome(self, rng: random.Random, quantity: int) -> tuple[OrderStatus, int]:
        # Draw everything every time, so an order's outcome depends only on the seed and its id.
        roll = rng.random()
        partial_remains = rng.randint(1, max(1, quantity - 1))
        over_delivered = rng.random() < 0.3
        over_by = rng.randint(1, 5)
        if roll < self.config.cancel_share:
            return OrderStatus.CANCELED, quantity
        if roll < self.config.cancel_share + self.config.partial_share and quantity > 1:
            return OrderStatus.PARTIAL, partial_remains
        return OrderStatus.COMPLETED, -over_by if over_delivered else 0

    def _decide_runs(self, rng: random.Random, runs: int) -> tuple[OrderStatus, int]:
        """A drip-feed's outcome and the runs it does: all, some (Partial) or none (Canceled)."""
        roll, partial_runs = rng.random(), rng.randint(1, max(1, runs - 1))
        if roll < self.config.cancel_share:
            return OrderStatus.CANCELED, 0
        if roll < self.config.cancel_share + self.config.partial_share and runs > 1:
            return OrderStatus.PARTIAL, partial_runs
        return OrderStatus.COMPLETED, runs

    def _find_order(self, token: str) -> Order | Subscription:
        order = self.orders.get(protocol.number_id(token))
        if order is None:
            raise _Refusal(protocol.INCORRECT_ORDER_ID)
        if _is_timed(order):
            self._settle_timed()
        else:
            self._settle(order)
        return order

    def _settle(self, order: Order) -> None:
        """Bring the order up to the clock; a final status is reached once, with its refund."""
        if order.status in ORDER_FINAL:
            return
        stage, progress = self._stage(order.created_at, len(ORDER_STAGES))
        if stage >= len(ORDER_STAGES):
            self._finish(order, order.outcome, order.final_remains)
            return
        order.status = ORDER_STAGES[stage]
        to_deliver = order.quantity - max(order.final_remains, 0)
        order.remains = order.quantity - int(to_deliver * progress)

    def _finish(self, order: Order, status: OrderStatus, remains: int) -> None:
        refund = order.charge
        if status == OrderStatus.COMPLETED:
            refund = Decimal(0)
        elif remains < order.quantity:  # Partial, or a drip-feed canceled after some runs
            refund = (order.charge * max(remains, 0) / order.quantity).quantize(CENTS, ROUND_DOWN)
        order.status, order.remains = status, remains
        order.charge -= refund
        self._balance += refund
        self._timed.pop(order.id, None)

    def _settle_all(self) -> None:
        self._settle_timed()
        for order in self.orders.values():
            if not _is_timed(order):
                self._settle(order)
        for refill in self.refills.values():
            self._settle_refill(refill)

    # Drip-feeds and subscriptions: runs and posts over time

    def _settle_timed(self) -> None:
        """Bring every open drip-feed and subscription up to the clock. The runs and posts that happened
        since the last look get their child ids in the order they happened, whichever order is asked about."""
        now = self._now()
        happened: list[tuple[float, int, int]] = []  # (when, order id, run or post number)
        ended: list[tuple[Order | Subscription, str]] = []
        for item in self._timed.values():
            if isinstance(item, Subscription):
                done, final = self._subscription_progress(item, now)
                happened += [(self._post_at(item, k), item.id, k) for k in range(item.served + 1, done + 1)]
            else:
                done, final = self._dripfeed_progress(item, now)
                happened += [(self._run_at(item, k), item.id, k) for k in range(item.runs_done + 1, done + 1)]
            if final is not None:
                ended.append((item, final))
        for _, order_id, _ in sorted(happened):
            self._child_done(self._timed[order_id])
        for item, final in ended:
            if isinstance(item, Subscription):
                self._end_subscription(item, final)
            else:
                self._finish(item, final, item.quantity - item.runs_done * item.run_quantity)

    def _run_at(self, order: Order, run: int) -> float:
        gap = order.interval * self.config.minute_seconds
        return order.created_at + run * self.config.step_seconds + (run - 1) * gap

    def _dripfeed_progress(self, order: Order, now: float) -> tuple[int, OrderStatus | None]:
        """The runs done by `now`, and the final status if the order has ended."""
        step, gap = self.config.step_seconds, order.interval * self.config.minute_seconds
        if step + gap <= 0:
            due = order.runs
        else:  # run k is done once k x step + (k - 1) x gap has passed
            due = min(order.runs, max(0, int((now - order.created_at + gap) // (step + gap))))
        # It ends with its last run, or when the run after its last would have been done.
        ends_at = order.runs if order.final_runs == order.runs else order.final_runs + 1
        return min(due, order.final_runs), order.outcome if due >= ends_at else None

    def _post_at(self, subscription: Subscription, post: int) -> float:
        step = max(self.config.step_seconds, 0.0)
        return subscription.created_at + subscription.paused_total + post * step

    def _subscription_progress(self, subscription: Subscription, now: float) -> tuple[int, str | None]:
        """The posts served by `now`, and the final status if the subscription has ended."""
        moment = now if subscription.paused_at is None else subscription.paused_at
        if subscription.deadline is not None:
            moment = min(moment, subscription.deadline)
        step = self.config.step_seconds
        if step <= 0:  # at once; an unlimited one would never stop, so it serves none
            slots = subscription.end_post
        else:
            active = moment - subscription.created_at - subscription.paused_total
            slots = max(0, int(active // step))
        served = min(slots, subscription.served_cap) if subscription.served_cap else slots
        if subscription.end_post and slots >= subscription.end_post:
            return served, subscription.outcome
        if subscription.deadline is not None and now >= subscription.deadline:
            return served, SubscriptionStatus.EXPIRED
        return served, None

    def _child_done(self, item: Order | Subscription) -> None:
        item.children.append(self._next_child_id)
        self._next_child_id += 1
        if isinstance(item, Subscription):
            item.served += 1
            if not item.posts:  # unlimited: paid per post, as it is served
                item.charge += item.post_price
                self._balance -= item.post_price
        else:
            item.runs_done += 1
            item.remains -= item.run_quantity
            item.status = OrderStatus.IN_PROGRESS

    def _end_subscription(self, subscription: Subscription, status: SubscriptionStatus) -> None:
        """The final status, once, with the refund of the paid posts it did not serve."""
        refund = Decimal(0)
        if subscription.posts:
            unserved = subscription.posts - subscription.served
            refund = (subscription.charge * unserved / subscription.posts).quantize(CENTS, ROUND_DOWN)
        subscription.status, subscription.paused_at = status, None
        subscription.charge -= refund
        self._balance += refund
        self._timed.pop(subscription.id, None)

    def _subscription(self, order_id: int, status: SubscriptionStatus) -> Subscription:
        subscription = self.orders.get(order_id)
        if not isinstance(subscription, Subscription):
            raise ValueError(f"{order_id} is no subscription")
        self._settle_timed()
        if subscription.status != status:
            raise ValueError(f"subscription {order_id} is {subscription.status}, not {status}")
        return subscription

    # Answers

    def _status_entry(self, order: Order | Subscription) -> dict:
        rng = self._quirk_rng("status", order.id)
        if isinstance(order, Subscription):
            return {
                "status": _subscription_status_text(order.status, rng),
                "expiry": order.expiry.strftime(protocol.EXPIRY_FORMAT) if order.expiry else None,
                "posts": _number(order.served, rng),
                "orders": _idents(order.children, rng),
            }
        if order.runs and self._dripfeed_shape == "runs":
            return {
                "status": _status_text(order.status, rng),
                "runs": _number(order.runs_done, rng),
                "orders": _idents(order.children, rng),
            }
        entry = {
            "charge": _number(order.charge, rng),
            "start_count": _number(order.start_count, rng),
            "status": _status_text(order.status, rng),
            "remains": _number(order.remains, rng),
        }
        if rng is not None and rng.random() < 0.3:
            entry["currency"] = self.config.currency
        return entry

    def _status_entry_or_error(self, token: str) -> object:
        try:
            return self._status_entry(self._find_order(token))
        except _Refusal as refusal:
            rng = self._quirk_rng("status-error", token)
            if rng is not None and rng.random() < 0.5:
                return str(refusal)
            return {"error": str(refusal)}

    def _cancel_one(self, token: str) -> object:
        order = self._find_order(token)
        service = self._catalog.get(order.service)
        if service is None or not service.cancel:
            raise _Refusal("Cancel is disabled for this service")
        if isinstance(order, Subscription):
            if order.status not in SUBSCRIPTION_OPEN:
                raise _Refusal("Order can not be canceled")
            self._end_subscription(order, SubscriptionStatus.CANCELED)
        else:
            if order.status != OrderStatus.PENDING:
                raise _Refusal("Order can not be canceled")
            self._finish(order, OrderStatus.CANCELED, order.quantity)
        return _flag(True, self._quirk_rng("cancel", order.id), as_number=True)

    # Refills

    def _refill_id_for(self, token: str) -> int:
        order = self._find_order(token)
        service = self._catalog.get(order.service)
        if isinstance(order, Subscription) or service is None or not service.refill:
            raise _Refusal("Refill is disabled for this service")
        if order.status != OrderStatus.COMPLETED:
            raise _Refusal("Order is not completed")
        if self._has_open_refill(order):
            raise _Refusal("You have an active refill for this order")
        refill_id = self._next_refill_id
        self._next_refill_id += 1
        rng = random.Random(f"{self.config.seed}:refill:{refill_id}")
        rejected = rng.random() < self.config.refill_reject_share
        outcome = RefillStatus.REJECTED if rejected else RefillStatus.COMPLETED
        self.refills[refill_id] = Refill(refill_id, order.id, RefillStatus.PENDING, self._now(), outcome)
        return refill_id

    def _has_open_refill(self, order: Order) -> bool:
        refills = (refill for refill in self.refills.values() if refill.order == order.id)
        return any(self._settle_refill(refill) not in REFILL_FINAL for refill in refills)

    def _settle_refill(self, refill: Refill) -> RefillStatus:
        if refill.status not in REFILL_FINAL:
            stage, _ = self._stage(refill.created_at, len(REFILL_STAGES))
            refill.status = REFILL_STAGES[stage] if stage < len(REFILL_STAGES) else refill.outcome
        return refill.status

    def _refill_status_text(self, token: str) -> str:
        refill = self.refills.get(protocol.number_id(token))
        if refill is None:
            raise _Refusal(protocol.REFILL_NOT_FOUND)
        return _status_text(self._settle_refill(refill), self._quirk_rng("refill-status", refill.id))

    # Helpers

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def _stage(self, started_at: float, working_stages: int) -> tuple[int, float]:
        """The stage reached (working_stages or more: final) and the progress through the working stages."""
        step = self.config.step_seconds
        if step <= 0:
            return working_stages, 1.0
        elapsed = self._now() - started_at
        progress = (elapsed - step) / (step * (working_stages - 1))
        return int(elapsed // step), min(max(progress, 0.0), 1.0)

    def _per_id(self, answer_for, token: str) -> object:
        try:
            return answer_for(token)
        except _Refusal as refusal:
            return {"error": str(refusal)}

    def _echo_id(self, token: str) -> int | str:
        order_id = protocol.number_id(token)
        if order_id is None:
            return token
        return _ident(order_id, self._quirk_rng("echo", token))

    def _quirk_rng(self, *context: object) -> random.Random | None:
        """With quirks on, a generator fixed by the seed and the context, so each answer keeps its shape."""
        if not self.config.quirks:
            return None
        return random.Random(":".join(str(part) for part in (self.config.seed, *context)))

    def _service_entry(self, service: Service) -> dict:
        rng = self._quirk_rng("service", service.id)
        entry = {
            "service": _ident(service.id, rng),
            "name": service.name,
            "type": service.type,
            "category": service.category,
            "rate": _number(service.rate, rng),
            "min": _number(service.min, rng),
            "max": _number(service.max, rng),
            "refill": _flag(service.refill, rng),
            "cancel": _flag(service.cancel, rng),
        }
        if service.dripfeed is not None:
            entry["dripfeed"] = _flag(service.dripfeed, rng)
        if service.desc:
            entry["desc"] = service.desc
        if rng is not None and rng.random() < 0.3:
            entry["description"] = service.name
        return entry


def _is_timed(order: Order | Subscription) -> bool:
    """A drip-feed or a subscription: its runs or posts happen one after another."""
    return isinstance(order, Subscription) or order.runs > 0


def _checked_shape(shape: str) -> str:
    if shape not in DRIPFEED_SHAPES:
        raise ValueError(f"Unknown drip-feed shape {shape!r}; expected one of {DRIPFEED_SHAPES}")
    return shape


def _check_fields(rule: AddFields, params: dict[str, str]) -> None:
    """Refuse an add whose type fields are wrong: a required field absent or blank (a blank link is an
    Incorrect link, as before), a link or media that is no URL, a number that is not whole or too low."""
    for name in rule.required:
        if name not in params or (name != "link" and not params[name].strip()):
            raise _Refusal(protocol.INCORRECT_REQUEST)
    for name in ("link", *rule.urls):
        if name in rule.required and not _is_url(params[name]):
            raise _Refusal(protocol.INCORRECT_LINK)
    for name, least in rule.numbers.items():
        text = params.get(name, "").strip()
        if text and ((number := _parse_int(text)) is None or number < least):
            raise _Refusal(protocol.INCORRECT_REQUEST)


def _dripfeed(service: Service, rule: AddFields, params: dict[str, str]) -> tuple[int, int]:
    """The runs and interval of a drip-feed `add`; (0, 0) when it is none."""
    runs, interval = params.get("runs", "").strip(), params.get("interval", "").strip()
    if not runs and not interval:
        return 0, 0
    if not (rule.dripfeed and service.dripfeed is True):
        raise _Refusal(protocol.DRIPFEED_NOT_AVAILABLE)
    if not (runs and interval):
        raise _Refusal(protocol.INCORRECT_REQUEST)
    return int(runs), int(interval)


def _order_quantity(service: Service, rule: AddFields, params: dict[str, str]) -> int:
    """The quantity as the type counts it (per run, for a drip-feed), within the service's limits."""
    if rule.count == WHOLE:
        return 1
    if rule.count == BY_LINES:
        quantity = sum(1 for line in params[rule.lines_of].splitlines() if line.strip())
    else:
        quantity = _parse_int(params.get("quantity", ""))
        if quantity is None:
            raise _Refusal(protocol.INCORRECT_REQUEST)
    if quantity < service.min:
        raise _Refusal(protocol.quantity_below_min(service.min))
    if quantity > service.max:
        raise _Refusal(protocol.quantity_above_max(service.max))
    return quantity


def _order_charge(service: Service, rule: AddFields, quantity: int) -> Decimal:
    if rule.count == WHOLE:
        return service.rate.quantize(CENTS, ROUND_HALF_UP)
    return (service.rate * quantity / 1000).quantize(CENTS, ROUND_HALF_UP)


def _split_ids(text: str) -> list[str]:
    """The ids of a multi call, repeats included: the simulator answers every id as often as it is sent."""
    try:
        return protocol.split_ids(text, unique=False)
    except ValueError as exc:
        raise _Refusal(str(exc)) from None


def _parse_int(text: str) -> int | None:
    text = text.strip()
    digits = text.removeprefix("-")
    return int(text) if digits.isascii() and digits.isdigit() else None


def _is_url(link: str) -> bool:
    parts = urlsplit(link.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Representation: the card's shapes when rng is None, else a variant real providers send. Each helper draws
# exactly once from rng, so an answer's shape does not shift when its values change.


def _number(value: int | Decimal, rng: random.Random | None) -> str | int | float:
    if rng is None or rng.random() < 0.5:
        return str(value)
    if isinstance(value, int) or value == value.to_integral_value():
        return int(value)
    return float(value)


def _ident(value: int, rng: random.Random | None) -> int | str:
    if rng is None or rng.random() < 0.6:
        return value
    return str(value)


def _idents(values: list[int], rng: random.Random | None) -> list[int | str]:
    """A list of ids, all numbers or (with quirks, sometimes) all strings."""
    if rng is None or rng.random() < 0.6:
        return list(values)
    return [str(value) for value in values]


def _flag(value: bool, rng: random.Random | None, *, as_number: bool = False) -> bool | int | str:
    """true/false on the card (1 where the card shows a number), else one of true, "1", 1 (false, "0", 0)."""
    if rng is None:
        return int(value) if as_number else value
    return (value, str(int(value)), int(value))[rng.randrange(3)]


def _status_text(status: str, rng: random.Random | None) -> str:
    if rng is not None and rng.random() < 0.5:
        return status.title()  # "In Progress", as some providers write it; one-word statuses stay the same
    return status


def _subscription_status_text(status: str, rng: random.Random | None) -> str:
    """As the protocol spells it, else "Cancelled" (as some providers spell it) or in lower case."""
    variant = 0 if rng is None else rng.randrange(3)
    if variant == 1 and status == SubscriptionStatus.CANCELED:
        return "Cancelled"
    if variant == 2:
        return status.lower()
    return status


# HTTP


class _HTTPServer(FakeHTTPServer):
    def __init__(self, address: tuple[str, int], simulator: Simulator):
        self.simulator = simulator
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SimulatedProvider/1.0"
    # Headers and body go out in two writes; with Nagle on, the body waits ~40 ms for the client's
    # delayed ACK of the headers, on every kept-alive request.
    disable_nagle_algorithm = True
    timeout = 60  # idle kept-alive connections are closed after this
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve(body="")

    def do_POST(self) -> None:
        self._serve(body=self._read_body())

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the request line can carry the key in a query string. _serve logs each request."""

    def _read_body(self) -> str:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length).decode("utf-8", errors="replace") if length > 0 else ""

    def _serve(self, body: str) -> None:
        simulator = self.server.simulator
        if simulator.config.latency > 0:
            time.sleep(simulator.config.latency)
        url = urlsplit(self.path)
        if url.path not in ("/api/v2", "/api/v2/"):
            self._send(404, "application/json", b'{"error": "Not found"}')
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        fault = simulator.take_fault(params.get("action", ""))
        if fault in UNPROCESSED_FAULTS:
            _log_request(params, None, fault)
            self._send_unprocessed_fault(fault)
            return
        answer = simulator.handle(params)
        _log_request(params, answer, fault)
        self._send_answer(json.dumps(answer).encode(), fault)

    def _send_unprocessed_fault(self, fault: str) -> None:
        if fault == "error":
            self._send(200, "application/json", b'{"error": "Simulated failure"}')
        elif fault == "http429":
            self._send(
                429, "application/json", b'{"error": "Too many requests"}', retry_after=THROTTLE_SECONDS
            )
        elif fault == "http500":
            self._send(500, "text/html", b"<html><body><h1>500 Internal Server Error</h1></body></html>")
        else:
            self._send(200, "text/html; charset=utf-8", _CHALLENGE_PAGE)

    def _send_answer(self, body: bytes, fault: str | None) -> None:
        if fault == "reset":
            self._reset()
            return
        if fault == "broken":
            body = body[: len(body) // 2]
        elif fault == "timeout":
            time.sleep(self.server.simulator.config.hang_seconds)
        self._send(200, "application/json", body)

    def _send(self, status: int, content_type: str, body: bytes, *, retry_after: int | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:  # the client gave up, e.g. after a "timeout" fault
            self.close_connection = True

    def _reset(self) -> None:
        """Close at once with SO_LINGER 0: the kernel sends RST, so the client sees a reset, not an end."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Detach first: rfile and wfile hold the socket open, and the server would shut it down gracefully.
        socket.close(self.connection.detach())


_CHALLENGE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Checking your browser before accessing the site.</h1>"
    b"<p>This process is automatic. Your browser will redirect shortly.</p></body></html>"
)
_LOGGED_ID_FIELDS = ("service", "order", "orders", "refill", "refills")


def _log_request(params: dict[str, str], answer: object, fault: str | None) -> None:
    """One line per request: action, ids, the names of an add's fields, and the outcome. Never the key, the
    link, a field's value or the raw body."""
    ids = " ".join(f"{field}={params[field][:200]}" for field in _LOGGED_ID_FIELDS if field in params)
    if params.get("action") == "add":
        names = [name[:30] for name in params if name not in NOT_ADD_FIELDS][:20]
        ids = f"{ids} fields={','.join(names) or '-'}".strip()
    if answer is None:
        outcome = "not processed"
    elif isinstance(answer, dict) and "error" in answer:
        outcome = f"error {answer['error']!r}"
    elif isinstance(answer, dict) and "order" in answer:
        outcome = f"order {answer['order']}"
    else:
        outcome = "ok"
    suffix = f" (fault: {fault})" if fault else ""
    # A multi-id request is routine (a sweep makes hundreds): DEBUG, like the client's line for it.
    level = logging.DEBUG if "orders" in params or "refills" in params else logging.INFO
    logger.log(level, "%s %s -> %s%s", params.get("action", "-")[:50] or "-", ids or "-", outcome, suffix)


class SimulatorServer(ServerRunner):
    """The simulator over real HTTP, on a free port unless told otherwise."""

    thread_name = "simulator"

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0):
        self.simulator = simulator
        super().__init__(_HTTPServer((host, port), simulator))
        self.url = f"http://{host}:{self.port}/api/v2"

    def __enter__(self) -> SimulatorServer:
        return self
