"""payOS payment links (VietQR, VND) through the official SDK: a link per deposit with a fresh order code,
credited on the verified webhook or when the customer comes back and payOS says it is paid.

The webhook's signature is verified on the raw `data` dict (payments/signatures.py), not with the SDK's
`webhooks.verify`, which refuses fields it does not know (../shared/payments.md).
"""

import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.utils.translation import gettext as _
from payos import PayOS, PayOSError
from payos.types import CreatePaymentLinkRequest

from .credit import AmountMismatch, deposit_close, deposit_credit
from .errors import GatewayError, NotificationRefused, json_body
from .models import Deposit, DepositStatus, Method, Notification
from .signatures import payos_verify

log = logging.getLogger(__name__)
Outcome = Notification.Outcome
MAX_VND = 10**15
ORDER_CODE_RANGE = (10**11, 9 * 10**14)  # well inside JavaScript's safe integers, as payOS needs
CLOSED = {"CANCELLED": DepositStatus.CANCELED, "EXPIRED": DepositStatus.EXPIRED}


def payos_client() -> PayOS:
    base = settings.PAYOS_BASE_URL
    if base and not base.endswith("/"):
        base += "/"  # the SDK joins paths to it: without the slash the last part would be dropped
    return PayOS(
        settings.PAYOS_CLIENT_ID,
        settings.PAYOS_API_KEY,
        settings.PAYOS_CHECKSUM_KEY,
        base_url=base or None,
        timeout=settings.PAYMENTS_TIMEOUT,
        max_retries=1,
    )


def _fresh_order_code(deposit: Deposit) -> int:
    """A random order code, stored on the deposit (unique): one per attempt, never reused."""
    low, high = ORDER_CODE_RANGE
    for _attempt in range(5):
        code = low + secrets.randbelow(high - low)
        try:
            if Deposit.objects.filter(pk=deposit.pk).update(order_code=code):
                deposit.order_code = code
                return code
        except IntegrityError:
            continue
    raise GatewayError(_("The payment could not be started. Please try again."))


def payos_start(*, deposit: Deposit, return_url: str, cancel_url: str) -> str:
    """Creates the payment link of the deposit; returns payOS's checkout page. The deposit keeps the link
    id and the VietQR payload to show as a QR image."""
    code = _fresh_order_code(deposit)
    request = CreatePaymentLinkRequest(
        order_code=code,
        amount=int(deposit.amount),
        description=f"D{code % 10**8}",  # short: some banks keep only 9 characters of a memo
        return_url=return_url,
        cancel_url=cancel_url,
    )
    try:
        with payos_client() as client:
            link = client.payment_requests.create(request)
    except (PayOSError, ValueError) as error:  # ValueError: an answer the SDK could not read (pydantic)
        log.warning("payos: no payment link for deposit %s: %s", deposit.pk, type(error).__name__)
        raise GatewayError(_("The VietQR payment could not be started. Please try again later.")) from None
    fields = {
        "gateway_id": link.payment_link_id,
        "checkout_url": link.checkout_url,
        "qr_payload": link.qr_code,
    }
    Deposit.objects.filter(pk=deposit.pk).update(**fields)
    for name, value in fields.items():
        setattr(deposit, name, value)
    return link.checkout_url


def _credit(deposit: Deposit, amount: object, reason: str) -> str:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount < MAX_VND:
        raise NotificationRefused("malformed body")  # payOS amounts are whole VND
    paid = Decimal(amount)
    try:
        credited = deposit_credit(
            deposit=deposit, txn_id=str(deposit.order_code), amount_paid=paid, reason=reason
        )
    except AmountMismatch:
        raise NotificationRefused("amount mismatch") from None
    return Outcome.CREDITED if credited else Outcome.DUPLICATE


def payos_refresh(*, deposit: Deposit) -> bool:
    """Asks payOS about a pending deposit's link (the customer is back): credits it if paid, closes it if
    canceled or expired. True if it changed."""
    if deposit.status != DepositStatus.PENDING or not deposit.gateway_id:
        return False
    try:
        with payos_client() as client:
            link = client.payment_requests.get(deposit.gateway_id)
    except (PayOSError, ValueError) as error:
        log.warning("payos: cannot read the link of deposit %s: %s", deposit.pk, type(error).__name__)
        return False
    status = str(getattr(link.status, "value", link.status))
    if status == "PAID" and link.amount_paid >= link.amount:
        try:
            return _credit(deposit, link.amount_paid, "paid (customer back from payOS)") == Outcome.CREDITED
        except NotificationRefused:
            log.warning("payos: the link of deposit %s was paid another amount", deposit.pk)
            return False
    if status in CLOSED:
        return deposit_close(deposit=deposit, to=CLOSED[status], reason=f"payOS says {status.lower()}")
    return False


def payos_webhook(*, payload: bytes) -> Notification:
    """Verifies and applies one webhook. Raises NotificationRefused (nothing changed) for a malformed body,
    a bad signature, an unknown deposit or an amount that does not match."""
    body = json_body(payload)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise NotificationRefused("malformed body")
    data = body["data"]
    if not payos_verify(data, body.get("signature"), settings.PAYOS_CHECKSUM_KEY):
        raise NotificationRefused("bad signature")
    code = data.get("orderCode")
    if not isinstance(code, int) or isinstance(code, bool):
        raise NotificationRefused("malformed body")
    deposit = Deposit.objects.filter(method=Method.PAYOS, order_code=code).first()
    if deposit is None:
        raise NotificationRefused("unknown deposit")
    paid = str(data.get("code")) == "00" and body.get("success", True) is not False
    outcome = _credit(deposit, data.get("amount"), "paid (payOS webhook)") if paid else Outcome.IGNORED
    return Notification.objects.create(
        method=Method.PAYOS,
        deposit=deposit,
        event_id=str(data.get("reference") or "")[:255],
        event_type="payment",
        payload=body,
        outcome=outcome,
    )
