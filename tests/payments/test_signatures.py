"""The gateways' signatures (payments/signatures.py) against the vendors' own: payOS's SDK test vectors and
its CryptoProvider, Stripe's SDK verifier; SePay's key check; the VietQR payload (payments/vietqr.py)."""

import json
import time

import pytest
import stripe
from payos._crypto import CryptoProvider

from payments.signatures import (
    apikey_ok,
    payos_payment_request_signature,
    payos_signature,
    payos_verify,
    stripe_signature_header,
)
from payments.vietqr import crc16, parse_fields, vietqr_payload

# payOS's SDK test vectors: github.com/payOSHQ/payos-lib-python, tests/_crypto/testCases.json
VECTOR_KEY = "test_checksum_key"
TRANSACTION = {
    "accountNumber": "0123456789",
    "amount": 2000,
    "counterAccountBankId": "01202001",
    "counterAccountBankName": None,
    "counterAccountName": "NGUYEN VAN A",
    "counterAccountNumber": "9876543210",
    "description": "TRANSACTION DESCRIPTION",
    "reference": "FT-REFERENCE",
    "transactionDateTime": "2025-12-12T09:00:00+07:00",
    "virtualAccountName": None,
    "virtualAccountNumber": None,
}
LINK = {
    "id": "payment-link-id",
    "orderCode": 0,
    "amount": 2000,
    "amountPaid": 0,
    "amountRemaining": 2000,
    "status": "PENDING",
    "createdAt": "2025-12-12T09:00:00+07:00",
    "transactions": [],
    "canceledAt": None,
    "cancellationReason": None,
}
PAID = {"amountPaid": 2000, "amountRemaining": 0, "status": "PAID"}
BODY_VECTORS = {
    "webhook": (
        {
            "accountNumber": "0123456789",
            "amount": 20000,
            "description": "thanh toan",
            "reference": "FT-REFERENCE",
            "transactionDateTime": "2025-12-12 09:00:00",
            "virtualAccountNumber": "",
            "counterAccountBankId": "01202001",
            "counterAccountBankName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "9876543210",
            "virtualAccountName": "",
            "currency": "VND",
            "orderCode": 0,
            "paymentLinkId": "payment-link-id",
            "code": "00",
            "desc": "success",
        },
        "302b3becca1672dff99daafae2965f40e48ea3ca39453e4bf37fbcc26807a0e8",
    ),
    "pending payment link": (LINK, "33093364158b143baa9ecd2e705d9a2a5a5d391a3cab7cb0a371588b3731368f"),
    "paid payment link with 1 transaction": (
        {**LINK, **PAID, "transactions": [TRANSACTION]},
        "6af5e2c9a28256c140169ed624114b43295915d7b6e2fa6278b17a7c43aadefd",
    ),
    "paid payment link with many transactions": (
        {**LINK, **PAID, "transactions": [TRANSACTION, TRANSACTION]},
        "04ebbe221724d2b848c3f39b2db3311cc554167f55bd2fe2cb7b86b6bfdeadaa",
    ),
    "expired payment link": (
        {**LINK, "status": "EXPIRED"},
        "e07e6e463904beb38da38192b4de79beb4bd20b0435d3920389beb6abeb6c48e",
    ),
    "cancelled payment link": (
        {
            **LINK,
            "status": "CANCELLED",
            "canceledAt": "2025-12-12T09:00:00+07:00",
            "cancellationReason": "cancel reason",
        },
        "10c181c89bda5b855327e3e16494b9e8409e6b85a2a90f20177af99f8b12eaa9",
    ),
}


@pytest.mark.parametrize("name", list(BODY_VECTORS))
def test_the_payos_signature_matches_the_sdk_test_vectors(name):
    payload, expected = BODY_VECTORS[name]

    assert payos_signature(payload, VECTOR_KEY) == expected
    assert payos_verify(payload, expected, VECTOR_KEY)
    assert payos_verify(payload, expected.upper(), VECTOR_KEY), "hex is compared whatever its case"


def test_the_payos_signature_does_not_depend_on_the_order_of_the_fields():
    payload, expected = BODY_VECTORS["webhook"]

    assert payos_signature(dict(reversed(list(payload.items()))), VECTOR_KEY) == expected


def test_the_payment_request_signature_matches_the_sdk_vector_with_a_vietnamese_description():
    request = {
        "amount": 2000,
        "description": "Thanh toán đơn hàng",
        "orderCode": 0,
        "cancelUrl": "http://localhost",
        "returnUrl": "http://localhost",
    }

    expected = "d8b7b0e5d19edfe7b1f53dedeb8d1c7c2b62fabd7eb320dbc514c58f13e9e2c5"
    assert payos_payment_request_signature(request, VECTOR_KEY) == expected
    extra = dict(request, buyerName="buyer name", items=[{"name": "x", "price": 1}], signature="")
    assert payos_payment_request_signature(extra, VECTOR_KEY) == expected, "only the five fields are signed"


@pytest.mark.parametrize(
    "payload",
    [
        {"b": 1, "a": "x"},
        {"none": None, "null": "null", "undefined": "undefined", "empty": ""},
        {"yes": True, "no": False, "zero": 0, "negative": -3},
        {"list": [{"b": 2, "a": 1}, {"c": None, "a": "đ"}], "empty": []},
        {"scalars": [1, "two", True, None], "text": "Thanh toán & trả=lại"},
        {"amount": 1.5, "text": "with spaces and ?query=1"},
    ],
)
def test_the_payos_signature_is_the_installed_sdks(payload):
    sdk = CryptoProvider().create_signature_from_object(payload, "panel-checksum")

    assert payos_signature(payload, "panel-checksum") == sdk


