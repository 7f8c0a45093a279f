"""Stripe Checkout through the official SDK: a session per deposit, credited on the paid events, closed on
expiry, reversed on refunds and disputes (../shared/payments.md).

Events are looked up by the deposit (the session's client_reference_id) or, for charges and disputes, by
the payment intent the credit recorded as the deposit's gateway payment id. Unknown event types are
answered 200 and ignored, as Stripe asks.
"""

import logging
import uuid
from decimal import Decimal

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from .credit import AmountMismatch, deposit_close, deposit_credit, deposit_reverse
from .errors import MAX_BODY, GatewayError, NotificationRefused, json_body
from .models import Deposit, DepositStatus, Method, Notification

log = logging.getLogger(__name__)
Outcome = Notification.Outcome

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
CLOSING_EVENTS = {
    "checkout.session.expired": DepositStatus.EXPIRED,
    "checkout.session.async_payment_failed": DepositStatus.CANCELED,
}
REFUND_EVENTS = {"charge.refunded"}
DISPUTE_EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}


def stripe_client() -> stripe.StripeClient:
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=1,
        http_client=stripe.RequestsClient(timeout=settings.PAYMENTS_TIMEOUT),
    )


# Stripe's own minor units (docs.stripe.com/currencies), which are not always how the panel shows a
# currency: IDR has two decimals at Stripe, the dinars three.
STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF"}
    | {"XPF"}
)
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_places(currency: str) -> int:
    currency = currency.upper()
    return 0 if currency in STRIPE_ZERO_DECIMAL else 3 if currency in STRIPE_THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """The amount in Stripe's minor units; refused (ValueError) if it does not fit them exactly."""
    minor = amount.scaleb(stripe_places(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of Stripe's minor units.")
    return int(minor)


def from_minor(value: object, currency: str) -> Decimal:
    """Stripe's integer amount in the currency's minor units (cents) as a Decimal; a notification carrying
    anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NotificationRefused("malformed body")
    return Decimal(value).scaleb(-stripe_places(str(currency)))


def stripe_start(*, deposit: Deposit, success_url: str, cancel_url: str) -> str:
    """Opens the checkout session of the deposit and returns the page to send the customer to."""
    try:
        unit_amount = to_minor(deposit.amount, deposit.currency)
    except ValueError:
        raise GatewayError(
            _("This amount cannot be paid by card: round it to the currency's units.")
        ) from None
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": deposit.currency.lower(),
                    "unit_amount": unit_amount,
                    "product_data": {"name": f"{settings.PANEL_NAME}: add funds"},
                },
                "quantity": 1,
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(deposit.public_id),
        "metadata": {"deposit": str(deposit.public_id), "user": str(deposit.user_id)},
    }
    if deposit.user.email:
        params["customer_email"] = deposit.user.email
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params, options={"idempotency_key": f"deposit-{deposit.public_id}"}
        )
    except stripe.StripeError as error:
        log.warning("stripe: no checkout session for deposit %s: %s", deposit.pk, type(error).__name__)
        raise GatewayError(_("The card payment could not be started. Please try again later.")) from None
    Deposit.objects.filter(pk=deposit.pk).update(gateway_id=session.id, checkout_url=session.url)
    deposit.gateway_id, deposit.checkout_url = session.id, session.url
    return session.url


def _session_paid(deposit: Deposit, session: dict, reason: str) -> str:
    if session.get("payment_status") != "paid":
        return Outcome.IGNORED  # an async payment still on its way: its own event will come
    currency = str(session.get("currency") or deposit.currency).upper()
    if currency != deposit.currency:
        raise NotificationRefused("currency mismatch")
    amount = from_minor(session.get("amount_total") or 0, currency)
    txn = session.get("payment_intent") or session.get("id")
    try:
        credited = deposit_credit(deposit=deposit, txn_id=str(txn), amount_paid=amount, reason=reason)
    except AmountMismatch:
        raise NotificationRefused("amount mismatch") from None
    return Outcome.CREDITED if credited else Outcome.DUPLICATE


def stripe_refresh(*, deposit: Deposit) -> bool:
    """Asks Stripe about a pending deposit's session (the customer is back from checkout, maybe before the
    webhook) and credits it if it is paid. True if this credited it."""
    if deposit.status != DepositStatus.PENDING or not deposit.gateway_id:
        return False
    try:
        session = stripe_client().v1.checkout.sessions.retrieve(deposit.gateway_id)
    except stripe.StripeError as error:
        log.warning("stripe: cannot read session of deposit %s: %s", deposit.pk, type(error).__name__)
        return False
    try:
        return (
            _session_paid(deposit, session.to_dict(), "paid (customer back from checkout)")
            == Outcome.CREDITED
        )
    except NotificationRefused:
        log.warning("stripe: session of deposit %s was paid another amount", deposit.pk)
        return False


def _deposit_of_session(session: dict) -> Deposit:
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    reference = session.get("client_reference_id") or metadata.get("deposit")
    deposit = None
    if reference:
        deposit = Deposit.objects.filter(method=Method.STRIPE, public_id=_uuid_or_none(reference)).first()
    if deposit is None and isinstance(session.get("id"), str):
        deposit = Deposit.objects.filter(method=Method.STRIPE, gateway_id=session["id"]).first()
    if deposit is None:
        raise NotificationRefused("unknown deposit")
    return deposit


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _deposit_of_payment(obj: dict) -> Deposit:
    intent = obj.get("payment_intent")
    intent = intent if isinstance(intent, str) else None
    deposit = (
        Deposit.objects.filter(method=Method.STRIPE, gateway_txn_id=str(intent)).first() if intent else None
    )
    if deposit is None:
        raise NotificationRefused("unknown deposit")
    return deposit


def stripe_webhook(*, payload: bytes, signature: str | None) -> Notification:
    """Verifies and applies one event. Raises NotificationRefused (nothing changed) for a bad signature,
    an old timestamp, a malformed body, an unknown deposit or an amount that does not match."""
    if len(payload) > MAX_BODY:
        raise NotificationRefused("body too large")
    try:
        payload.decode()  # what the signature is computed over: text
    except UnicodeDecodeError:
        raise NotificationRefused("malformed body") from None
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError:
        raise NotificationRefused("bad signature") from None
    event = json_body(payload)
    try:
        kind, obj = event["type"], event["data"]["object"]
        if not (isinstance(kind, str) and isinstance(obj, dict)):
            raise TypeError
    except (KeyError, TypeError):
        raise NotificationRefused("malformed body") from None
    deposit, outcome = None, Outcome.IGNORED
    if kind in PAID_EVENTS:
        deposit = _deposit_of_session(obj)
        outcome = _session_paid(deposit, obj, f"paid ({kind})")
    elif kind in CLOSING_EVENTS:
        deposit = _deposit_of_session(obj)
        closed = deposit_close(deposit=deposit, to=CLOSING_EVENTS[kind], reason=kind)
        outcome = Outcome.CLOSED if closed else Outcome.DUPLICATE
    elif kind in REFUND_EVENTS:
        deposit = _deposit_of_payment(obj)
        refunded = from_minor(obj.get("amount_refunded") or 0, str(obj.get("currency") or deposit.currency))
        changed = deposit_reverse(deposit_id=deposit.pk, refunded=refunded, reason="card payment refunded")
        outcome = Outcome.REVERSED if changed else Outcome.DUPLICATE
    elif kind in DISPUTE_EVENTS:
        deposit = _deposit_of_payment(obj)
        disputed = _disputed_amount(obj, deposit)
        changed = deposit_reverse(
            dispute_status=str(obj.get("status") or ""),
            deposit_id=deposit.pk,
            disputed=disputed,
            reason=f"card payment disputed ({kind})",
        )
        outcome = Outcome.REVERSED if changed else Outcome.DUPLICATE
    return Notification.objects.create(
        method=Method.STRIPE,
        deposit=deposit,
        event_id=str(event.get("id") or "")[:255],
        event_type=kind[:100],
        payload=event,
        outcome=outcome,
    )


def _disputed_amount(dispute: dict, deposit: Deposit) -> Decimal:
    """What a dispute holds: its amount while it is open or lost, nothing once won (funds reinstated)."""
    if dispute.get("status") in ("won", "warning_closed"):
        return Decimal(0)
    return from_minor(dispute.get("amount") or 0, str(dispute.get("currency") or deposit.currency))
