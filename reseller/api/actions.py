"""The API v2 we serve, defined once.

Every action is an `Action`: its name, parameters, example answer and handler. The endpoint (views.py)
dispatches on these definitions and the docs page renders them, so the two cannot drift apart. An action
with a single and a multi form ("status" with `order` or `orders`) has one `Action` per form; `when` names
the field whose presence picks the multi form, as the protocol's clients expect.

Answers follow ../shared/upstream-api-v2.md: amounts and counts as strings, ids as numbers, errors as
`{"error": "..."}` with the texts clients know.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog import protocol
from catalog.protocol import (
    INCORRECT_LINK,
    INCORRECT_ORDER_ID,
    INCORRECT_REQUEST,
    INCORRECT_SERVICE_ID,
    REFILL_NOT_FOUND,
)
from catalog.service_types import ALL_FIELDS
from catalog.services import service_rate_for
from orders.cancels import orders_cancel
from orders.errors import OrderError
from orders.models import Order, RefillStatus
from orders.models import Status as OrderStatus
from orders.placement import order_place
from orders.refills import refill_request, refill_request_many
from reseller.wallet.selectors import wallet_balance

from .selectors import (
    OrderState,
    api_order_states_for_user,
    api_orders_for_user,
    api_refills_for_user,
    api_service_get,
    api_service_list,
)
from .services import IdempotencyKeyReused, idempotent_answer, request_fingerprint

MAX_ID_DIGITS = 18  # our ids fit a bigint
AMOUNT = Decimal("0.00001")
IDEMPOTENCY_KEY_REUSED = "Idempotency-Key reused with a different request"

# Our order statuses as the protocol spells them: what is not yet placed upstream reads as Pending, and a
# failed order (never placed, refunded in full) as Canceled.
Upstream = protocol.OrderStatus
ORDER_STATUS_TEXT = {
    OrderStatus.QUEUED: Upstream.PENDING,
    OrderStatus.SUBMITTING: Upstream.PENDING,
    OrderStatus.NEEDS_REVIEW: Upstream.PENDING,
    OrderStatus.PENDING: Upstream.PENDING,
    OrderStatus.IN_PROGRESS: Upstream.IN_PROGRESS,
    OrderStatus.PROCESSING: Upstream.PROCESSING,
    OrderStatus.COMPLETED: Upstream.COMPLETED,
    OrderStatus.PARTIAL: Upstream.PARTIAL,
    OrderStatus.CANCELED: Upstream.CANCELED,
    OrderStatus.FAILED: Upstream.CANCELED,
    OrderStatus.ACTIVE: protocol.SubscriptionStatus.ACTIVE,
    OrderStatus.PAUSED: protocol.SubscriptionStatus.PAUSED,
    OrderStatus.EXPIRED: protocol.SubscriptionStatus.EXPIRED,
}
UpstreamRefill = protocol.RefillStatus
REFILL_STATUS_TEXT = {
    RefillStatus.QUEUED: UpstreamRefill.PENDING,
    RefillStatus.SUBMITTING: UpstreamRefill.PENDING,
    RefillStatus.NEEDS_REVIEW: UpstreamRefill.PENDING,
    RefillStatus.PENDING: UpstreamRefill.PENDING,
    RefillStatus.IN_PROGRESS: UpstreamRefill.IN_PROGRESS,
    RefillStatus.COMPLETED: UpstreamRefill.COMPLETED,
    RefillStatus.REJECTED: UpstreamRefill.REJECTED,
    RefillStatus.FAILED: UpstreamRefill.REJECTED,
}
# OrderError.code from order placement -> the text clients know ("min" and "max" answer "Quantity less
# than minimal N" and "Quantity more than maximum N" with the service's limit; a code unforeseen here
# answers the error's message, in English).
ADD_ERRORS = {
    "link": INCORRECT_LINK,
    "funds": protocol.NOT_ENOUGH_FUNDS,
    "service": INCORRECT_SERVICE_ID,
    "quantity": INCORRECT_REQUEST,
    "comments": protocol.COMMENTS_REQUIRED,
    "dripfeed": protocol.DRIPFEED_NOT_AVAILABLE,
}
# Every field an `add` may carry (the type table's), and those that make two `add` requests the same
# request, for Idempotency-Key.
ADD_FIELDS = tuple(field.name for field in ALL_FIELDS)
ADD_FINGERPRINT_FIELDS = ("service", *ADD_FIELDS)


class ApiError(Exception):
    """Answered as `{"error": message}`: nothing was changed. A lazy message is rendered at once, in the
    language active (the endpoint runs everything under English)."""

    def __init__(self, message: str | Promise):
        message = str(message)
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    required: bool = True
    example: str = ""
    missing: str = INCORRECT_REQUEST  # the error when a required parameter is absent or empty
    aliases: tuple[str, ...] = ()  # other names the same value may come under


@dataclass(frozen=True)
class Call:
    """One authenticated request: the customer, the form fields, the Idempotency-Key header if any."""

    user: Any
    data: Mapping[str, str]
    idempotency_key: str | None = None

    def get(self, name: str) -> str:
        return (self.data.get(name) or "").strip()


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    example: Callable[[], Any]
    handler: Callable[[Call], Any] = field(repr=False)
    when: str | None = None  # the field whose presence picks this form of the action

    @property
    def anchor(self) -> str:
        return f"{self.name}-{self.when or 'one'}".replace("_", "-")

    def example_json(self) -> str:
        return json.dumps(self.example(), indent=2)

    def example_fields(self) -> list[tuple[str, str]]:
        fields = [("key", "YOUR_API_KEY"), ("action", self.name)]
        return fields + [(p.name, p.example) for p in self.params if p.example]

    def curl(self, api_url: str) -> str:
        parts = [f"curl -X POST {shlex.quote(api_url)}"]
        parts += [f"-d {shlex.quote(f'{name}={value}')}" for name, value in self.example_fields()]
        return " \\\n  ".join(parts)

    def python(self, api_url: str) -> str:
        fields = ",\n".join(
            f"        {json.dumps(name)}: {json.dumps(value)}" for name, value in self.example_fields()
        )
        return (
            "import requests\n\n"
            f"answer = requests.post(\n    {json.dumps(api_url)},\n"
            f"    data={{\n{fields},\n    }},\n"
            "    timeout=30,\n"
            ").json()\nprint(answer)"
        )


def action_for(name: str, data: Mapping[str, str]) -> Action | None:
    """The form of the named action that these fields ask for (the multi form when its field is sent)."""
    forms = [action for action in ACTIONS if action.name == name]
    for action in forms:
        if action.when is not None and action.when in data:
            return action
    return next((action for action in forms if action.when is None), None)


def perform(action: Action, call: Call) -> Any:
    """Checks the required parameters, then runs the handler. Raises ApiError."""
    for param in action.params:
        if param.required and not any(call.get(name) for name in (param.name, *param.aliases)):
            raise ApiError(param.missing)
    return action.handler(call)


# Formatting -----------------------------------------------------------------------------------------------


def money(amount: Decimal) -> str:
    """An amount as the protocol writes charges and balances: a string with 5 decimals, "0.27819"."""
    return format(amount.quantize(AMOUNT), "f")


def parse_id(text: str) -> int | None:
    return protocol.number_id(text, max_digits=MAX_ID_DIGITS)


def split_ids(text: str) -> list[str]:
    """The comma-separated ids as sent (at most 100); duplicates once. Raises ApiError."""
    try:
        return protocol.split_ids(text)
    except ValueError:
        raise ApiError(INCORRECT_REQUEST) from None


def echo_id(token: str) -> int | str:
    """An id in a list answer: a number when it is one, else as it was sent."""
    number = parse_id(token)
    return token if number is None else number


def order_answer(order: Order | OrderState) -> dict:
    """An order's status in the shape clients know; a subscription's in part 3's (posts served, expiry,
    child orders), a drip-feed's with its runs done (and child orders) once the provider has said."""
    if order.is_subscription:
        return {
            "charge": money(order.charge - order.refund),
            "status": ORDER_STATUS_TEXT[order.status],
            "expiry": order.upstream_fields.get("expiry") or None,
            "posts": str(order.posts_done or 0),
            "orders": order.child_orders,
        }
    answer = {
        "charge": money(order.charge - order.refund),
        "start_count": str(order.start_count or 0),
        "status": ORDER_STATUS_TEXT[order.status],
        "remains": str(order.remains if order.remains is not None else order.quantity),
    }
    if order.is_dripfeed and order.runs_done is not None:
        answer.update(runs=str(order.runs_done), orders=order.child_orders)
    return answer


