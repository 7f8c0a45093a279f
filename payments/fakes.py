"""Fake payment gateways (Stripe Checkout, payOS, SePay) over real HTTP, so the demo and the tests top up end
to end without the network. Standard library only (plus payments.signatures and payments.vietqr): it runs
without Django, and the official SDKs talk to it as they would to the real services.

One server, three prefixes:
- `/stripe`: the panel sets `stripe.api_base = "<fake>/stripe"` (or the StripeClient's `base_addresses`).
  `POST /stripe/v1/checkout/sessions`, `GET /stripe/v1/checkout/sessions/<id>` and
  `POST /stripe/v1/checkout/sessions/<id>/expire` need `Authorization: Bearer <secret key>`. The customer's
  page is `GET /stripe/pay/<id>` (buttons `#pay`, `#cancel`).
- `/payos`: the panel passes `base_url="<fake>/payos/"` to `payos.PayOS`; the SDK urljoins "v2/...", so a
  base URL without the trailing slash reaches `/v2/...`, which is served too. The customer's page is
  `GET /payos/web/<paymentLinkId>` (buttons `#pay`, `#cancel`).
- `/sepay`: a page (`GET /sepay/`) with a form that makes a bank transfer, for the demo.
- `POST /<gateway>/_control/<action>`, JSON in and out, no authentication (bind to 127.0.0.1): what happens
  out of the customer's sight (refunds, disputes, expiry, transfers), for demos and tests.
- `GET /`: an index of what the fake holds.

Conventions where the gateways' documentation is silent or where a fake must choose:
- Webhooks go to `<panel_url>/payments/<gateway>/webhook/`, once, synchronously, in the thread of the request
  (or call) that caused them, after the state change and outside the lock (so the panel may call the fake
  back while it handles one). No proxy, no redirect followed (a 3xx is recorded as the answer), timeout
  10 s; never raising: an unreachable panel is recorded with status None. There are no automatic retries:
  SePay's are replayed with `sepay_redeliver`. Every delivery is kept in `FakeGateways.deliveries`.
- Stripe: Checkout Sessions in `mode=payment` with `price_data` line items only; the amount is the sum of
  unit_amount x quantity, in the currency's minor unit. The same `Idempotency-Key` with the same parameters
  answers the same session; with other parameters, an `idempotency_error`. Sessions do not expire by the
  clock: `stripe_expire` (or the API's expire) does it and sends `checkout.session.expired`. Paying creates
  a payment intent `pi_...` and a charge `ch_...`; refunds and disputes name the payment intent. A dispute
  closes (won or lost) only once it was created.
- payOS: API errors are HTTP 200 with a code other than "00" (the SDK raises APIError), except a wrong key
  (HTTP 401). The request's five signed fields are checked, then its types, then the orderCode's reuse
  ("231"). A description is at most 25 characters. A link whose `expiredAt` is past reads EXPIRED (payOS
  sends no webhook for that). Only payments are notified; a cancel is not. Times are Vietnam time (UTC+7).
- SePay: transfer ids count up from `sepay_first_id`; `accumulated` is the account's running balance
  (a transfer "out" lowers it). The webhook carries `Authorization: Apikey <sepay_api_key>`.
- Python callers get `NotFound` for an unknown id and `ValueError` for an action the object's state forbids;
  the control endpoints answer those as HTTP 404 and 400 with `{"error": message}`.
"""

from __future__ import annotations

import copy
import hmac
import html
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import Message
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit

from catalog.fake_server import FakeHTTPServer, ServerRunner
from payments import signatures, vietqr

logger = logging.getLogger("payments.fakes")

STRIPE_WEBHOOK_PATH = "/payments/stripe/webhook/"
PAYOS_WEBHOOK_PATH = "/payments/payos/webhook/"
SEPAY_WEBHOOK_PATH = "/payments/sepay/webhook/"
DELIVERY_TIMEOUT = 10  # seconds
ANSWER_LIMIT = 2000  # characters of the panel's answer kept per delivery

STRIPE_API_VERSION = "2024-06-20"
SESSION_LIFETIME = 86400  # seconds, Stripe's default
ZERO_DECIMAL_CURRENCIES = frozenset(  # Stripe's list
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
DISPUTE_OUTCOMES = ("created", "won", "lost")

PAYOS_DESCRIPTION_LIMIT = 25
PAYOS_MAX_ORDER_CODE = 9007199254740991
VIETNAM = timezone(timedelta(hours=7), "ICT")
COUNTER_ACCOUNT = {
    "counterAccountBankId": "",
    "counterAccountBankName": "",
    "counterAccountName": "NGUYEN VAN A",
    "counterAccountNumber": "9876543210",
    "virtualAccountName": "",
    "virtualAccountNumber": "",
}

SEPAY_GATEWAY = "MBBank"
TRANSFER_TYPES = ("in", "out")


@dataclass
class FakeGatewaysConfig:
    panel_url: str = "http://127.0.0.1:8000"  # where webhooks are POSTed
    stripe_secret_key: str = "sk_test_demo"  # noqa: S105 (the demo's, not a secret)
    stripe_webhook_secret: str = "whsec_demo"  # noqa: S105
    payos_client_id: str = "demo-client"
    payos_api_key: str = "demo-api-key"
    payos_checksum_key: str = "demo-checksum-key"
    sepay_api_key: str = "demo-sepay-key"
    bank_bin: str = "970422"
    bank_account: str = "0123456789"
    bank_account_name: str = "RESELLER DEMO"
    sepay_first_id: int = 92704001

    def __post_init__(self) -> None:
        self.panel_url = self.panel_url.rstrip("/")


class NotFound(LookupError):
    """No session, payment intent, payment link or transfer with this id."""


class GatewayError(Exception):
    """An API request the gateway refuses: the HTTP status and the JSON body it answers."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


# Small helpers


def _token(prefix: str, size: int = 12) -> str:
    return prefix + secrets.token_hex(size)


def _reference() -> str:
    return "FT" + "".join(str(secrets.randbelow(10)) for _ in range(12))


def _vietnam_time() -> str:
    return datetime.now(VIETNAM).strftime("%Y-%m-%d %H:%M:%S")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def with_query(url: str, params: dict[str, object]) -> str:
    """`url` with `params` appended to its query string (before any fragment)."""
    url, hash_, fragment = url.partition("#")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(params)}{hash_}{fragment}"


def nested_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding read back: `a[b][0][c]=v` is {"a": {"b": [{"c": "v"}]}}, `a[]=v` appends."""
    root: dict = {}
    for key, value in pairs:
        names = _key_names(key)
        node = root
        for name in names[:-1]:
            name = name or str(len(node))
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        node[names[-1] or str(len(node))] = value
    return _with_lists(root)


def _key_names(key: str) -> list[str]:
    match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
    if not match:
        return [key]
    return [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]


def _with_lists(node: object) -> object:
    if not isinstance(node, dict):
        return node
    items = {name: _with_lists(value) for name, value in node.items()}
    if items and all(name.isdigit() for name in items):
        return [items[name] for name in sorted(items, key=int)]
    return items


# Delivery


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        """A gateway does not follow a webhook's redirect: the 3xx is the answer."""
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int | None, str]:
    if not url.startswith(("http://", "https://")):  # so that urllib opens no file: or other scheme
        return None, "not an http(s) URL"
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=DELIVERY_TIMEOUT) as response:
            return response.status, _answer_text(response)
    except urllib.error.HTTPError as error:
        return error.code, _answer_text(error)
    except Exception as error:  # unreachable, refused, timed out, reset: recorded, never raised
        return None, f"{type(error).__name__}: {error}"


