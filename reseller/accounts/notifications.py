"""Emails to customers about their money and orders, which they may turn off on their account page.

`customer_notify` is what the other apps call, in the transaction that made the event: the email is queued
only once that commits (so a rolled-back refund sends nothing), by task name (accounts.tasks is loaded by
the app config, never imported here). The worker then calls `customer_email_send`, which renders the email
in the customer's language and time zone.
"""

import json
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from reseller.enqueue import enqueue_after_commit

from .models import User

log = logging.getLogger(__name__)

SEND_CUSTOMER_EMAIL = "accounts.send_customer_email"
SEND_CUSTOMER_EMAILS = "accounts.send_customer_emails"
EMAILS_PER_TASK = 500  # (a polling batch refunds hundreds; each task sent cost the sweep a few ms)
SEND_STAFF_EMAIL = "accounts.send_staff_email"

# Each kind has templates/emails/<kind>_subject.txt, <kind>.txt and <kind>.html, and takes this context:
ORDER_REFUNDED = "order_refunded"  # order_id, order_public_id, amount, status, balance
REFILL_COMPLETED = "refill_completed"  # order_id, order_public_id, refill_id
FUNDS_CREDITED = "funds_credited"  # amount, balance, note
TICKET_REPLIED = "ticket_replied"  # ticket_id, excerpt (of the staff reply)
KINDS = frozenset({ORDER_REFUNDED, REFILL_COMPLETED, FUNDS_CREDITED, TICKET_REPLIED})


def customer_notify(*, user_id: int, kind: str, context: dict) -> None:
    """Emails the customer about an event once the current transaction commits (at once outside one).

    `context` goes through the broker as JSON: Decimals (and anything else JSON lacks) are sent as
    strings, which the `money` filter takes. A failure to queue is logged, never raised: an email must
    never break what it tells of.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of customer email: {kind!r}.")
    context = json.loads(json.dumps(context, default=str))  # what the worker gets, even when run eagerly
    enqueue_after_commit(SEND_CUSTOMER_EMAIL, user_id, kind, context, robust=True)


def customers_notify(*, notices: list[tuple[int, str, dict]]) -> None:
    """`customer_notify` for many emails, each `(user_id, kind, context)`: one task per EMAILS_PER_TASK of
    them instead of one each (a polling batch refunds hundreds of orders, and queueing a task costs about
    as much as refunding an order)."""
    for _user_id, kind, _context in notices:
        if kind not in KINDS:
            raise ValueError(f"Unknown kind of customer email: {kind!r}.")
    notices = json.loads(json.dumps(notices, default=str))
    for start in range(0, len(notices), EMAILS_PER_TASK):
        enqueue_after_commit(SEND_CUSTOMER_EMAILS, notices[start : start + EMAILS_PER_TASK], robust=True)


def customer_email_send(*, user_id: int, kind: str, context: dict) -> bool:
    """Sends the email of this kind to the customer, unless they turned emails off or have no address.
    True if one was sent. Raises what the mail backend raises (the task decides about retries)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of customer email: {kind!r}.")
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email_notifications or not user.email:
        return False
    with translation.override(user.email_language), timezone.override(user.zone):
        context = {
            **context,
            "user": user,
            "panel_name": settings.PANEL_NAME,
            "panel_url": settings.PANEL_URL,
            "account_url": f"{settings.PANEL_URL}{reverse('accounts:account')}#preferences",
        }
        subject = " ".join(render_to_string(f"emails/{kind}_subject.txt", context).split())
        subject = f"[{settings.PANEL_NAME}] {subject}"
        text = render_to_string(f"emails/{kind}.txt", context)
        html = render_to_string(f"emails/{kind}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
    log.info("sent %s email to user %s", kind, user_id)
    return True


def staff_notify(*, subject: str, body: str) -> None:
    """Emails every active staff member with an address (plain text, in English) once the current
    transaction commits: what operators must act on, such as a reversed payment. Never raises."""
    log.warning("staff notice: %s", subject)
    enqueue_after_commit(SEND_STAFF_EMAIL, subject, body, robust=True)


def staff_email_send(*, subject: str, body: str) -> int:
    """Sends a staff notice; the number of staff it went to."""
    to = list(
        User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if not to:
        return 0
    EmailMultiAlternatives(subject=f"[{settings.PANEL_NAME}] {subject}", body=body, to=to).send()
    return len(to)
