"""Celery tasks for payments: thin. Loaded by the app config; beat runs them by name."""

from celery import shared_task

from .expiry import deposits_expire as expire


@shared_task(name="payments.tasks.deposits_expire")
def deposits_expire() -> int:
    """Closes card and payOS deposits left unpaid past DEPOSIT_EXPIRE_AFTER (payments/expiry.py)."""
    return expire()
