"""Celery tasks for accounts: thin. Enqueued by name (notifications.py), loaded by the app config."""

import smtplib

from celery import shared_task

from . import notifications

# A mail server that is down or refuses for now: try again later. (The email is not sent twice unless the
# server took it and then failed to say so, which SMTP cannot tell apart.)
RETRIED = (smtplib.SMTPException, OSError)


@shared_task(
    name=notifications.SEND_CUSTOMER_EMAIL,
    autoretry_for=RETRIED,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=5,
)
def send_customer_email(user_id: int, kind: str, context: dict) -> bool:
    """Emails a customer about an order, a refill or their funds (notifications.customer_email_send)."""
    return notifications.customer_email_send(user_id=user_id, kind=kind, context=context)


@shared_task(
    name=notifications.SEND_STAFF_EMAIL,
    autoretry_for=RETRIED,
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=5,
)
def send_staff_email(subject: str, body: str) -> int:
    """Emails staff a notice (notifications.staff_email_send)."""
    return notifications.staff_email_send(subject=subject, body=body)


@shared_task(name=notifications.SEND_CUSTOMER_EMAILS)
def send_customer_emails(notices: list) -> int:
    """Many customer emails (notifications.customers_notify). One that fails for now is retried on its own,
    as a `send_customer_email` task, so that the others are not sent twice; returns how many were sent."""
    sent = 0
    for user_id, kind, context in notices:
        try:
            sent += notifications.customer_email_send(user_id=user_id, kind=kind, context=context)
        except RETRIED:
            send_customer_email.apply_async((user_id, kind, context), countdown=60)
    return sent
