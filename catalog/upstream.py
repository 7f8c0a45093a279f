"""The client for the upstream "SMM panel API v2": the only module that talks HTTP to providers.

Every failure says what is safe to do next:

- `Rejected`: the provider answered `{"error": ...}`; nothing happened there.
- `Unreachable`: the request provably never arrived (refused, DNS, connect timeout); safe to resend.
- `Ambiguous`: it may have been processed (read timeout, reset after sending, 5xx, HTML, broken JSON, an
  answer we cannot read); never resend an `add` after this.

Answers are parsed the way real providers send them (see shared/upstream-api-v2.md): numbers as strings or
numbers, booleans as true/"1"/1/0, unknown extra fields, per-id errors inside multi answers.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter

from catalog import protocol

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 300
MAX_COUNT = 2**31 - 1  # runs done or posts served beyond this is no count (and fits no column)


# Errors ---------------------------------------------------------------------------------------------------


class UpstreamError(Exception):
    """Base class; `str()` is a clean message that never contains the API key."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Rejected(UpstreamError):
    """The provider answered with an error: nothing happened upstream."""


class Unreachable(UpstreamError):
    """The request never reached the provider: safe to retry, even an `add`."""


class Ambiguous(UpstreamError):
    """The request may have been processed: never resend an `add` after this."""