@pytest.mark.parametrize(
    ("data", "signature", "key"),
    [
        ([], "00", "k"),
        ("text", "00", "k"),
        (None, "00", "k"),
        ({"a": 1}, None, "k"),
        ({"a": 1}, 123, "k"),
        ({"a": 1}, payos_signature({"a": 1}, "k"), ""),
        ({"a": 1}, payos_signature({"a": 2}, "k"), "k"),
        ({"a": 1}, payos_signature({"a": 1}, "other"), "k"),
        ({"a": 1}, payos_signature({"a": 1}, "k")[:-1], "k"),
        ({"a": 1}, "", "k"),
    ],
)
def test_payos_verify_refuses_what_is_not_signed_with_the_key(data, signature, key):
    assert not payos_verify(data, signature, key)


def test_payos_verify_accepts_the_right_signature():
    assert payos_verify({"a": 1}, payos_signature({"a": 1}, "k"), "k")


# Stripe


def test_stripes_sdk_accepts_our_signature_header():
    body = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}})
    header = stripe_signature_header(body, "whsec_x")

    assert stripe.WebhookSignature.verify_header(body, header, "whsec_x", 300)
    assert stripe.WebhookSignature.verify_header(body.encode(), header, "whsec_x", 300)
    assert stripe.WebhookSignature.verify_header(
        body, stripe_signature_header(body.encode(), "whsec_x"), "whsec_x"
    )


def test_our_header_is_the_one_stripes_sdk_would_make():
    body = '{"a": "é"}'

    assert stripe_signature_header(body, "whsec_x", timestamp=1700000000) == (
        stripe.WebhookSignature.generate_signature_header(body, "whsec_x", timestamp=1700000000)
    )


@pytest.mark.parametrize(
    ("body", "secret", "age"),
    [
        ('{"id": "evt_2"}', "whsec_x", 0),  # another body
        ('{"id": "evt_1"}', "whsec_y", 0),  # another secret
        ('{"id": "evt_1"}', "whsec_x", 301),  # too old
    ],
)
def test_stripes_sdk_refuses_a_tampered_body_another_secret_or_an_old_header(body, secret, age):
    header = stripe_signature_header('{"id": "evt_1"}', "whsec_x", timestamp=int(time.time()) - age)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body, header, secret, 300)


# SePay


@pytest.mark.parametrize(
    ("header", "key", "ok"),
    [
        ("Apikey secret-key", "secret-key", True),
        ("apikey secret-key", "secret-key", True),
        ("APIKEY   secret-key  ", "secret-key", True),
        ("  Apikey secret-key", "secret-key", True),
        ("Apikey secret-ke", "secret-key", False),  # a prefix of the key
        ("Apikey s", "secret-key", False),
        ("Apikey secret-key2", "secret-key", False),
        ("Apikey Secret-Key", "secret-key", False),
        ("Apikey other", "secret-key", False),
        ("Bearer secret-key", "secret-key", False),
        ("Apikeysecret-key", "secret-key", False),
        ("secret-key", "secret-key", False),
        ("Apikey", "secret-key", False),
        ("Apikey ", "secret-key", False),
        ("", "secret-key", False),
        (None, "secret-key", False),
        ("Apikey ", "", False),  # no key configured: nothing is accepted
        ("Apikey x", "", False),
    ],
)
def test_apikey_ok(header, key, ok):
    assert apikey_ok(header, key) is ok


# VietQR


def test_crc16_is_ccitt_false():
    assert crc16("123456789") == "29B1"
    assert crc16("") == "FFFF"


def test_a_vietqr_payload_parses_back_to_the_account_the_amount_and_the_memo():
    payload = vietqr_payload(bank_bin="970422", account="0123456789", amount=250000, memo="NAP12")

    fields = parse_fields(payload)
    merchant = parse_fields(fields["38"])
    beneficiary = parse_fields(merchant["01"])
    assert (fields["00"], fields["01"], fields["53"], fields["58"]) == ("01", "12", "704", "VN")
    assert (merchant["00"], merchant["02"]) == ("A000000727", "QRIBFTTA")
    assert beneficiary == {"00": "970422", "01": "0123456789"}
    assert fields["54"] == "250000"
    assert parse_fields(fields["62"]) == {"08": "NAP12"}
    assert payload[-8:-4] == "6304"
    assert fields["63"] == payload[-4:] == crc16(payload[:-4])
    assert list(fields) == ["00", "01", "38", "53", "54", "58", "62", "63"]


def test_a_vietqr_payload_without_an_amount_is_static_and_lets_the_payer_type_it():
    payload = vietqr_payload(bank_bin="970422", account="0123456789", memo="NAP12")

    fields = parse_fields(payload)
    assert fields["01"] == "11" and "54" not in fields
    assert payload[-4:] == crc16(payload[:-4])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bank_bin": "97042", "account": "0123456789"},
        {"bank_bin": "97042x", "account": "0123456789"},
        {"bank_bin": "970422", "account": ""},
        {"bank_bin": "970422", "account": "0123456789", "memo": "x" * 100},
    ],
)
def test_a_vietqr_payload_refuses_a_bad_bank_an_empty_account_or_a_memo_too_long(kwargs):
    with pytest.raises(ValueError):
        vietqr_payload(**kwargs)