def _answer_text(response: object) -> str:
    try:
        return response.read(ANSWER_LIMIT * 4).decode("utf-8", errors="replace")[:ANSWER_LIMIT]
    except Exception as error:  # a body cut short
        return f"{type(error).__name__}: {error}"


# Stripe's shapes


def _stripe_error(
    status: int, message: str, *, param: str | None = None, code: str | None = None, kind: str | None = None
) -> GatewayError:
    error = {"type": kind or "invalid_request_error", "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return GatewayError(status, {"error": error})


def _stripe_missing(param: str) -> GatewayError:
    return _stripe_error(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _stripe_no_such(kind: str, object_id: str, param: str) -> GatewayError:
    return _stripe_error(404, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def _stripe_integer(params: dict, name: str, where: str, minimum: int) -> int:
    value = params.get(name)
    param = f"{where}[{name}]" if where else name
    if value is None or value == "":
        raise _stripe_missing(param)
    if not (isinstance(value, str) and value.isdigit()):
        raise _stripe_error(
            400, f"Invalid integer: {str(value)[:50]}", param=param, code="parameter_invalid_integer"
        )
    if int(value) < minimum:
        raise _stripe_error(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return int(value)


def _stripe_line_items(params: dict) -> tuple[int, str, list[str]]:
    """The total, the currency and the product names of a session's line items."""
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        raise _stripe_missing("line_items")
    total, currencies, names = 0, set(), []
    for index, item in enumerate(items):
        where = f"line_items[{index}]"
        price = item.get("price_data") if isinstance(item, dict) else None
        if not isinstance(price, dict):
            raise _stripe_missing(f"{where}[price_data]")  # the fake knows no Price objects
        unit_amount = _stripe_integer(price, "unit_amount", f"{where}[price_data]", 0)
        quantity = _stripe_integer(item, "quantity", where, 1)
        currency = price.get("currency")
        if not (isinstance(currency, str) and re.fullmatch(r"[A-Za-z]{3}", currency)):
            raise _stripe_missing(f"{where}[price_data][currency]")
        product = price.get("product_data")
        if not (isinstance(product, dict) and product.get("name")):
            raise _stripe_missing(f"{where}[price_data][product_data][name]")
        total += unit_amount * quantity
        currencies.add(currency.lower())
        names.append(str(product["name"]))
    if len(currencies) > 1:
        raise _stripe_error(400, "All line items must have the same currency.", param="line_items")
    if total < 1:
        raise _stripe_error(
            400, "The Checkout Session's total amount due must be positive.", param="line_items"
        )
    return total, currencies.pop(), names


def _stripe_session(params: dict, public_url: str) -> tuple[dict, list[str]]:
    """A new open Checkout Session from the create request's parameters, and its product names."""
    total, currency, names = _stripe_line_items(params)
    mode = params.get("mode")
    if not mode:
        raise _stripe_missing("mode")
    if mode != "payment":
        raise _stripe_error(400, "This fake supports mode=payment only.", param="mode")
    for name in ("success_url", "cancel_url"):
        if not (isinstance(params.get(name), str) and params[name]):
            raise _stripe_missing(name)
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _stripe_error(400, "Invalid object", param="metadata")
    now = int(time.time())
    expires_at = (
        _stripe_integer(params, "expires_at", "", 1) if params.get("expires_at") else now + SESSION_LIFETIME
    )
    session_id = _token("cs_test_", 24)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "url": f"{public_url}/stripe/pay/{session_id}",
        "status": "open",
        "payment_status": "unpaid",
        "amount_subtotal": total,
        "amount_total": total,
        "currency": currency,
        "client_reference_id": params.get("client_reference_id"),
        "customer_email": params.get("customer_email"),
        "metadata": metadata,
        "payment_intent": None,
        "success_url": params["success_url"],
        "cancel_url": params["cancel_url"],
        "mode": "payment",
        "livemode": False,
        "created": now,
        "expires_at": expires_at,
    }
    return session, names


def _stripe_event(kind: str, obj: dict) -> str:
    """An event's body, serialised once: it is signed and sent as is."""
    event = {
        "id": _token("evt_", 12),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": int(time.time()),
        "type": kind,
        "data": {"object": copy.deepcopy(obj)},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }
    return json.dumps(event)


def _charge(payment_intent: str, payment: dict) -> dict:
    return {
        "id": payment["charge"],
        "object": "charge",
        "payment_intent": payment_intent,
        "amount": payment["amount"],
        "amount_refunded": payment["amount_refunded"],
        "currency": payment["currency"],
        "refunded": payment["amount_refunded"] == payment["amount"],
        "status": "succeeded",
    }


def money_text(amount: int, currency: str) -> str:
    """An amount in a currency's minor unit as people read it: 1000 usd is "10.00 USD"."""
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return f"{amount:,} {currency.upper()}"
    return f"{amount / 100:,.2f} {currency.upper()}"


# payOS's shapes


def _payos_envelope(code: str, desc: str, data: dict | None = None, checksum_key: str = "") -> dict:
    signature = signatures.payos_signature(data, checksum_key) if data is not None else None
    return {"code": code, "desc": desc, "data": data, "signature": signature}


def _payos_error(code: str, desc: str, status: int = 200) -> GatewayError:
    return GatewayError(status, _payos_envelope(code, desc))


def _payos_check_request(body: object, checksum_key: str) -> dict:
    """The create request, checked: fields, signature, types, lengths (not the orderCode's reuse)."""
    if not isinstance(body, dict):
        raise _payos_error("20", "The body must be a JSON object")
    for name in signatures.PAYMENT_REQUEST_FIELDS:
        if body.get(name) is None:
            raise _payos_error("20", f"{name} is required")
    expected = signatures.payos_payment_request_signature(body, checksum_key)
    if not hmac.compare_digest(str(body.get("signature") or "").lower().encode(), expected.encode()):
        raise _payos_error("20", "Signature is invalid")
    if not (_is_int(body["orderCode"]) and 0 < body["orderCode"] <= PAYOS_MAX_ORDER_CODE):
        raise _payos_error("20", "orderCode must be a positive integer")
    if not (_is_int(body["amount"]) and body["amount"] > 0):
        raise _payos_error("20", "amount must be a positive integer")
    if not all(isinstance(body[name], str) for name in ("description", "cancelUrl", "returnUrl")):
        raise _payos_error("20", "description, cancelUrl and returnUrl must be strings")
    if len(body["description"]) > PAYOS_DESCRIPTION_LIMIT:
        raise _payos_error("20", f"description is limited to {PAYOS_DESCRIPTION_LIMIT} characters")
    if body.get("expiredAt") is not None and not _is_int(body["expiredAt"]):
        raise _payos_error("20", "expiredAt must be a Unix time")
    return body


def _payment_link(link: dict) -> dict:
    """A link as `GET /v2/payment-requests/<id>` answers it (the SDK's PaymentLink, no other field)."""
    return {
        "id": link["paymentLinkId"],
        "orderCode": link["orderCode"],
        "amount": link["amount"],
        "amountPaid": link["amountPaid"],
        "amountRemaining": link["amount"] - link["amountPaid"],
        "status": link["status"],
        "createdAt": link["createdAt"],
        "transactions": copy.deepcopy(link["transactions"]),
        "canceledAt": link["canceledAt"],
        "cancellationReason": link["cancellationReason"],
    }


# The gateways


class FakeGateways:
    """The three gateways' state and logic, thread-safe, without HTTP. `public_url` is the server's own base
    URL, the one the customer's browser follows (FakeGatewaysServer sets it)."""

    def __init__(
        self, config: FakeGatewaysConfig | None = None, *, public_url: str = "http://127.0.0.1:8002"
    ):
        self.config = config or FakeGatewaysConfig()
        self.public_url = public_url.rstrip("/")
        self.sessions: dict[str, dict] = {}  # Stripe Checkout Sessions by id, as the API answers them
        self.payments: dict[str, dict] = {}  # Stripe payment intents by id: charge, session, amounts, dispute
        self.links: dict[str, dict] = {}  # payOS payment links by paymentLinkId
        self.transfers: dict[int, dict] = {}  # SePay webhook bodies by transfer id
        self.deliveries: list[dict] = []  # every webhook sent: url, headers, body, status, answer
        self._lock = threading.Lock()
        self._idempotency: dict[str, tuple[dict, str]] = {}  # key: (the first request's params, session id)
        self._products: dict[str, list[str]] = {}  # session id: product names, for the page
        self._order_codes: dict[int, str] = {}  # payOS orderCode: paymentLinkId
        self._next_transfer_id = self.config.sepay_first_id
        self._balance = 0  # SePay's `accumulated`

    # delivery

    def deliver(self, url: str, body: str | dict, headers: dict[str, str] | None = None) -> dict:
        """POST a JSON body; never raises. The delivery is recorded and returned."""
        text = body if isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": "application/json", "User-Agent": "FakeGateways/1.0", **(headers or {})}
        status, answer = _post(url, text, headers)
        delivery = {"url": url, "headers": headers, "body": text, "status": status, "answer": answer}
        with self._lock:
            self.deliveries.append(delivery)
        logger.info("webhook to %s -> %s", url, status if status is not None else f"not delivered ({answer})")
        return delivery

    def _send_stripe_event(self, body: str) -> dict:
        header = signatures.stripe_signature_header(body, self.config.stripe_webhook_secret)
        url = self.config.panel_url + STRIPE_WEBHOOK_PATH
        return self.deliver(url, body, {"Stripe-Signature": header})

    # Stripe

    def stripe_check_key(self, authorization: str | None) -> None:
        scheme, _, key = (authorization or "").strip().partition(" ")
        expected = self.config.stripe_secret_key.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), expected):
            raise _stripe_error(401, "Invalid API Key provided")

    def stripe_create_session(self, params: dict, idempotency_key: str | None = None) -> dict:
        """A new Checkout Session from the API's parameters (nested, as `nested_params` reads them)."""
        with self._lock:
            if idempotency_key and idempotency_key in self._idempotency:
                first_params, session_id = self._idempotency[idempotency_key]
                if first_params != params:
                    raise _stripe_error(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were"
                        f" first used with. Try using a key other than '{idempotency_key}' if you meant to"
                        " execute a different request.",
                        kind="idempotency_error",
                    )
                return copy.deepcopy(self.sessions[session_id])
            session, products = _stripe_session(params, self.public_url)
            self.sessions[session["id"]] = session
            self._products[session["id"]] = products
            if idempotency_key:
                self._idempotency[idempotency_key] = (copy.deepcopy(params), session["id"])
            return copy.deepcopy(session)

    def stripe_session(self, session_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._session(session_id))

    def stripe_products(self, session_id: str) -> list[str]:
        with self._lock:
            return list(self._products.get(session_id, []))

    def _session(self, session_id: str) -> dict:
        if session_id not in self.sessions:
            raise NotFound(f"No such checkout.session: {session_id}")
        return self.sessions[session_id]

    def _payment(self, payment_intent: str) -> dict:
        if payment_intent not in self.payments:
            raise NotFound(f"No such payment_intent: {payment_intent}")
        return self.payments[payment_intent]

    def stripe_pay(self, session_id: str) -> dict:
        """The customer pays: the session is complete and paid, `checkout.session.completed` is sent. Paying
        a paid session again changes and sends nothing. Returns the session."""
        return self._stripe_pay(session_id)[0]

    def _stripe_pay(self, session_id: str) -> tuple[dict, dict | None]:
        with self._lock:
            session = self._session(session_id)
            if session["status"] == "expired":
                raise ValueError("This Checkout Session has expired.")
            if session["payment_status"] == "paid":
                return copy.deepcopy(session), None
            payment_intent = _token("pi_", 12)
            session.update(status="complete", payment_status="paid", payment_intent=payment_intent)
            self.payments[payment_intent] = {
                "charge": _token("ch_", 12),
                "session": session_id,
                "amount": session["amount_total"],
                "currency": session["currency"],
                "amount_refunded": 0,
                "dispute": None,
            }
            body = _stripe_event("checkout.session.completed", session)
            snapshot = copy.deepcopy(session)
        return snapshot, self._send_stripe_event(body)

    def stripe_expire(self, session_id: str) -> dict:
        """An open session expires: `checkout.session.expired` is sent. Returns the delivery."""
        return self._stripe_expire(session_id)[1]

    def _stripe_expire(self, session_id: str) -> tuple[dict, dict]:
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ValueError('Only Checkout Sessions with a status in ["open"] can be expired.')
            session["status"] = "expired"
            body = _stripe_event("checkout.session.expired", session)
            snapshot = copy.deepcopy(session)
        return snapshot, self._send_stripe_event(body)

    def stripe_refund(self, payment_intent: str, amount: int | None = None) -> dict:
        """Refund `amount` (None: all that is left) of a payment: `charge.refunded` is sent. Returns the
        delivery."""
        with self._lock:
            payment = self._payment(payment_intent)
            left = payment["amount"] - payment["amount_refunded"]
            amount = left if amount is None else amount
            if not (_is_int(amount) and 0 < amount <= left):
                raise ValueError(f"A refund of this payment must be between 1 and {left}.")
            payment["amount_refunded"] += amount
            body = _stripe_event("charge.refunded", _charge(payment_intent, payment))
        return self._send_stripe_event(body)

    def stripe_dispute(self, payment_intent: str, outcome: str) -> dict:
        """ "created": the cardholder disputes the payment (`charge.dispute.created`); "won" or "lost": the
        open dispute closes so (`charge.dispute.closed`). Returns the delivery."""
        if outcome not in DISPUTE_OUTCOMES:
            raise ValueError(f"The outcome is one of {', '.join(DISPUTE_OUTCOMES)}.")
        with self._lock:
            payment = self._payment(payment_intent)
            dispute = payment["dispute"]
            if outcome == "created":
                dispute = payment["dispute"] = {
                    "id": _token("dp_", 12),
                    "object": "dispute",
                    "charge": payment["charge"],
                    "payment_intent": payment_intent,
                    "amount": payment["amount"],
                    "currency": payment["currency"],
                    "status": "needs_response",
                }
                kind = "charge.dispute.created"
            elif dispute is None or dispute["status"] != "needs_response":
                raise ValueError("This payment has no open dispute: create one first.")
            else:
                dispute["status"] = outcome
                kind = "charge.dispute.closed"
            body = _stripe_event(kind, dispute)
        return self._send_stripe_event(body)

    # payOS

    def payos_check_keys(self, client_id: str | None, api_key: str | None) -> None:
        given = f"{client_id or ''}\n{api_key or ''}".encode()
        expected = f"{self.config.payos_client_id}\n{self.config.payos_api_key}".encode()
        if not hmac.compare_digest(given, expected):
            raise _payos_error("401", "Unauthorized", status=401)

    def payos_create(self, body: object) -> dict:
        """A new payment link from the API's request body; returns the answer's `data`. Raises GatewayError
        with payOS's answer when it refuses."""
        config = self.config
        request = _payos_check_request(body, config.payos_checksum_key)
        link_id = secrets.token_hex(16)
        link = {
            "paymentLinkId": link_id,
            "orderCode": request["orderCode"],
            "amount": request["amount"],
            "description": request["description"],
            "returnUrl": request["returnUrl"],
            "cancelUrl": request["cancelUrl"],
            "expiredAt": request.get("expiredAt"),
            "checkoutUrl": f"{self.public_url}/payos/web/{link_id}",
            "qrCode": vietqr.vietqr_payload(
                bank_bin=config.bank_bin,
                account=config.bank_account,
                amount=request["amount"],
                memo=request["description"],
            ),
            "status": "PENDING",
            "createdAt": datetime.now(VIETNAM).isoformat(timespec="seconds"),
            "amountPaid": 0,
            "transactions": [],
            "canceledAt": None,
            "cancellationReason": None,
        }
        with self._lock:
            if request["orderCode"] in self._order_codes:
                raise _payos_error("231", "Đơn thanh toán đã tồn tại")
            self._order_codes[request["orderCode"]] = link_id
            self.links[link_id] = link
        return self._created_data(link)

    def _created_data(self, link: dict) -> dict:
        config = self.config
        return {
            "bin": config.bank_bin,
            "accountNumber": config.bank_account,
            "accountName": config.bank_account_name,
            "amount": link["amount"],
            "description": link["description"],
            "orderCode": link["orderCode"],
            "currency": "VND",
            "paymentLinkId": link["paymentLinkId"],
            "status": link["status"],
            "expiredAt": link["expiredAt"],
            "checkoutUrl": link["checkoutUrl"],
            "qrCode": link["qrCode"],
        }

    def payos_envelope(self, data: dict) -> dict:
        """A successful API answer: `data` signed with the checksum key."""
        return _payos_envelope("00", "success", data, self.config.payos_checksum_key)

    def payos_link(self, reference: str | int) -> dict:
        """A link's full record, by paymentLinkId or orderCode."""
        with self._lock:
            return copy.deepcopy(self._link(reference))

    def payos_payment_link(self, reference: str | int) -> dict:
        """A link as the API's `GET /v2/payment-requests/<id>` answers it."""
        with self._lock:
            return _payment_link(self._link(reference))

    def _link(self, reference: str | int) -> dict:
        link_id = str(reference)
        if link_id not in self.links and str(reference).isdigit():
            link_id = self._order_codes.get(int(reference), "")
        if link_id not in self.links:
            raise NotFound(f"No such payment link: {reference}")
        link = self.links[link_id]
        expired_at = link["expiredAt"]
        if link["status"] == "PENDING" and expired_at is not None and expired_at <= time.time():
            link["status"] = "EXPIRED"
        return link

    def payos_pay(self, reference: str | int) -> dict | None:
        """The customer pays the link in full: PAID, and the webhook is sent. Returns the delivery, None when
        the link was paid already (nothing is sent again)."""
        return self._payos_pay(reference)[1]

    def _payos_pay(self, reference: str | int) -> tuple[dict, dict | None]:
        with self._lock:
            link = self._link(reference)
            if link["status"] == "PAID":
                return copy.deepcopy(link), None
            if link["status"] != "PENDING":
                raise ValueError(f"This payment link is {link['status']}.")
            data = {
                "orderCode": link["orderCode"],
                "amount": link["amount"],
                "description": link["description"],
                "accountNumber": self.config.bank_account,
                "reference": _reference(),
                "transactionDateTime": _vietnam_time(),
                "currency": "VND",
                "paymentLinkId": link["paymentLinkId"],
                "code": "00",
                "desc": "success",
                **COUNTER_ACCOUNT,
            }
            transaction = {
                name: data[name] for name in ("reference", "amount", "accountNumber", "description")
            }
            transaction.update(transactionDateTime=data["transactionDateTime"], **COUNTER_ACCOUNT)
            link.update(status="PAID", amountPaid=link["amount"], transactions=[transaction])
            snapshot = copy.deepcopy(link)
        body = {"code": "00", "desc": "success", "success": True, "data": data}
        body["signature"] = signatures.payos_signature(data, self.config.payos_checksum_key)
        return snapshot, self.deliver(self.config.panel_url + PAYOS_WEBHOOK_PATH, body)

    def payos_cancel(self, reference: str | int, reason: str | None = None) -> dict:
        """The customer (or the panel) cancels a pending link: CANCELLED, no webhook. Returns the link as the
        API answers it."""
        with self._lock:
            link = self._link(reference)
            if link["status"] in ("PENDING", "CANCELLED"):
                if link["status"] == "PENDING":
                    now = datetime.now(VIETNAM).isoformat(timespec="seconds")
                    link.update(status="CANCELLED", canceledAt=now, cancellationReason=reason)
                return _payment_link(link)
            raise ValueError(f"This payment link is {link['status']}.")

    # SePay

    def sepay_transfer(
        self, *, amount: int, content: str, account_number: str | None = None, transfer_type: str = "in"
    ) -> dict:
        """A bank transfer SePay sees: one webhook. Returns {"id", "status"} (the panel's HTTP status, None
        when it was unreachable)."""
        if not (_is_int(amount) and amount > 0):
            raise ValueError("The amount must be a positive whole number of VND.")
        if not isinstance(content, str):
            raise ValueError("The content must be a text.")
        if transfer_type not in TRANSFER_TYPES:
            raise ValueError(f"The transfer type is one of {', '.join(TRANSFER_TYPES)}.")
        with self._lock:
            transfer_id = self._next_transfer_id
            self._next_transfer_id += 1
            self._balance += amount if transfer_type == "in" else -amount
            self.transfers[transfer_id] = {
                "id": transfer_id,
                "gateway": SEPAY_GATEWAY,
                "transactionDate": _vietnam_time(),
                "accountNumber": account_number or self.config.bank_account,
                "code": None,
                "content": content,
                "transferType": transfer_type,
                "transferAmount": amount,
                "accumulated": self._balance,
                "subAccount": None,
                "referenceCode": _reference(),
                "description": "BankAPINotify " + content,
            }
        return self.sepay_redeliver(transfer_id)

    def sepay_redeliver(self, transfer_id: int) -> dict:
        """Send a transfer's webhook again, the same body (as SePay's retries do)."""
        with self._lock:
            if transfer_id not in self.transfers:
                raise NotFound(f"No such transfer: {transfer_id}")
            body = json.dumps(self.transfers[transfer_id])
        headers = {"Authorization": f"Apikey {self.config.sepay_api_key}"}
        delivery = self.deliver(self.config.panel_url + SEPAY_WEBHOOK_PATH, body, headers)
        return {"id": transfer_id, "status": delivery["status"]}

    def delivery_status(self, url: str, body: str) -> int | None:
        """The status of the last delivery of this body to this URL (None: none, or unreachable)."""
        with self._lock:
            for delivery in reversed(self.deliveries):
                if delivery["url"] == url and delivery["body"] == body:
                    return delivery["status"]
        return None


# HTTP: requests, answers and pages


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class _Answer:
    status: int
    content_type: str = "application/json"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, value: object) -> _Answer:
    return _Answer(status, "application/json", json.dumps(value).encode())