def _orders_by_token(call: Call, tokens: list[str]) -> dict[str, Order | None]:
    ids = {token: parse_id(token) for token in tokens}
    found = api_orders_for_user(user=call.user, order_ids=filter(None, ids.values()))
    return {token: found.get(ids[token]) for token in tokens}


def _states_by_token(call: Call, tokens: list[str]) -> dict[str, OrderState | None]:
    ids = {token: parse_id(token) for token in tokens}
    found = api_order_states_for_user(user=call.user, order_ids=filter(None, ids.values()))
    return {token: found.get(ids[token]) for token in tokens}


# Handlers -------------------------------------------------------------------------------------------------


def services(call: Call) -> list[dict]:
    answer = []
    for service in api_service_list():
        entry = {
            "service": service.pk,
            "name": service.display_name,
            "type": service.type,
            "category": service.category.name,
            "rate": format(service_rate_for(service=service, user=call.user), "f"),
            "min": str(service.min_quantity),
            "max": str(service.max_quantity),
            "refill": service.refill,
            "cancel": service.cancel,
            "dripfeed": service.offers_dripfeed,
        }
        if service.display_description:
            entry["desc"] = service.display_description
        answer.append(entry)
    return answer


def add(call: Call) -> dict:
    if call.idempotency_key is None:
        return _place(call)
    fields = {"action": "add", **{name: call.data.get(name, "") for name in ADD_FINGERPRINT_FIELDS}}
    try:
        return idempotent_answer(
            user=call.user,
            key=call.idempotency_key,
            fingerprint=request_fingerprint(fields),
            produce=lambda: _place(call),
        )
    except IdempotencyKeyReused:
        raise ApiError(IDEMPOTENCY_KEY_REUSED) from None