class Throttled(Unreachable):
    """The provider refused the request for now (HTTP 429, or an error saying "too many requests"): nothing
    happened there, and it wants to be asked less often. `retry_after`: the seconds it asked us to wait,
    when it said (the Retry-After header)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(Ambiguous):
    """The provider failed to answer (HTTP 5xx, or no answer in time): it may have processed the request,
    and it is in no state to be asked more for a while."""


def backs_off(exc: UpstreamError) -> bool:
    """True when the provider should be left alone for a while after this error: it throttled us, failed
    with a 5xx, timed out or could not be reached. (A refusal or an unreadable answer says nothing of its
    load.)"""
    return isinstance(exc, Unreachable | Overloaded)


_THROTTLED = re.compile(r"too many|rate.?limit|slow down|try again later", re.IGNORECASE)


# Results --------------------------------------------------------------------------------------------------


NO_ANSWER = "No answer for this order"  # a multi answer that left an id out: nothing known of it


@dataclass(frozen=True)
class ItemError:
    """A per-id error inside a multi answer (the rest of the batch is fine)."""

    message: str


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    type: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool
    description: str
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class OrderStatus:
    """An order's status answer, in any of the shapes of parts 1 and 3: the usual one (charge,
    start_count, remains), a drip-feed's (runs done, child orders) or a subscription's (posts served,
    expiry, child orders; its status one of protocol.SubscriptionStatus)."""

    status: protocol.OrderStatus | protocol.SubscriptionStatus
    charge: Decimal | None
    start_count: int | None
    remains: int | None
    currency: str | None
    raw: dict = field(repr=False, compare=False)
    runs: int | None = None
    posts: int | None = None
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RefillStatus:
    status: protocol.RefillStatus
    raw: dict = field(repr=False, compare=False)


# Parsing --------------------------------------------------------------------------------------------------


class _BadValue(ValueError):
    pass


class _ItemRejected(_BadValue):
    """The provider's own per-item error, e.g. `{"refill": 3, "status": {"error": "Refill not found"}}`."""


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _BadValue(f"not a number: {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _BadValue(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise _BadValue(f"not a number: {value!r}")
    return number


def parse_int(value: Any) -> int:
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise _BadValue(f"not a whole number: {value!r}")
    return int(number)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise _BadValue(f"not a boolean: {value!r}")


def _answer_id(value: Any) -> str:
    """An id in an answer: a bad one is the provider's fault, a _BadValue like any unreadable field."""
    try:
        return protocol.parse_id(value)
    except ValueError as exc:
        raise _BadValue(str(exc)) from None


def parse_status(value: Any, statuses: type[protocol.S]) -> protocol.S:
    if not isinstance(value, str):
        raise _BadValue(f"not a status: {value!r}")
    status = protocol.status_named(value, statuses)
    if status is None:
        raise _BadValue(f"unknown status: {value[:40]!r}")
    return status


def _optional(parser, value):
    if value is None or value == "":
        return None
    return parser(value)


def clean_message(value: Any) -> str:
    """A provider's error text, safe to show to a customer: plain, one line, bounded."""
    text = value if isinstance(value, str) else str(value)
    text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    return text or "Unknown error"


def _error_in(item: Any) -> str | None:
    """The error text of an `{"error": ...}` object or a bare string error, else None."""
    if isinstance(item, dict) and "error" in item and item["error"] not in (None, "", False):
        return clean_message(item["error"])
    if isinstance(item, str):
        return clean_message(item)
    return None


def parse_service(raw: dict) -> Service:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _BadValue("service without a name")
    return Service(
        service_id=_answer_id(raw.get("service")),
        name=name.strip(),
        type=str(raw.get("type") or protocol.ServiceType.DEFAULT).strip(),
        category=str(raw.get("category") or "").strip(),
        rate=parse_decimal(raw.get("rate")),
        min=parse_int(raw.get("min")),
        max=parse_int(raw.get("max")),
        refill=parse_bool(raw.get("refill")),
        cancel=parse_bool(raw.get("cancel")),
        dripfeed=parse_bool(raw.get("dripfeed")),
        description=str(raw.get("desc") or raw.get("description") or "").strip(),
        raw=raw,
    )


def parse_order_status(raw: Any) -> OrderStatus:
    if not isinstance(raw, dict):
        raise _BadValue("status answer is not an object")
    currency = raw.get("currency")
    text = raw.get("status")
    status = protocol.status_named(text, protocol.OrderStatus)
    return OrderStatus(
        status=status or parse_status(text, protocol.SubscriptionStatus),
        charge=_optional(parse_decimal, raw.get("charge")),
        start_count=_optional(parse_int, raw.get("start_count")),
        remains=_optional(parse_int, raw.get("remains")),
        currency=str(currency).strip().upper() if currency else None,
        raw=raw,
        runs=_count_or_none(raw.get("runs")),
        posts=_count_or_none(raw.get("posts")),
        children=_child_ids(raw.get("orders")),
    )


def _count_or_none(value: Any) -> int | None:
    """A count of runs done or posts served; a negative one is unreadable."""
    number = _optional(parse_int, value)
    if number is not None and not 0 <= number <= MAX_COUNT:
        raise _BadValue(f"not a count: {value!r}")
    return number


def _child_ids(value: Any) -> tuple[str, ...]:
    """A drip-feed's or a subscription's child orders ("orders": [ids]); ids that are none are left out."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    ids = []
    for item in value[:1000]:
        try:
            ids.append(protocol.parse_id(item))
        except ValueError:
            continue
    return tuple(dict.fromkeys(ids))


# Transport ------------------------------------------------------------------------------------------------

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


def _session_for(url: str) -> requests.Session:
    """One pooled session per provider URL, shared by every client of that provider in this process."""
    with _sessions_lock:
        session = _sessions.get(url)
        if session is None:
            session = requests.Session()
            # No automatic retries: whether a retry is safe is the caller's decision.
            # As many kept-alive connections as calls may be in flight (catalog/pool.py).
            size = max(16, settings.UPSTREAM_CONCURRENCY)
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "Reseller/0.1 (+SMM panel API v2 client)"
            session.headers["Accept"] = "application/json"
            _sessions[url] = session
        return session


def _forget_sessions_after_fork() -> None:
    """A forked child (a Celery prefork worker, a benchmark's process) starts with no sessions: the parent's
    kept-alive sockets are shared with it, and two processes reading answers from one connection get each
    other's answers (an `add`'s order id read by the wrong process). The parent's sockets are left open for
    the parent; the child only drops its references."""
    global _sessions_lock
    _sessions.clear()
    _sessions_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_sessions_after_fork)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the provider.

    TLS and proxy errors are not on the list: they also happen while reading an answer to a request that
    was sent, and the two cannot be told apart reliably, so they count as ambiguous.
    """
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return True
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


# How a call ended, by the error it raised, for the `observe` callback (catalog.models.Outcome's values).
OK = "ok"
OUTCOMES: dict[type[UpstreamError], str] = {  # the first that the error is an instance of
    Throttled: "throttled",
    Rejected: "rejected",
    Unreachable: "unreachable",
    Ambiguous: "ambiguous",
}


def _unique_ids(ids: Iterable[Any]) -> list[str]:
    """The caller's ids, canonical and once each; a bad one is the caller's ValueError."""
    return list(dict.fromkeys(protocol.parse_id(value) for value in ids))


class Client:
    """Talks to one provider. Cheap to create; the HTTP connection pool is shared per provider URL.

    `observe`, if given, is told of every HTTP call once it is over: `observe(action=..., outcome=...,
    seconds=...)`, the outcome "ok" or the error's name in OUTCOMES. Whatever it raises is logged, never
    the caller's problem.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        observe: Callable[..., None] | None = None,
    ):
        self.url = url
        self._key = key
        self._observe = observe
        self.connect_timeout = connect_timeout or settings.UPSTREAM_CONNECT_TIMEOUT
        self.read_timeout = read_timeout or settings.UPSTREAM_READ_TIMEOUT
        self._session = _session_for(url)

    def __repr__(self) -> str:
        return f"<upstream.Client {self.host}>"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    # Protocol actions -------------------------------------------------------------------------------------

    def services(self) -> tuple[list[Service], list[ItemError]]:
        """The catalog, and one ItemError per record we could not read (the rest still counts)."""
        answer = self._call("services")
        if isinstance(answer, dict) and isinstance(answer.get("data"), list):
            answer = answer["data"]
        if not isinstance(answer, list):
            raise Ambiguous(f"{self.host}: services answer is not a list")
        services, problems = [], []
        for raw in answer:
            try:
                services.append(parse_service(raw if isinstance(raw, dict) else {}))
            except _BadValue as exc:
                problems.append(ItemError(f"service {str(raw)[:80]}: {exc}"))
        return services, problems

    def add(self, *, service: str, **fields: Any) -> str:
        """Places an order; returns the upstream order id. `fields`: link, quantity, comments, runs, ..."""
        params = {"service": str(service)}
        params.update({name: str(value) for name, value in fields.items() if value is not None})
        answer = self._call("add", **params)
        try:
            return _answer_id(answer["order"])
        except (KeyError, TypeError, _BadValue):
            # The provider said something other than an id: the order may exist. Never resend.
            raise Ambiguous(f"{self.host}: add answer has no order id") from None

    def status(self, order_id: Any) -> OrderStatus:
        answer = self._call("status", order=protocol.parse_id(order_id))
        try:
            return parse_order_status(answer)
        except _BadValue as exc:
            raise Ambiguous(f"{self.host}: unreadable status answer: {exc}") from None

    def statuses(self, order_ids: Iterable[Any]) -> dict[str, OrderStatus | ItemError]:
        """Status of many orders, one call per 100 ids; keyed by upstream order id."""
        results: dict[str, OrderStatus | ItemError] = {}
        for chunk in protocol.chunks(_unique_ids(order_ids)):
            answer = self._call("status", orders=protocol.join_ids(chunk))
            if not isinstance(answer, dict):
                raise Ambiguous(f"{self.host}: multi status answer is not an object")
            by_id = _keyed(answer)
            for order_id in chunk:
                results[order_id] = _item(by_id, order_id, parse_order_status, protocol.INCORRECT_ORDER_ID)
        return results

    def balance(self) -> Balance:
        answer = self._call("balance")
        try:
            currency = str(answer.get("currency") or "").strip().upper()
            return Balance(amount=parse_decimal(answer.get("balance")), currency=currency)
        except (AttributeError, _BadValue) as exc:
            raise Ambiguous(f"{self.host}: unreadable balance answer: {exc}") from None

    def refill(self, order_id: Any) -> str:
        """Asks for a refill of one order; returns the upstream refill id."""
        answer = self._call("refill", order=protocol.parse_id(order_id))
        value = answer.get("refill") if isinstance(answer, dict) else None
        error = _error_in(value) if isinstance(value, dict) else None
        if error:
            raise Rejected(error)
        try:
            return _answer_id(value)
        except _BadValue:
            raise Ambiguous(f"{self.host}: refill answer has no refill id") from None

    def refills(self, order_ids: Iterable[Any]) -> dict[str, str | ItemError]:
        """Refill many orders, one call per 100 ids: order id -> refill id, or the per-order error."""
        results: dict[str, str | ItemError] = {}
        for chunk in protocol.chunks(_unique_ids(order_ids)):
            answer = self._call("refill", orders=protocol.join_ids(chunk))
            if isinstance(answer, dict) and "refill" in answer:
                # The card's shape: one refill for the whole batch.
                shared = _parse_refill_id(answer["refill"])
                results.update(dict.fromkeys(chunk, shared))
                continue
            by_id = _rows_by(answer, "order", self.host)
            for order_id in chunk:
                row = by_id.get(order_id)
                results[order_id] = (
                    ItemError(NO_ANSWER) if row is None else _parse_refill_id(row.get("refill"))
                )
        return results

    def refill_status(self, refill_id: Any) -> RefillStatus:
        answer = self._call("refill_status", refill=protocol.parse_id(refill_id))
        try:
            return _parse_refill_status(answer)
        except _ItemRejected as exc:
            raise Rejected(str(exc)) from None
        except _BadValue as exc:
            raise Ambiguous(f"{self.host}: unreadable refill status: {exc}") from None

    def refill_statuses(self, refill_ids: Iterable[Any]) -> dict[str, RefillStatus | ItemError]:
        results: dict[str, RefillStatus | ItemError] = {}
        for chunk in protocol.chunks(_unique_ids(refill_ids)):
            answer = self._call("refill_status", refills=protocol.join_ids(chunk))
            by_id = _keyed(answer) if isinstance(answer, dict) else _rows_by(answer, "refill", self.host)
            for refill_id in chunk:
                results[refill_id] = _item(by_id, refill_id, _parse_refill_status, protocol.REFILL_NOT_FOUND)
        return results

    def cancel(self, order_ids: Iterable[Any]) -> dict[str, bool | ItemError]:
        """Asks to cancel orders (one call per 100 ids): order id -> True, or the per-order error."""
        results: dict[str, bool | ItemError] = {}
        for chunk in protocol.chunks(_unique_ids(order_ids)):
            answer = self._call("cancel", orders=protocol.join_ids(chunk))
            by_id = _rows_by(answer, "order", self.host)
            for order_id in chunk:
                row = by_id.get(order_id)
                results[order_id] = ItemError(NO_ANSWER) if row is None else _parse_cancel(row.get("cancel"))
        return results

    # The one HTTP call ------------------------------------------------------------------------------------

    def _call(self, action: str, **params: str) -> Any:
        started = time.monotonic()
        try:
            answer = self._exchange(action, started, params)
        except UpstreamError as exc:
            outcome = next((name for kind, name in OUTCOMES.items() if isinstance(exc, kind)), "ambiguous")
            self._observed(action, outcome, started)
            raise
        self._observed(action, OK, started)
        return answer

    def _observed(self, action: str, outcome: str, started: float) -> None:
        if self._observe is None:
            return
        try:
            self._observe(action=action, outcome=outcome, seconds=time.monotonic() - started)
        except Exception:
            log.exception("upstream %s %s: the observer failed", self.host, action)

    def _exchange(self, action: str, started: float, params: dict[str, str]) -> Any:
        data = {"key": self._key, "action": action, **params}
        try:
            response = self._session.post(
                self.url, data=data, timeout=(self.connect_timeout, self.read_timeout)
            )
            body = response.content
        except requests.RequestException as exc:
            if _never_sent(exc):
                kind = Unreachable
            elif isinstance(exc, requests.ReadTimeout):
                kind = Overloaded
            else:
                kind = Ambiguous
            message = f"{self.host}: {action}: {self._describe(exc)}"
            log.warning("upstream %s %s failed: %s", self.host, action, kind.__name__)
            raise kind(self._scrub(message)) from None
        elapsed = time.monotonic() - started
        # A multi-id call (a sweep makes hundreds) is routine: DEBUG. Single calls stay at INFO.
        level = logging.DEBUG if "orders" in params or "refills" in params else logging.INFO
        log.log(
            level,
            "upstream %s %s -> HTTP %s in %.0f ms",
            self.host,
            action,
            response.status_code,
            elapsed * 1000,
        )
        if response.status_code == 429:
            raise Throttled(f"{self.host}: {action}: HTTP 429", retry_after=_retry_after(response))
        answer = self._json(action, response, body)
        error = _error_in(answer) if isinstance(answer, dict) else None
        if error:
            if _THROTTLED.search(error):
                raise Throttled(self._scrub(error), retry_after=_retry_after(response))
            raise Rejected(self._scrub(error))
        if response.status_code >= 400:
            raise Ambiguous(f"{self.host}: {action}: HTTP {response.status_code}")
        return answer

    def _json(self, action: str, response: requests.Response, body: bytes) -> Any:
        if response.status_code >= 500:
            raise Overloaded(f"{self.host}: {action}: HTTP {response.status_code}")
        try:
            return response.json() if body else _raise_empty()
        except ValueError:
            looks_html = body.lstrip()[:1] == b"<" or "html" in response.headers.get("Content-Type", "")
            what = "an HTML page" if looks_html else "a body that is not JSON"
            raise Ambiguous(f"{self.host}: {action}: HTTP {response.status_code} with {what}") from None

    def _describe(self, exc: requests.RequestException) -> str:
        if isinstance(exc, requests.ConnectTimeout):
            return "connect timeout"
        if isinstance(exc, requests.ReadTimeout):
            return "read timeout: the provider may have processed the request"
        if _never_sent(exc):
            return "connection failed"
        return f"connection broken after sending ({type(exc).__name__})"

    def _scrub(self, text: str) -> str:
        # A key of a few characters cannot leak anything worth hiding, but replacing it would mangle words.
        return text.replace(self._key, "***") if len(self._key) >= 6 else text


def _retry_after(response: requests.Response) -> float | None:
    """The Retry-After header's seconds (0 to an hour), if it gives a number; a date is not worth parsing."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), 3600.0) if seconds == seconds else None  # (NaN is no number)


def _raise_empty():
    raise ValueError("empty body")


def _parse_cancel(value: Any) -> bool | ItemError:
    try:
        if parse_bool(value):
            return True
    except _BadValue:
        pass
    error = _error_in(value) if isinstance(value, dict | str) and value not in ("0", "") else None
    return ItemError(error or protocol.CANCEL_NOT_ACCEPTED)


def _keyed(answer: dict) -> dict[str, Any]:
    keyed = {}
    for key, value in answer.items():
        try:
            keyed[_answer_id(key)] = value
        except _BadValue:
            continue
    return keyed


def _rows_by(answer: Any, id_field: str, host: str) -> dict[str, dict]:
    if isinstance(answer, dict):
        answer = [answer]
    if not isinstance(answer, list):
        raise Ambiguous(f"{host}: multi answer is not a list")
    rows = {}
    for row in answer:
        if isinstance(row, dict):
            try:
                rows[_answer_id(row.get(id_field))] = row
            except _BadValue:
                continue
    return rows


def _item(by_id: dict[str, Any], item_id: str, parser, missing: str):
    raw = by_id.get(item_id)
    if raw is None:
        return ItemError(missing)
    error = _error_in(raw)
    if error:
        return ItemError(error)
    try:
        return parser(raw)
    except _ItemRejected as exc:
        return ItemError(str(exc))
    except _BadValue as exc:
        return ItemError(f"Unreadable answer: {exc}")


def _parse_refill_id(value: Any) -> str | ItemError:
    error = _error_in(value) if isinstance(value, dict) else None
    if error:
        return ItemError(error)
    try:
        return _answer_id(value)
    except _BadValue:
        return ItemError("Unreadable refill id")


def _parse_refill_status(raw: Any) -> RefillStatus:
    if not isinstance(raw, dict):
        raise _BadValue("refill status is not an object")
    status = raw.get("status")
    error = _error_in(status) if isinstance(status, dict) else None
    if error:
        raise _ItemRejected(error)
    return RefillStatus(status=parse_status(status, protocol.RefillStatus), raw=raw)