def _redirect(url: str) -> _Answer:
    return _Answer(303, "text/plain; charset=utf-8", b"", {"Location": url})


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}"
    "h1{font-size:1.3rem}.amount{font-size:2rem;font-weight:600;margin:1rem 0}"
    "button,.button{font:inherit;padding:.6rem 1.4rem;margin:.3rem .5rem .3rem 0;border-radius:6px;"
    "border:1px solid #888;background:#fff;color:#1a1a1a;text-decoration:none;display:inline-block;"
    "cursor:pointer}"
    "#pay{background:#635bff;border-color:#635bff;color:#fff}.note{color:#666;font-size:.9rem}"
    "code{word-break:break-all;font-size:.8rem}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}"
    "form.inline{display:inline}label{display:block;margin:.5rem 0}input{font:inherit;padding:.3rem}"
)


def _page(status: int, title: str, content: str) -> _Answer:
    text = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f"<body><h1>{html.escape(title)}</h1>{content}"
        '<p class="note">A fake gateway for development and tests: no money moves.</p></body></html>'
    )
    return _Answer(status, "text/html; charset=utf-8", text.encode())


def _notice(status: int, title: str, message: str, link: str | None = None, label: str = "Back") -> _Answer:
    back = f'<p><a class="button" href="{html.escape(link)}">{html.escape(label)}</a></p>' if link else ""
    return _page(status, title, f"<p>{html.escape(message)}</p>{back}")


