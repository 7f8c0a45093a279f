"""Bank transfers with SePay's notifications (VND): each customer writes their memo code
(<BANK_MEMO_PREFIX><customer id>) in the transfer; SePay tells us of every incoming transfer, once per id
(it retries: we deduplicate); a transfer whose memo names one customer is credited at once as a bank
deposit, any other waits for an operator, who assigns it to a customer (once).

Banks reformat memos ("NAP 12", "nap-12", "...CT NAP12 FT2345"): the code is found case-insensitively
anywhere in the text, with spaces or punctuation allowed between the prefix and the number, and digits
right after the number make it another number (NAP123 is not NAP12).
"""

import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction

from reseller.accounts.models import User

from .amounts import NoExchangeRate, deposit_quote
from .credit import deposit_create, deposit_credit
from .errors import NotificationRefused, json_body
from .methods import method_config
from .models import BankTransfer, Deposit, Method, Notification
from .moves import bank_transfer_move
from .signatures import apikey_ok
from .vietqr import vietqr_payload

log = logging.getLogger(__name__)
Outcome = Notification.Outcome


def memo_code(user: User) -> str:
    return f"{settings.BANK_MEMO_PREFIX}{user.pk}"


@dataclass(frozen=True)
class BankDetails:
    bank_name: str
    account_number: str
    account_name: str
    memo: str
    amount: Decimal | None
    qr_payload: str  # VietQR: the account, the memo and, if given, the amount


def bank_details(*, user: User, amount: Decimal | None = None) -> BankDetails:
    """What the customer needs to pay by transfer: the operator's account and their memo code."""
    memo = memo_code(user)
    payload = vietqr_payload(
        bank_bin=settings.BANK_BIN,
        account=settings.BANK_ACCOUNT_NUMBER,
        amount=int(amount) if amount else None,
        memo=memo,
    )
    return BankDetails(
        settings.BANK_NAME, settings.BANK_ACCOUNT_NUMBER, settings.BANK_ACCOUNT_NAME, memo, amount, payload
    )


def _memo_pattern() -> re.Pattern:
    prefix = re.escape(settings.BANK_MEMO_PREFIX)
    return re.compile(rf"{prefix}[\s._:#-]*0*(\d+)(?!\d)", re.IGNORECASE)


def memo_customer(content: str) -> User | None:
    """The one active customer whose memo code the transfer text carries; None for none or several."""
    ids = {int(found) for found in _memo_pattern().findall(content or "")}
    if len(ids) != 1:
        return None
    return User.objects.filter(pk=ids.pop(), is_active=True).first()


def _parse(body: object) -> dict:
    if not isinstance(body, dict):
        raise NotificationRefused("malformed body")
    try:
        sepay_id = int(body["id"])
        amount = Decimal(str(body["transferAmount"]))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise NotificationRefused("malformed body") from None
    if isinstance(body["id"], bool) or sepay_id <= 0 or not amount.is_finite() or amount < 0:
        raise NotificationRefused("malformed body")
    return {"sepay_id": sepay_id, "amount": amount, "incoming": str(body.get("transferType", "in")) == "in"}


def sepay_webhook(*, authorization: str | None, payload: bytes) -> Notification:
    """Checks SePay's key, records the transfer once per SePay id and credits it when its memo names a
    customer. Raises NotificationRefused: 401 for a bad key, 400 for a malformed body."""
    if not apikey_ok(authorization, settings.SEPAY_API_KEY):
        raise NotificationRefused("bad key", status=401)
    body = json_body(payload)
    fields = _parse(body)
    outcome, deposit = Outcome.IGNORED, None
    if fields["incoming"] and fields["amount"] > 0:
        transfer, created = _record(fields, body)
        if not created:
            outcome, deposit = Outcome.DUPLICATE, transfer.deposit
        else:
            customer = memo_customer(transfer.content)
            deposit = bank_transfer_credit(transfer=transfer, user=customer) if customer else None
            outcome = Outcome.CREDITED if deposit else Outcome.WAITING
    return Notification.objects.create(
        method=Method.BANK,
        deposit=deposit,
        event_id=str(fields["sepay_id"]),
        event_type=f"transfer {'in' if fields['incoming'] else 'out'}",
        payload=body,
        outcome=outcome,
    )


def _record(fields: dict, body: dict) -> tuple[BankTransfer, bool]:
    try:
        with transaction.atomic():
            transfer = BankTransfer.objects.create(
                sepay_id=fields["sepay_id"],
                amount=fields["amount"],
                content=str(body.get("content") or body.get("description") or "")[:2000],
                account_number=str(body.get("accountNumber") or "")[:64],
                reference_code=str(body.get("referenceCode") or "")[:255],
                transaction_date=str(body.get("transactionDate") or "")[:64],
                payload=body,
            )
    except IntegrityError:  # SePay's retry, or the same notification at once: recorded already
        return BankTransfer.objects.select_related("deposit").get(sepay_id=fields["sepay_id"]), False
    return transfer, True


def bank_transfer_credit(
    *, transfer: BankTransfer, user: User, assigned_by: User | None = None
) -> Deposit | None:
    """Credits a waiting transfer to `user` as a bank deposit (converted at today's rate when the panel
    currency is not VND), once: the transfer's conditional move from waiting and the deposit's unique SePay
    id. None if it was credited already, or there is no exchange rate (it keeps waiting then)."""
    try:
        quote = deposit_quote(config=method_config(Method.BANK), amount=transfer.amount, currency="VND")
    except NoExchangeRate:
        log.warning("bank transfer %s waits: no VND exchange rate is set", transfer.sepay_id)
        return None
    with transaction.atomic():
        if not bank_transfer_move(
            transfer=transfer, to=BankTransfer.Status.CREDITED, assigned_by=assigned_by
        ):
            return None
        deposit = deposit_create(
            user=user,
            method=Method.BANK,
            quote=quote,
            gateway_id=str(transfer.sepay_id),
            note=transfer.reference_code[:500],
            created_by=assigned_by,
        )
        BankTransfer.objects.filter(pk=transfer.pk).update(deposit=deposit)
        reason = "bank transfer assigned by staff" if assigned_by else "bank transfer matched by memo"
        deposit_credit(
            deposit=deposit, txn_id=str(transfer.sepay_id), amount_paid=transfer.amount, reason=reason
        )
    transfer.deposit = deposit
    return deposit


def bank_transfer_ignore(*, transfer: BankTransfer) -> bool:
    """An operator sets a waiting transfer aside (not a customer's payment)."""
    return bank_transfer_move(transfer=transfer, to=BankTransfer.Status.IGNORED)