def _place(call: Call) -> dict:
    service = api_service_get(service_id=parse_id(call.get("service")))
    try:
        order = order_place(
            user=call.user, service=service, **{name: call.data.get(name) for name in ADD_FIELDS}
        )
    except OrderError as exc:
        raise ApiError(_add_error(exc, service)) from None
    return {"order": order.pk}


def _add_error(exc: OrderError, service) -> str | Promise:
    if exc.code == "min":
        return protocol.quantity_below_min(service.min_quantity)
    if exc.code == "max":
        return protocol.quantity_above_max(service.max_quantity)
    return ADD_ERRORS.get(exc.code, exc.message)


def status(call: Call) -> dict:
    order = _states_by_token(call, [call.get("order")])[call.get("order")]
    if order is None:
        raise ApiError(INCORRECT_ORDER_ID)
    return {**order_answer(order), "currency": settings.PANEL_CURRENCY}


def statuses(call: Call) -> dict:
    orders = _states_by_token(call, split_ids(call.data["orders"]))
    return {
        token: order_answer(order) if order is not None else {"error": INCORRECT_ORDER_ID}
        for token, order in orders.items()
    }


def balance(call: Call) -> dict:
    return {"balance": money(wallet_balance(user=call.user)), "currency": settings.PANEL_CURRENCY}


def refill(call: Call) -> dict:
    order = _orders_by_token(call, [call.get("order")])[call.get("order")]
    if order is None:
        raise ApiError(INCORRECT_ORDER_ID)
    try:
        created = refill_request(user=call.user, order=order)
    except OrderError as exc:
        raise ApiError(exc.message) from None
    return {"refill": str(created.pk)}


def refills(call: Call) -> list[dict]:
    return _per_order(
        call,
        split_ids(call.data["orders"]),
        refill_request_many,
        "refill",
        lambda refill: refill.pk if refill is not None else {"error": INCORRECT_REQUEST},
    )


def refill_status(call: Call) -> dict:
    refill_id = parse_id(call.get("refill"))
    found = api_refills_for_user(user=call.user, refill_ids=[refill_id] if refill_id is not None else [])
    if refill_id not in found:
        raise ApiError(REFILL_NOT_FOUND)
    return {"status": REFILL_STATUS_TEXT[found[refill_id].status]}


def refill_statuses(call: Call) -> list[dict]:
    tokens = split_ids(call.data["refills"])
    found = api_refills_for_user(user=call.user, refill_ids=filter(None, map(parse_id, tokens)))
    answer = []
    for token in tokens:
        refill_row = found.get(parse_id(token))
        status_text = (
            REFILL_STATUS_TEXT[refill_row.status] if refill_row is not None else {"error": REFILL_NOT_FOUND}
        )
        answer.append({"refill": echo_id(token), "status": status_text})
    return answer


def cancel(call: Call) -> list[dict]:
    tokens = split_ids(call.data["orders"]) if call.get("orders") else [call.get("order")]
    return _per_order(
        call,
        tokens,
        orders_cancel,
        "cancel",
        lambda accepted: 1 if accepted is True else {"error": protocol.CANCEL_NOT_ACCEPTED},
    )