def _e(value: object) -> str:
    return html.escape(str(value))


def _json_body(request: _Request) -> dict:
    try:
        value = json.loads(request.body or b"{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(400, {"error": "The body must be a JSON object."})
    return value


def _control(action: Callable[[], dict]) -> _Answer:
    """A control endpoint's answer: the action's JSON, or its refusal."""
    try:
        return _json(200, action())
    except NotFound as error:
        return _json(404, {"error": str(error)})
    except (ValueError, TypeError) as error:
        return _json(400, {"error": str(error)})


def _delivered(delivery: dict | None) -> int | None:
    return delivery["status"] if delivery else None


# Stripe over HTTP


def _stripe_create(gateways: FakeGateways, request: _Request) -> _Answer:
    gateways.stripe_check_key(request.headers.get("Authorization"))
    params = nested_params(parse_qsl(request.text, keep_blank_values=True))
    return _json(200, gateways.stripe_create_session(params, request.headers.get("Idempotency-Key")))


def _stripe_retrieve(gateways: FakeGateways, request: _Request, session_id: str) -> _Answer:
    gateways.stripe_check_key(request.headers.get("Authorization"))
    try:
        return _json(200, gateways.stripe_session(session_id))
    except NotFound:
        raise _stripe_no_such("checkout.session", session_id, "session") from None


def _stripe_api_expire(gateways: FakeGateways, request: _Request, session_id: str) -> _Answer:
    gateways.stripe_check_key(request.headers.get("Authorization"))
    try:
        return _json(200, gateways._stripe_expire(session_id)[0])
    except NotFound:
        raise _stripe_no_such("checkout.session", session_id, "session") from None
    except ValueError as error:
        raise _stripe_error(400, str(error)) from None


def _stripe_page(gateways: FakeGateways, request: _Request, session_id: str) -> _Answer:
    try:
        session = gateways.stripe_session(session_id)
    except NotFound:
        return _notice(404, "Fake Stripe Checkout", "This Checkout Session does not exist.")
    amount = money_text(session["amount_total"], session["currency"])
    products = ", ".join(gateways.stripe_products(session_id)) or "Payment"
    if session["status"] == "open":
        action = (
            f'<form class="inline" method="post" action="/stripe/pay/{_e(session_id)}/pay">'
            f'<button id="pay" type="submit">Pay {_e(amount)}</button></form>'
        )
    else:
        action = f"<p>This session is <strong>{_e(session['status'])}</strong>.</p>"
    content = (
        f'<p>{_e(products)}</p><p class="amount">{_e(amount)}</p>'
        f'<p class="note">Session {_e(session_id)}</p>{action}'
        f'<a id="cancel" class="button" href="{_e(session["cancel_url"])}">Cancel</a>'
    )
    return _page(200, "Fake Stripe Checkout", content)


def _stripe_page_pay(gateways: FakeGateways, request: _Request, session_id: str) -> _Answer:
    try:
        session = gateways.stripe_pay(session_id)
    except NotFound:
        return _notice(404, "Fake Stripe Checkout", "This Checkout Session does not exist.")
    except ValueError as error:
        session = gateways.stripe_session(session_id)
        return _notice(409, "Fake Stripe Checkout", str(error), session["cancel_url"], "Back to the shop")
    return _redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))


