"""The demo's "Simulate the transfer" button (DEBUG only): asks the fake SePay of payments/fakes.py to send
the notification of a transfer carrying the customer's memo code, so it takes the real webhook's path."""

import logging
from decimal import Decimal

import requests
from django.conf import settings

from reseller.accounts.models import User

from .bank import memo_code

log = logging.getLogger(__name__)


def available() -> bool:
    return bool(settings.DEBUG and settings.SEPAY_SIMULATOR_URL)


def bank_transfer(*, user: User, amount: Decimal) -> bool:
    """True if the fake bank sent the notification and the panel took it."""
    if not available():
        return False
    body = {"amount": int(amount), "content": f"{memo_code(user)} chuyen tien"}
    try:
        answer = requests.post(f"{settings.SEPAY_SIMULATOR_URL}/_control/transfer", json=body, timeout=15)
        return answer.ok and answer.json().get("delivered") == 200
    except (requests.RequestException, ValueError) as error:
        log.warning("the fake bank did not answer: %s", type(error).__name__)
        return False