def _per_order(call: Call, tokens: list[str], act, field: str, answer_for) -> list[dict]:
    """A multi answer, one row per id as sent: `act`'s result for the customer's orders, else the error."""
    orders = _orders_by_token(call, tokens)
    results = act(user=call.user, orders=[order for order in orders.values() if order is not None])
    answer = []
    for token, order in orders.items():
        result = results.get(order.pk) if order is not None else None
        if order is None:
            item = {"error": INCORRECT_ORDER_ID}
        elif isinstance(result, OrderError):
            item = {"error": str(result.message)}
        else:
            item = answer_for(result)
        answer.append({"order": echo_id(token), field: item})
    return answer


# The definitions ------------------------------------------------------------------------------------------

# Sent with every action; the endpoint checks them before dispatching.
COMMON_PARAMS = (
    Param("key", _("Your API key (made on the API page or your account page)."), example="YOUR_API_KEY"),
    Param("action", _("The action's name, as in each heading below.")),
)
ORDER = Param("order", _("Order ID."), example="23501", missing=INCORRECT_ORDER_ID)
ORDERS = Param(
    "orders", _("Order IDs separated by commas, at most 100 (e.g. 123,456,789)."), example="23501,23502,99"
)


def _currency() -> str:
    return settings.PANEL_CURRENCY