def _stripe_control(gateways: FakeGateways, request: _Request, action: str) -> _Answer:
    payload = _json_body(request)

    def run() -> dict:
        if action == "pay":
            session, delivery = gateways._stripe_pay(str(payload.get("session")))
            return {"delivered": _delivered(delivery), "payment_intent": session["payment_intent"]}
        if action == "expire":
            return {"delivered": _delivered(gateways.stripe_expire(str(payload.get("session"))))}
        payment_intent = str(payload.get("payment_intent"))
        if action == "refund":
            return {"delivered": _delivered(gateways.stripe_refund(payment_intent, payload.get("amount")))}
        return {"delivered": _delivered(gateways.stripe_dispute(payment_intent, payload.get("outcome")))}

    return _control(run)


# payOS over HTTP


def _payos_keys(gateways: FakeGateways, request: _Request) -> None:
    gateways.payos_check_keys(request.headers.get("x-client-id"), request.headers.get("x-api-key"))


def _payos_create(gateways: FakeGateways, request: _Request) -> _Answer:
    _payos_keys(gateways, request)
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    return _json(200, gateways.payos_envelope(gateways.payos_create(body)))


def _payos_get(gateways: FakeGateways, request: _Request, reference: str) -> _Answer:
    _payos_keys(gateways, request)
    try:
        return _json(200, gateways.payos_envelope(gateways.payos_payment_link(reference)))
    except NotFound:
        raise _payos_error("101", "Đơn thanh toán không tồn tại") from None


