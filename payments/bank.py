"""Bank transfers with SePay's notifications (VND): each customer writes their memo code
(<BANK_MEMO_PREFIX><customer id>) in the transfer; SePay tells us of every incoming transfer, once per id
(it retries: we deduplicate); a transfer whose memo names one customer is credited at once as a bank
deposit, any other waits for an operator, who assigns it to a customer (once).

Banks reformat memos ("nap12", "NAP-12", "MBVCB.123.NAP12.CT tu ...", "...CT NAP12 FT2345"): the code is
found case-insensitively anywhere in the text, as one word: at most one "-", "." or "_" between the prefix
and the number, and nothing but a space or punctuation right after it (NAP123 is not NAP12). A space inside
is not allowed: "nạp" is Vietnamese for "top up", and "NAP 2 TRIEU" or "NAP 500K" say how much, not who.
A transfer naming no customer, or more than one, or a staff member, waits for an operator.
"""

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

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
    return re.compile(rf"{prefix}[-._]?0*(\d+)(?![0-9A-Za-z])", re.IGNORECASE)


def memo_customer(content: str) -> User | None:
    """The one active customer (not staff) whose memo code the transfer text carries; None for none or
    several."""
    ids = {int(found) for found in _memo_pattern().findall(content or "")}
    if len(ids) != 1:
        return None
    return User.objects.filter(pk=ids.pop(), is_active=True, is_staff=False).first()


MAX_SEPAY_ID = 2**63 - 1
MAX_VND = 10**15  # far above any transfer, well inside the money columns


def _whole_number(value: object) -> int | None:
    """An integer as SePay sends one (a JSON number, or its digits as text); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _parse(body: object) -> dict:
    if not isinstance(body, dict):
        raise NotificationRefused("malformed body")
    sepay_id, amount = _whole_number(body.get("id")), _whole_number(body.get("transferAmount"))
    if sepay_id is None or amount is None or not (0 < sepay_id <= MAX_SEPAY_ID and 0 <= amount < MAX_VND):
        raise NotificationRefused("malformed body")
    incoming = str(body.get("transferType", "in")) == "in"
    return {"sepay_id": sepay_id, "amount": Decimal(amount), "incoming": incoming}


def sepay_webhook(*, authorization: str | None, payload: bytes) -> Notification:
    """Checks SePay's key, records the transfer once per SePay id and credits it when its memo names a
    customer. Raises NotificationRefused: 401 for a bad key, 400 for a malformed body."""
    if not apikey_ok(authorization, settings.SEPAY_API_KEY):
        raise NotificationRefused("bad key", status=401)
    body = json_body(payload)
    fields = _parse(body)
    outcome, deposit = Outcome.IGNORED, None
    # The record and its credit together: if crediting fails, nothing is kept and SePay's retry tries again.
    with transaction.atomic():
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
    if quote.credited <= 0:  # too small to pay the method's fee: an operator decides
        log.warning("bank transfer %s waits: it does not cover the fee", transfer.sepay_id)
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


def bank_transfer_restore(*, transfer: BankTransfer) -> bool:
    """An operator puts a transfer set aside back in the queue (it was a customer's after all)."""
    return bank_transfer_move(transfer=transfer, to=BankTransfer.Status.WAITING)
