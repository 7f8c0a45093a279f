"""The signatures of the payment gateways' notifications, standard library only (the fake gateways of
payments/fakes.py sign with the same functions the webhooks verify with). ../shared/payments.md has the facts.

- Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`, HMAC-SHA256 of "<t>.<raw body>" with the endpoint
  secret. The webhook verifies it with the official SDK (`stripe.WebhookSignature.verify_header`); this module
  only makes the header, for the fake and the tests.
- payOS: HMAC-SHA256 (hex) with the checksum key of the `data` object's fields sorted by key and joined as
  `key=value` with `&`: None, "null" and "undefined" are empty, booleans `true`/`false`, lists compact JSON
  (non-ASCII kept), no URL-encoding. Verified here on the raw dict: the SDK's own `webhooks.verify` refuses
  fields it does not know, so a new field from payOS would break it.
- SePay: `Authorization: Apikey <key>`, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

PAYMENT_REQUEST_FIELDS = ("amount", "cancelUrl", "description", "orderCode", "returnUrl")


def _hmac_hex(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def stripe_signature_header(payload: str | bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send with this raw body."""
    if isinstance(payload, bytes):
        payload = payload.decode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_hmac_hex(secret, f'{timestamp}.{payload}')}"


def _payos_value(value: object) -> str:
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [dict(sorted(item.items())) if isinstance(item, dict) else item for item in value]
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return str(value)


def payos_signature(data: dict, key: str) -> str:
    """payOS's signature of a data object (a webhook's `data`, an answer's `data`)."""
    return _hmac_hex(key, "&".join(f"{name}={_payos_value(data[name])}" for name in sorted(data)))


def payos_payment_request_signature(request: dict, key: str) -> str:
    """The signature of a payment link request: five fields, in this order, whatever else it carries."""
    return _hmac_hex(
        key, "&".join(f"{name}={_payos_value(request[name])}" for name in PAYMENT_REQUEST_FIELDS)
    )


def payos_verify(data: object, signature: object, key: str) -> bool:
    if not (isinstance(data, dict) and isinstance(signature, str) and key):
        return False
    return hmac.compare_digest(payos_signature(data, key), signature.strip().lower())


def apikey_ok(header: str | None, key: str) -> bool:
    """SePay's `Authorization: Apikey <key>` (the scheme's case and surrounding spaces do not matter)."""
    if not (header and key):
        return False
    scheme, _, given = header.strip().partition(" ")
    return scheme.lower() == "apikey" and hmac.compare_digest(given.strip().encode(), key.encode())