def _payos_api_cancel(gateways: FakeGateways, request: _Request, reference: str) -> _Answer:
    _payos_keys(gateways, request)
    try:
        reason = json.loads(request.body or b"{}").get("cancellationReason")
    except (ValueError, AttributeError):
        reason = None
    try:
        return _json(200, gateways.payos_envelope(gateways.payos_cancel(reference, reason)))
    except NotFound:
        raise _payos_error("101", "Đơn thanh toán không tồn tại") from None
    except ValueError as error:
        raise _payos_error("20", str(error)) from None


def _payos_page(gateways: FakeGateways, request: _Request, link_id: str) -> _Answer:
    try:
        link = gateways.payos_link(link_id)
    except NotFound:
        return _notice(404, "Fake payOS", "This payment link does not exist.")
    config = gateways.config
    details = (
        f'<p class="amount">{link["amount"]:,} VND</p>'
        f"<p>Memo: <strong>{_e(link['description'])}</strong></p>"
        f"<p>To {_e(config.bank_account_name)}, account {_e(config.bank_account)}"
        f" (bank {_e(config.bank_bin)})</p>"
        f"<p>VietQR: <code>{_e(link['qrCode'])}</code></p>"
        f'<p class="note">Order {link["orderCode"]}, link {_e(link_id)}</p>'
    )
    if link["status"] == "PENDING":
        actions = "".join(
            f'<form class="inline" method="post" action="/payos/web/{_e(link_id)}/{name}">'
            f'<button id="{name}" type="submit">{label}</button></form>'
            for name, label in (("pay", "Pay"), ("cancel", "Cancel"))
        )
    else:
        actions = f"<p>This payment link is <strong>{_e(link['status'])}</strong>.</p>"
    return _page(200, "Fake payOS", details + actions)