ACTIONS: tuple[Action, ...] = (
    Action(
        name="services",
        title=_("Service list"),
        description=_(
            "Everything you can order: our service ids, your rate per 1000 in "
            "the panel currency (after any discount), minimum and maximum quantity, and whether refills and "
            "cancels are offered."
        ),
        params=(),
        example=lambda: [
            {
                "service": 1,
                "name": "Instagram Followers [Real, 30 days refill]",
                "type": protocol.ServiceType.DEFAULT,
                "category": "Instagram",
                "rate": "2.4050",
                "min": "100",
                "max": "100000",
                "refill": True,
                "cancel": True,
                "dripfeed": False,
                "desc": "Real-looking accounts. Start 0-1 hours, 10k/day.",
            },
            {
                "service": 6,
                "name": "Instagram 1000 Followers Package",
                "type": protocol.ServiceType.PACKAGE,
                "category": "Instagram",
                "rate": "3.7700",
                "min": "1",
                "max": "1",
                "refill": False,
                "cancel": False,
                "dripfeed": False,
            },
        ],
        handler=services,
    ),
    Action(
        name="add",
        title=_("Place an order"),
        description=_(
            "Charges your balance and answers the order id at once; the order is then placed "
            "with our provider in the background (its status reads Pending meanwhile). Send an "
            "Idempotency-Key header (up to 100 characters) to make retries safe: the same key with the same "
            "fields answers the first order again instead of placing a second one."
        ),
        params=(
            Param("service", _("Service ID (from services)."), example="1", missing=INCORRECT_SERVICE_ID),
            Param(
                "link",
                _("Link to the page, post or profile (every type but Subscriptions)."),
                required=False,
                example="https://instagram.com/p/abc",
            ),
            Param(
                "quantity",
                _("Needed quantity (Default services; a Package is always 1)."),
                required=False,
                example="1000",
            ),
            Param(
                "runs",
                _(
                    "Drip-feed, on services listed with dripfeed true: how many runs of the quantity to "
                    "deliver (2 or more); you pay for runs x quantity."
                ),
                required=False,
            ),
            Param(
                "interval",
                _("Drip-feed: minutes between runs, such as 0, 5, 10, 15, 30, 60 or 90."),
                required=False,
            ),
            Param(
                "comments",
                _(
                    "Custom Comments (and Custom Comments Package) services: one comment per line; the "
                    "quantity is the number of lines."
                ),
                required=False,
            ),
            Param(
                "usernames",
                _(
                    "Mentions services: one username per line (Mentions Custom List: the quantity is "
                    "their number)."
                ),
                required=False,
            ),
            Param("hashtags", _("Mentions with Hashtags: one hashtag per line."), required=False),
            Param("hashtag", _("Mentions Hashtag: the hashtag."), required=False),
            Param(
                "username",
                _("Mentions User Followers, Comment Likes and Subscriptions: the username."),
                required=False,
            ),
            Param("media", _("Mentions Media Likers: the media link."), required=False),
            Param("answer_number", _("Poll: the answer's number."), required=False),
            Param("keywords", _("SEO: one keyword per line."), required=False),
            Param("min", _("Subscriptions: the least quantity per post."), required=False),
            Param("max", _("Subscriptions: the most quantity per post."), required=False),
            Param(
                "posts",
                _("Subscriptions: how many new posts (required here); you pay posts x max at placement."),
                required=False,
            ),
            Param("delay", _("Subscriptions: minutes after a post appears."), required=False),
            Param("expiry", _("Subscriptions, optional: the last day, as dd/mm/yyyy."), required=False),
            Param("old_posts", _("Subscriptions, optional: existing posts to include."), required=False),
        ),
        example=lambda: {"order": 23501},
        handler=add,
    ),
    Action(
        name="status",
        title=_("Order status"),
        description=_(
            "Status, what you paid net of refunds (charge), the start count and what remains "
            "undelivered. Statuses: Pending, In progress, Processing, Completed, Partial, Canceled. A "
            "drip-feed order adds runs (the runs done) and orders (its runs' ids); a subscription answers "
            "status (Active, Paused, Completed, Expired, Canceled), expiry, posts (the posts served) and "
            "orders instead."
        ),
        params=(ORDER,),
        example=lambda: {
            "charge": "0.27819",
            "start_count": "3572",
            "status": protocol.OrderStatus.PARTIAL,
            "remains": "157",
            "currency": _currency(),
        },
        handler=status,
    ),
    Action(
        name="status",
        title=_("Status of many orders"),
        description=_(
            "Up to 100 orders in one call, keyed by the ids as you sent them; an id that is not "
            "one of your orders gets an error in its place."
        ),
        params=(ORDERS,),
        example=lambda: {
            "23501": {
                "charge": "0.27819",
                "start_count": "3572",
                "status": protocol.OrderStatus.PARTIAL,
                "remains": "157",
            },
            "23502": {
                "charge": "1.44219",
                "start_count": "234",
                "status": protocol.OrderStatus.IN_PROGRESS,
                "remains": "10",
            },
            "99": {"error": INCORRECT_ORDER_ID},
        },
        handler=statuses,
        when="orders",
    ),
    Action(
        name="balance",
        title=_("Balance"),
        description=_("Your balance and the panel currency."),
        params=(),
        example=lambda: {"balance": "100.84292", "currency": _currency()},
        handler=balance,
    ),
    Action(
        name="refill",
        title=_("Refill an order"),
        description=_(
            "Asks for a refill of a completed order of a service that offers refills; answers the refill id."
        ),
        params=(ORDER,),
        example=lambda: {"refill": "1"},
        handler=refill,
    ),
    Action(
        name="refill",
        title=_("Refill many orders"),
        description=_("Up to 100 orders in one call; each gets its refill id or its own error."),
        params=(ORDERS,),
        example=lambda: [
            {"order": 23501, "refill": 1},
            {"order": 99, "refill": {"error": INCORRECT_ORDER_ID}},
        ],
        handler=refills,
        when="orders",
    ),
    Action(
        name="refill_status",
        title=_("Refill status"),
        description=_("Pending, In progress, Completed or Rejected."),
        params=(Param("refill", _("Refill ID."), example="1", missing=REFILL_NOT_FOUND),),
        example=lambda: {"status": protocol.RefillStatus.COMPLETED},
        handler=refill_status,
    ),
    Action(
        name="refill_status",
        title=_("Status of many refills"),
        description=_("Up to 100 refills in one call; an unknown id gets an error in its place."),
        params=(Param("refills", _("Refill IDs separated by commas, at most 100."), example="1,2,3"),),
        example=lambda: [
            {"refill": 1, "status": protocol.RefillStatus.COMPLETED},
            {"refill": 2, "status": protocol.RefillStatus.REJECTED},
            {"refill": 3, "status": {"error": REFILL_NOT_FOUND}},
        ],
        handler=refill_statuses,
        when="refills",
    ),
    Action(
        name="cancel",
        title=_("Cancel orders"),
        description=_(
            "Asks to cancel orders that have not started yet, for services that offer cancels; "
            "a canceled order is refunded in full once the provider confirms. 1 means the request was "
            "accepted."
        ),
        params=(
            Param(
                "orders",
                _("Order IDs separated by commas, at most 100 (or one id as order)."),
                example="23501,99",
                aliases=("order",),
            ),
        ),
        example=lambda: [
            {"order": 99, "cancel": {"error": INCORRECT_ORDER_ID}},
            {"order": 23501, "cancel": 1},
        ],
        handler=cancel,
    ),
)
