"""The fake gateways of payments/fakes.py, driven by the official SDKs (stripe, payos): what the SDKs send is
understood, what the fake answers and signs is accepted. A tiny HTTP server stands for the panel and records
the webhooks. No database, no network beyond 127.0.0.1."""

import dataclasses
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from payos import PayOS
from payos._core.exceptions import APIError
from payos.types import CreatePaymentLinkRequest

from payments import signatures, vietqr
from payments.fakes import FakeGatewaysConfig, FakeGatewaysServer, NotFound, nested_params, with_query

CONFIG = FakeGatewaysConfig(
    stripe_secret_key="sk_test_fake_123",
    stripe_webhook_secret="whsec_fake_123",
    payos_client_id="client-1",
    payos_api_key="api-key-1",
    payos_checksum_key="checksum-1",
    sepay_api_key="sepay-key-1",
)
ORDER_CODES = count(880001)


class _PanelHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self._answer(b'{"success": true}')

    def do_GET(self):
        self._answer(b"ok")

    def _answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def panel():
    """The "panel": records every POST, answers 200."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PanelHandler)
    server.daemon_threads = True
    server.received = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def fake(panel):
    config = dataclasses.replace(CONFIG, panel_url=panel.url + "/")
    with FakeGatewaysServer(config) as server:
        yield server


@pytest.fixture
def stripe_client(fake):
    return stripe.StripeClient(CONFIG.stripe_secret_key, base_addresses={"api": fake.url + "/stripe"})


@pytest.fixture
def payos_client(fake):
    with PayOS(
        CONFIG.payos_client_id, CONFIG.payos_api_key, CONFIG.payos_checksum_key, base_url=fake.url + "/payos/"
    ) as client:
        yield client


def session_params(amount=1000, **extra):
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "Add funds"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "https://panel.test/funds/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://panel.test/funds/",
        "client_reference_id": "42",
        "metadata": {"deposit": "42"},
        **extra,
    }


_NO_REDIRECTS = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    type("NoRedirect", (urllib.request.HTTPRedirectHandler,), {"redirect_request": lambda *a, **k: None}),
)


def http(url, data=None, *, json_body=None):
    """(status, headers, text) of a request to the fake, redirects not followed."""
    if json_body is not None:
        data = json.dumps(json_body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if json_body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _NO_REDIRECTS.open(request, timeout=5) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def control(fake, path, payload):
    status, _, text = http(f"{fake.url}{path}", json_body=payload)
    return status, json.loads(text)


def last_delivery(fake, path):
    return next(d for d in reversed(fake.gateways.deliveries) if d["url"].endswith(path))


def stripe_event(delivery):
    """The event, once the official SDK has checked its signature."""
    header = delivery["headers"]["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(delivery["body"], header, CONFIG.stripe_webhook_secret)
    return json.loads(delivery["body"])


def paid_session(fake, stripe_client, amount=1000):
    session = stripe_client.v1.checkout.sessions.create(params=session_params(amount))
    status, answer = control(fake, "/stripe/_control/pay", {"session": session.id})
    assert (status, answer["delivered"]) == (200, 200)
    return answer["payment_intent"]


# Stripe


def test_stripe_sdk_creates_and_retrieves_a_checkout_session(fake, stripe_client):
    session = stripe_client.v1.checkout.sessions.create(
        params=session_params(1250, customer_email="a@b.test")
    )

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{fake.url}/stripe/pay/{session.id}"
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert (session.amount_total, session.currency, session.mode) == (1250, "usd", "payment")
    assert session.client_reference_id == "42" and session.metadata["deposit"] == "42"
    assert session.expires_at - session.created == 86400 and session.livemode is False

    again = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert again.to_dict() == session.to_dict()


def test_stripe_honours_the_idempotency_key(fake, stripe_client):
    options = {"idempotency_key": "deposit-7"}
    first = stripe_client.v1.checkout.sessions.create(params=session_params(), options=options)
    second = stripe_client.v1.checkout.sessions.create(params=session_params(), options=options)

    assert second.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.checkout.sessions.create(params=session_params(999), options=options)


def test_stripe_refuses_a_wrong_key_and_bad_requests(fake, stripe_client):
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url + "/stripe"})
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
        wrong.v1.checkout.sessions.create(params=session_params())

    params = session_params()
    del params["line_items"][0]["price_data"]["unit_amount"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.checkout.sessions.create(params=params)
    assert missing.value.param == "line_items[0][price_data][unit_amount]"

    with pytest.raises(stripe.InvalidRequestError) as no_url:
        stripe_client.v1.checkout.sessions.create(params={**session_params(), "success_url": None})
    assert no_url.value.param == "success_url"

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert unknown.value.code == "resource_missing"


def test_paying_on_the_page_sends_a_signed_completed_event_and_redirects(fake, panel, stripe_client):
    session = stripe_client.v1.checkout.sessions.create(params=session_params(1000))

    status, _, page = http(session.url)
    assert status == 200 and "Fake Stripe Checkout" in page and "10.00 USD" in page
    assert 'id="pay"' in page and f'action="/stripe/pay/{session.id}/pay"' in page
    assert 'id="cancel"' in page and 'href="https://panel.test/funds/"' in page

    status, headers, _ = http(f"{session.url}/pay", data=b"")
    assert status == 303
    assert headers["Location"] == f"https://panel.test/funds/done?session={session.id}"

    delivery = last_delivery(fake, "/payments/stripe/webhook/")
    assert delivery["status"] == 200 and delivery["headers"]["Content-Type"] == "application/json"
    assert panel.received[-1]["body"] == delivery["body"]
    assert panel.received[-1]["path"] == "/payments/stripe/webhook/"
    event = stripe.Webhook.construct_event(
        delivery["body"], delivery["headers"]["Stripe-Signature"], CONFIG.stripe_webhook_secret
    )
    assert event.type == "checkout.session.completed" and event.id.startswith("evt_")
    paid = event.data.object
    assert (paid.id, paid.status, paid.payment_status) == (session.id, "complete", "paid")
    assert paid.payment_intent.startswith("pi_") and paid.metadata["deposit"] == "42"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"

    sent = len(fake.gateways.deliveries)
    status, headers, _ = http(f"{session.url}/pay", data=b"")
    assert status == 303 and len(fake.gateways.deliveries) == sent, "paying twice pays once"


def test_refunds_and_disputes_send_charge_events(fake, stripe_client):
    payment_intent = paid_session(fake, stripe_client, 1000)
    charge = fake.gateways.payments[payment_intent]["charge"]

    assert control(fake, "/stripe/_control/refund", {"payment_intent": payment_intent, "amount": 400}) == (
        200,
        {"delivered": 200},
    )
    event = stripe_event(last_delivery(fake, "/stripe/webhook/"))
    assert event["type"] == "charge.refunded"
    assert event["data"]["object"] == {
        "id": charge,
        "object": "charge",
        "payment_intent": payment_intent,
        "amount": 1000,
        "amount_refunded": 400,
        "currency": "usd",
        "refunded": False,
        "status": "succeeded",
    }
    fake.gateways.stripe_refund(payment_intent)
    rest = stripe_event(last_delivery(fake, "/stripe/webhook/"))["data"]["object"]
    assert (rest["amount_refunded"], rest["refunded"]) == (1000, True)
    assert control(fake, "/stripe/_control/refund", {"payment_intent": payment_intent})[0] == 400

    assert (
        control(fake, "/stripe/_control/dispute", {"payment_intent": payment_intent, "outcome": "won"})[0]
        == 400
    )
    for outcome, kind, status in (
        ("created", "charge.dispute.created", "needs_response"),
        ("lost", "charge.dispute.closed", "lost"),
    ):
        assert control(
            fake, "/stripe/_control/dispute", {"payment_intent": payment_intent, "outcome": outcome}
        ) == (
            200,
            {"delivered": 200},
        )
        event = stripe_event(last_delivery(fake, "/stripe/webhook/"))
        dispute = event["data"]["object"]
        assert (event["type"], dispute["status"], dispute["object"]) == (kind, status, "dispute")
        assert (dispute["charge"], dispute["payment_intent"], dispute["amount"]) == (
            charge,
            payment_intent,
            1000,
        )
        assert dispute["id"].startswith("dp_")

    fake.gateways.stripe_dispute(payment_intent, "created")
    fake.gateways.stripe_dispute(payment_intent, "won")
    won = stripe_event(last_delivery(fake, "/stripe/webhook/"))
    assert (won["type"], won["data"]["object"]["status"]) == ("charge.dispute.closed", "won")
    assert control(fake, "/stripe/_control/refund", {"payment_intent": "pi_nope"})[0] == 404


def test_an_expired_session_sends_its_event_and_cannot_be_paid(fake, stripe_client):
    session = stripe_client.v1.checkout.sessions.create(params=session_params())

    assert control(fake, "/stripe/_control/expire", {"session": session.id}) == (200, {"delivered": 200})
    event = stripe_event(last_delivery(fake, "/stripe/webhook/"))
    assert (event["type"], event["data"]["object"]["status"]) == ("checkout.session.expired", "expired")
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"

    assert http(f"{session.url}/pay", data=b"")[0] == 409
    assert 'id="pay"' not in http(session.url)[2]
    assert control(fake, "/stripe/_control/expire", {"session": session.id})[0] == 400
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.checkout.sessions.expire(session.id)


def test_the_sdk_can_expire_a_session(fake, stripe_client):
    session = stripe_client.v1.checkout.sessions.create(params=session_params())

    assert stripe_client.v1.checkout.sessions.expire(session.id).status == "expired"
    assert stripe_event(last_delivery(fake, "/stripe/webhook/"))["type"] == "checkout.session.expired"


def test_stripe_form_encoding_is_read_back():
    pairs = [
        ("line_items[0][price_data][unit_amount]", "1000"),
        ("line_items[1][quantity]", "2"),
        ("metadata[deposit]", "7"),
        ("expand[]", "a"),
        ("expand[]", "b"),
        ("mode", "payment"),
    ]
    assert nested_params(pairs) == {
        "line_items": [{"price_data": {"unit_amount": "1000"}}, {"quantity": "2"}],
        "metadata": {"deposit": "7"},
        "expand": ["a", "b"],
        "mode": "payment",
    }


# payOS


def payment_link(client, order_code=None, **extra):
    request = CreatePaymentLinkRequest(
        order_code=order_code or next(ORDER_CODES),
        amount=50000,
        description="NAP1234567",
        cancel_url="https://panel.test/funds/?via=payos",
        return_url="https://panel.test/funds/done",
        **extra,
    )
    return client.payment_requests.create(request)


def test_payos_sdk_creates_a_link_and_accepts_the_signed_answer(fake, payos_client):
    link = payment_link(payos_client)  # the SDK checks the answer's signature and its shape

    assert (link.amount, link.description, link.currency, link.status) == (
        50000,
        "NAP1234567",
        "VND",
        "PENDING",
    )
    assert (link.bin, link.account_number, link.account_name) == ("970422", "0123456789", "RESELLER DEMO")
    assert len(link.payment_link_id) == 32 and link.expired_at is None
    assert link.checkout_url == f"{fake.url}/payos/web/{link.payment_link_id}"
    assert link.qr_code == vietqr.vietqr_payload(
        bank_bin="970422", account="0123456789", amount=50000, memo="NAP1234567"
    )

    by_id = payos_client.payment_requests.get(link.payment_link_id)
    by_code = payos_client.payment_requests.get(link.order_code)
    assert by_id == by_code
    assert (by_id.id, by_id.status, by_id.amount_paid, by_id.amount_remaining) == (
        link.payment_link_id,
        "PENDING",
        0,
        50000,
    )


def test_payos_refuses_a_reused_order_code_a_bad_signature_and_a_wrong_key(fake, payos_client):
    link = payment_link(payos_client)
    with pytest.raises(APIError) as reused:
        payment_link(payos_client, order_code=link.order_code)
    assert reused.value.error_code == "231"

    wrong = PayOS(
        CONFIG.payos_client_id, "wrong-key", CONFIG.payos_checksum_key, base_url=fake.url + "/payos/"
    )
    with wrong, pytest.raises(APIError) as unauthorized:
        payment_link(wrong)
    assert unauthorized.value.status_code == 401

    body = {
        "orderCode": next(ORDER_CODES),
        "amount": 1000,
        "description": "X",
        "cancelUrl": "c",
        "returnUrl": "r",
    }
    request = urllib.request.Request(
        f"{fake.url}/payos/v2/payment-requests",
        data=json.dumps({**body, "signature": "0" * 64}).encode(),
        headers={"x-client-id": CONFIG.payos_client_id, "x-api-key": CONFIG.payos_api_key},
        method="POST",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5) as response:
        answer = json.loads(response.read())
    assert answer == {"code": "20", "desc": "Signature is invalid", "data": None, "signature": None}

    with pytest.raises(APIError):
        payos_client.payment_requests.get(999999999)


def test_paying_a_payos_link_sends_a_signed_webhook_and_returns_the_customer(fake, panel, payos_client):
    link = payment_link(payos_client)

    status, _, page = http(link.checkout_url)
    assert status == 200 and "Fake payOS" in page and "50,000 VND" in page and "NAP1234567" in page
    assert link.qr_code in page and 'id="pay"' in page and 'id="cancel"' in page

    status, headers, _ = http(f"{link.checkout_url}/pay", data=b"")
    assert status == 303
    back = urlsplit(headers["Location"])
    assert back.geturl().startswith("https://panel.test/funds/done?")
    assert {k: v[0] for k, v in parse_qs(back.query).items()} == {
        "code": "00",
        "id": link.payment_link_id,
        "cancel": "false",
        "status": "PAID",
        "orderCode": str(link.order_code),
    }

    delivery = last_delivery(fake, "/payments/payos/webhook/")
    assert delivery["status"] == 200 and panel.received[-1]["body"] == delivery["body"]
    webhook = json.loads(delivery["body"])
    assert (webhook["code"], webhook["desc"], webhook["success"]) == ("00", "success", True)
    assert webhook["signature"] == signatures.payos_signature(webhook["data"], CONFIG.payos_checksum_key)
    data = payos_client.webhooks.verify(delivery["body"])  # the SDK's own check agrees
    assert (data.order_code, data.amount, data.payment_link_id) == (
        link.order_code,
        50000,
        link.payment_link_id,
    )
    assert data.reference.startswith("FT") and data.account_number == "0123456789"

    paid = payos_client.payment_requests.get(link.payment_link_id)
    assert (paid.status, paid.amount_paid, paid.amount_remaining, len(paid.transactions)) == (
        "PAID",
        50000,
        0,
        1,
    )

    sent = len(fake.gateways.deliveries)
    assert http(f"{link.checkout_url}/pay", data=b"")[0] == 303
    assert control(fake, "/payos/_control/pay", {"orderCode": link.order_code}) == (200, {"delivered": None})
    assert len(fake.gateways.deliveries) == sent, "a link is paid once"


def test_cancelling_a_payos_link_sends_no_webhook(fake, payos_client):
    link = payment_link(payos_client)
    sent = len(fake.gateways.deliveries)

    status, headers, _ = http(f"{link.checkout_url}/cancel", data=b"")

    assert status == 303
    assert headers["Location"] == with_query(
        "https://panel.test/funds/?via=payos",
        {
            "code": "00",
            "id": link.payment_link_id,
            "cancel": "true",
            "status": "CANCELLED",
            "orderCode": link.order_code,
        },
    )
    assert "&code=00&" in headers["Location"]
    assert len(fake.gateways.deliveries) == sent
    assert payos_client.payment_requests.get(link.order_code).status == "CANCELLED"
    assert http(f"{link.checkout_url}/pay", data=b"")[0] == 409


def test_payos_control_pays_by_link_id(fake, payos_client):
    link = payment_link(payos_client)

    assert control(fake, "/payos/_control/pay", {"paymentLinkId": link.payment_link_id}) == (
        200,
        {"delivered": 200},
    )
    assert json.loads(last_delivery(fake, "/payos/webhook/")["body"])["data"]["orderCode"] == link.order_code
    assert control(fake, "/payos/_control/pay", {"orderCode": 1})[0] == 404
    with pytest.raises(NotFound):
        fake.gateways.payos_pay("nope")


# SePay


def test_a_sepay_transfer_sends_its_webhook_with_the_api_key(fake, panel):
    status, answer = control(
        fake, "/sepay/_control/transfer", {"amount": 200000, "content": "NAP ABC123 chuyen"}
    )

    assert status == 200 and answer["delivered"] == 200
    delivery = last_delivery(fake, "/payments/sepay/webhook/")
    assert panel.received[-1]["path"] == "/payments/sepay/webhook/"
    assert signatures.apikey_ok(panel.received[-1]["headers"]["Authorization"], CONFIG.sepay_api_key)
    body = json.loads(delivery["body"])
    assert body["id"] == answer["id"] >= 92704001
    assert {
        k: body[k] for k in ("gateway", "accountNumber", "code", "content", "transferType", "transferAmount")
    } == {
        "gateway": "MBBank",
        "accountNumber": "0123456789",
        "code": None,
        "content": "NAP ABC123 chuyen",
        "transferType": "in",
        "transferAmount": 200000,
    }
    assert body["description"] == "BankAPINotify NAP ABC123 chuyen" and body["referenceCode"].startswith("FT")
    assert len(body["transactionDate"]) == 19 and body["subAccount"] is None

    out = fake.gateways.sepay_transfer(
        amount=50000, content="refund", account_number="111", transfer_type="out"
    )
    second = json.loads(last_delivery(fake, "/sepay/webhook/")["body"])
    assert (out["id"], out["status"]) == (body["id"] + 1, 200)
    assert (second["accountNumber"], second["accumulated"]) == ("111", body["accumulated"] - 50000)

    assert control(fake, "/sepay/_control/redeliver", {"id": body["id"]}) == (
        200,
        {"id": body["id"], "delivered": 200},
    )
    assert panel.received[-1]["body"] == delivery["body"], "a retry sends the same body"
    assert control(fake, "/sepay/_control/transfer", {"amount": 0, "content": "x"})[0] == 400


def test_the_sepay_page_makes_a_transfer(fake):
    status, _, page = http(f"{fake.url}/sepay/")
    assert status == 200 and 'action="/sepay/transfer"' in page

    status, headers, _ = http(f"{fake.url}/sepay/transfer", data=b"amount=75000&content=NAP+PAGE1")

    assert (status, headers["Location"]) == (303, "/sepay/")
    assert json.loads(last_delivery(fake, "/sepay/webhook/")["body"])["content"] == "NAP PAGE1"
    assert "NAP PAGE1" in http(f"{fake.url}/sepay/")[2] and http(f"{fake.url}/")[0] == 200


def test_an_unreachable_panel_is_recorded_not_raised(fake):
    delivery = fake.gateways.deliver("http://127.0.0.1:1/payments/sepay/webhook/", {"id": 1})

    assert delivery["status"] is None and delivery["body"] == '{"id": 1}' and delivery["answer"]


# The command's configuration


def test_the_command_reads_its_secrets_from_the_settings(settings):
    from payments.management.commands.fake_gateways import gateways_config

    settings.PANEL_URL = "http://panel.test:8000"
    settings.STRIPE_SECRET_KEY = "sk_test_from_settings"
    settings.PAYOS_CHECKSUM_KEY = ""

    config = gateways_config()

    assert config.panel_url == "http://panel.test:8000"
    assert config.stripe_secret_key == "sk_test_from_settings"
    assert config.payos_checksum_key == FakeGatewaysConfig.payos_checksum_key
    assert config.sepay_first_id >= FakeGatewaysConfig.sepay_first_id
    assert gateways_config("http://other.test").panel_url == "http://other.test"