def _payos_back(link: dict, *, cancel: bool) -> str:
    """Where payOS sends the customer back, with the query payOS adds."""
    status = "CANCELLED" if cancel else link["status"]
    params = {
        "code": "00",
        "id": link["paymentLinkId"],
        "cancel": "true" if cancel else "false",
        "status": status,
        "orderCode": link["orderCode"],
    }
    return with_query(link["cancelUrl"] if cancel else link["returnUrl"], params)


def _payos_page_action(gateways: FakeGateways, request: _Request, link_id: str, action: str) -> _Answer:
    try:
        if action == "pay":
            link, _ = gateways._payos_pay(link_id)
        else:
            gateways.payos_cancel(link_id)
            link = gateways.payos_link(link_id)
    except NotFound:
        return _notice(404, "Fake payOS", "This payment link does not exist.")
    except ValueError as error:
        link = gateways.payos_link(link_id)
        return _notice(409, "Fake payOS", str(error), link["returnUrl"], "Back to the shop")
    return _redirect(_payos_back(link, cancel=action == "cancel"))


def _payos_control(gateways: FakeGateways, request: _Request, action: str) -> _Answer:
    payload = _json_body(request)
    reference = payload.get("paymentLinkId") or payload.get("orderCode")

    def run() -> dict:
        if reference is None:
            raise ValueError("Name the link: paymentLinkId or orderCode.")
        if action == "pay":
            return {"delivered": _delivered(gateways._payos_pay(reference)[1])}
        return {
            "delivered": None,
            "status": gateways.payos_cancel(reference, payload.get("reason"))["status"],
        }

    return _control(run)


# SePay over HTTP


def _sepay_page(gateways: FakeGateways, request: _Request) -> _Answer:
    config = gateways.config
    with gateways._lock:
        transfers = [dict(body) for body in list(gateways.transfers.values())[-20:]]
    sepay_url = config.panel_url + SEPAY_WEBHOOK_PATH
    rows = "".join(
        f"<tr><td>{body['id']}</td><td>{body['transferType']}</td><td>{body['transferAmount']:,}</td>"
        f"<td>{_e(body['content'])}</td><td>{_e(gateways.delivery_status(sepay_url, json.dumps(body)))}</td>"
        f'<td><form class="inline" method="post" action="/sepay/redeliver">'
        f'<input type="hidden" name="id" value="{body["id"]}"><button type="submit">Send again</button>'
        "</form></td></tr>"
        for body in reversed(transfers)
    )
    table = (
        "<table><tr><th>Id</th><th>Type</th><th>VND</th><th>Content</th><th>Panel answered</th><th></th></tr>"
        f"{rows}</table>"
        if rows
        else ""
    )
    content = (
        f"<p>A transfer to {_e(config.bank_account_name)}, account {_e(config.bank_account)}: SePay notifies "
        f"the panel at <code>{_e(sepay_url)}</code>.</p>"
        '<form method="post" action="/sepay/transfer">'
        '<label>Amount (VND) <input id="amount" name="amount" type="number" min="1" required></label>'
        '<label>Content <input id="content" name="content" required></label>'
        '<button id="transfer" type="submit">Transfer</button></form>'
        f"{table}"
    )
    return _page(200, "Fake SePay", content)


def _sepay_form(gateways: FakeGateways, request: _Request, action: str) -> _Answer:
    form = dict(parse_qsl(request.text, keep_blank_values=True))
    try:
        if action == "transfer":
            amount = form.get("amount", "").strip()
            if not amount.isdigit():
                raise ValueError("The amount must be a positive whole number of VND.")
            gateways.sepay_transfer(amount=int(amount), content=form.get("content", ""))
        else:
            gateways.sepay_redeliver(int(form.get("id", "0") or 0))
    except (NotFound, ValueError) as error:
        return _notice(400, "Fake SePay", str(error), "/sepay/")
    return _redirect("/sepay/")


