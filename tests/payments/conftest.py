"""Payments tests: the fake gateways (payments/fakes.py) on a real port, the panel's settings pointed at
them, and notifications signed here with the gateways' algorithms. Nothing touches the network."""

import json
import time

import pytest

from payments.fakes import FakeGatewaysConfig, FakeGatewaysServer
from payments.signatures import payos_signature, stripe_signature_header

STRIPE_KEY = "sk_test_panel"
STRIPE_SECRET = "whsec_panel"
PAYOS_CLIENT = "panel-client"
PAYOS_KEY = "panel-api-key"
PAYOS_CHECKSUM = "panel-checksum"
SEPAY_KEY = "panel-sepay-key"
BANK_BIN = "970422"
BANK_ACCOUNT = "0123456789"


def gateway_settings(settings, url: str) -> None:
    """Every method configured, pointed at fake gateways at `url`."""
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_API_BASE = f"{url}/stripe"
    settings.STRIPE_CURRENCY = settings.PANEL_CURRENCY
    settings.PAYOS_CLIENT_ID = PAYOS_CLIENT
    settings.PAYOS_API_KEY = PAYOS_KEY
    settings.PAYOS_CHECKSUM_KEY = PAYOS_CHECKSUM
    settings.PAYOS_BASE_URL = f"{url}/payos/"
    settings.SEPAY_API_KEY = SEPAY_KEY
    settings.BANK_NAME = "MB Bank"
    settings.BANK_BIN = BANK_BIN
    settings.BANK_ACCOUNT_NUMBER = BANK_ACCOUNT
    settings.BANK_ACCOUNT_NAME = "RESELLER DEMO"
    settings.SEPAY_SIMULATOR_URL = f"{url}/sepay"


def fake_config(panel_url: str) -> FakeGatewaysConfig:
    return FakeGatewaysConfig(
        panel_url=panel_url,
        stripe_secret_key=STRIPE_KEY,
        stripe_webhook_secret=STRIPE_SECRET,
        payos_client_id=PAYOS_CLIENT,
        payos_api_key=PAYOS_KEY,
        payos_checksum_key=PAYOS_CHECKSUM,
        sepay_api_key=SEPAY_KEY,
        bank_bin=BANK_BIN,
        bank_account=BANK_ACCOUNT,
    )


@pytest.fixture
def gateways(settings):
    """The fake gateways, with the panel configured for them. Their webhooks go to an address nobody
    listens on (tests post notifications themselves through the test client): `gateways.gateways.deliveries`
    still records what would have been sent."""
    with FakeGatewaysServer(fake_config("http://127.0.0.1:9")) as server:
        gateway_settings(settings, server.url)
        yield server


@pytest.fixture
def configured(settings):
    """Every method configured, with no gateway behind (for pages and notifications only)."""
    gateway_settings(settings, "http://127.0.0.1:9")


def stripe_event(kind: str, obj: dict, *, event_id: str = "evt_test_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": kind,
        "data": {"object": obj},
        "livemode": False,
    }


def post_stripe(client, event: dict, *, secret: str = STRIPE_SECRET, timestamp: int | None = None, body=None):
    """POSTs a Stripe event to the webhook, signed with `secret` at `timestamp` (now)."""
    body = json.dumps(event) if body is None else body
    header = stripe_signature_header(body, secret, timestamp=timestamp)
    return client.post(
        "/payments/stripe/webhook/",
        body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def payos_body(data: dict, *, key: str = PAYOS_CHECKSUM) -> dict:
    return {
        "code": "00",
        "desc": "success",
        "success": True,
        "data": data,
        "signature": payos_signature(data, key),
    }


def post_payos(client, body) -> object:
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/payments/payos/webhook/", payload, content_type="application/json")


def post_sepay(client, body, *, key: str = SEPAY_KEY) -> object:
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Apikey {key}"} if key else {}
    return client.post("/payments/sepay/webhook/", payload, content_type="application/json", headers=headers)


def sepay_body(*, sepay_id: int, amount: int, content: str, transfer_type: str = "in") -> dict:
    return {
        "id": sepay_id,
        "gateway": "MBBank",
        "transactionDate": "2026-12-02 10:00:00",
        "accountNumber": BANK_ACCOUNT,
        "code": None,
        "content": content,
        "transferType": transfer_type,
        "transferAmount": amount,
        "accumulated": amount,
        "subAccount": None,
        "referenceCode": f"FT{sepay_id}",
        "description": f"BankAPINotify {content}",
    }