def _sepay_control(gateways: FakeGateways, request: _Request, action: str) -> _Answer:
    payload = _json_body(request)

    def run() -> dict:
        if action == "redeliver":
            result = gateways.sepay_redeliver(int(payload.get("id") or 0))
        else:
            result = gateways.sepay_transfer(
                amount=payload.get("amount"),
                content=payload.get("content"),
                account_number=payload.get("account_number"),
                transfer_type=payload.get("transfer_type", "in"),
            )
        return {"id": result["id"], "delivered": result["status"]}

    return _control(run)


def _index(gateways: FakeGateways, request: _Request) -> _Answer:
    with gateways._lock:
        sessions = [dict(session) for session in list(gateways.sessions.values())[-20:]]
        links = [dict(link) for link in list(gateways.links.values())[-20:]]
        delivered = len(gateways.deliveries)
    session_rows = "".join(
        f'<tr><td><a href="/stripe/pay/{_e(s["id"])}">{_e(s["id"][:20])}…</a></td>'
        f"<td>{_e(money_text(s['amount_total'], s['currency']))}</td><td>{_e(s['status'])}</td>"
        f"<td>{_e(s['payment_intent'] or '')}</td></tr>"
        for s in reversed(sessions)
    )
    link_rows = "".join(
        f'<tr><td><a href="/payos/web/{_e(link["paymentLinkId"])}">{link["orderCode"]}</a></td>'
        f"<td>{link['amount']:,} VND</td><td>{_e(link['status'])}</td></tr>"
        for link in reversed(links)
    )
    content = (
        f"<p>Webhooks to <code>{_e(gateways.config.panel_url)}</code>: {delivered} sent.</p>"
        f"<h2>Stripe Checkout Sessions</h2><table>{session_rows or '<tr><td>None yet.</td></tr>'}</table>"
        f"<h2>payOS payment links</h2><table>{link_rows or '<tr><td>None yet.</td></tr>'}</table>"
        '<h2>SePay</h2><p><a href="/sepay/">Make a bank transfer</a></p>'
    )
    return _page(200, "Fake payment gateways", content)


_ID = r"[^/]+"
_ROUTES: list[tuple[str, re.Pattern, Callable[..., _Answer]]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", r"/", _index),
        ("POST", r"/stripe/v1/checkout/sessions", _stripe_create),
        ("GET", rf"/stripe/v1/checkout/sessions/(?P<session_id>{_ID})", _stripe_retrieve),
        ("POST", rf"/stripe/v1/checkout/sessions/(?P<session_id>{_ID})/expire", _stripe_api_expire),
        ("GET", rf"/stripe/pay/(?P<session_id>{_ID})", _stripe_page),
        ("POST", rf"/stripe/pay/(?P<session_id>{_ID})/pay", _stripe_page_pay),
        ("POST", r"/stripe/_control/(?P<action>pay|expire|refund|dispute)", _stripe_control),
        ("POST", r"(?:/payos)?/v2/payment-requests", _payos_create),
        ("GET", rf"(?:/payos)?/v2/payment-requests/(?P<reference>{_ID})", _payos_get),
        ("POST", rf"(?:/payos)?/v2/payment-requests/(?P<reference>{_ID})/cancel", _payos_api_cancel),
        ("GET", rf"/payos/web/(?P<link_id>{_ID})", _payos_page),
        ("POST", rf"/payos/web/(?P<link_id>{_ID})/(?P<action>pay|cancel)", _payos_page_action),
        ("POST", r"/payos/_control/(?P<action>pay|cancel)", _payos_control),
        ("GET", r"/sepay", _sepay_page),
        ("POST", r"/sepay/(?P<action>transfer|redeliver)", _sepay_form),
        ("POST", r"/sepay/_control/(?P<action>transfer|redeliver)", _sepay_control),
    )
]


def _route(gateways: FakeGateways, request: _Request) -> _Answer:
    path = request.path.rstrip("/") or "/"
    known_path = False
    for method, pattern, handler in _ROUTES:
        match = pattern.fullmatch(path)
        if not match:
            continue
        known_path = True
        if method == request.method:
            try:
                return handler(gateways, request, **match.groupdict())
            except GatewayError as error:
                return _json(error.status, error.body)
    if known_path:
        return _json(405, {"error": "Method not allowed"})
    if path.startswith("/stripe/v1"):
        return _json(404, _stripe_error(404, f"Unrecognized request URL ({request.method}: {path}).").body)
    return _json(404, {"error": "Not found"})


# The server


class _HTTPServer(FakeHTTPServer):
    def __init__(self, address: tuple[str, int], gateways: FakeGateways | None = None):
        self.gateways = gateways
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGateways/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    timeout = 60  # idle kept-alive connections are closed after this
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: _serve logs each request, without its query string."""

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body() if method == "POST" else b""
        request = _Request(method, url.path, dict(parse_qsl(url.query)), self.headers, body)
        answer = _route(self.server.gateways, request)
        logger.info("%s %s -> %s", method, url.path[:200], answer.status)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except ConnectionError:
            self.close_connection = True


def _browser_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 (compared, not bound)


class FakeGatewaysServer(ServerRunner):
    """The fake gateways over real HTTP, on a free port unless told otherwise. `url` is the base URL (the
    pages' URLs start with it); `gateways` the state, for tests."""

    thread_name = "fake-gateways"

    def __init__(
        self,
        config: FakeGatewaysConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_url: str | None = None,
    ):
        super().__init__(_HTTPServer((host, port)))
        self.url = (public_url or f"http://{_browser_host(host)}:{self.port}").rstrip("/")
        self.gateways = FakeGateways(config or FakeGatewaysConfig(), public_url=self.url)
        self._httpd.gateways = self.gateways

    def __enter__(self) -> FakeGatewaysServer:
        return self.start()


def serve(
    config: FakeGatewaysConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 8002,
    *,
    public_url: str | None = None,
    on_ready: Callable[[FakeGatewaysServer], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C). `on_ready` is called with the server once it listens."""
    server = FakeGatewaysServer(config, host, port, public_url=public_url)
    if on_ready is not None:
        on_ready(server)
    server.serve_until_interrupted()
