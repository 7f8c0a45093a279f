"""Writes: opening a ticket, replying (customer or staff), closing, marking read, and staff's one-click
actions on a ticket's orders through the orders app's own services.

Limits are enforced here, not in forms: at most SUPPORT_MAX_OPEN_TICKETS tickets not closed per customer,
and at most SUPPORT_MESSAGES_PER_MINUTE customer messages (openings included) per rolling minute, counted
in the database with the customer's row locked, so two posts at once cannot both slip past. Staff are not
limited. Every refusal is a SupportError whose message the page shows; nothing is written then.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.cancels import orders_cancel
from orders.errors import OrderError
from orders.models import Order
from orders.polling import orders_poll
from orders.refills import refill_request
from reseller.accounts.notifications import TICKET_REPLIED, customer_notify, staff_notify

from .attachments import Upload, uploads_check
from .errors import SupportError
from .models import (
    BODY_MAX_LENGTH,
    Attachment,
    CannedReply,
    Source,
    Subject,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from .moves import ticket_move, ticket_note

MAX_ORDER_IDS = 20
EXCERPT_CHARS = 300
RATE_WINDOW = timedelta(seconds=60)
_ID_SEPARATORS = re.compile(r"[\s,;#]+")


# Parsing what the customer typed ------------------------------------------------------------------------


def order_ids_parse(text: str) -> list[int]:
    """Order numbers from "123, 456" or "#123 #456" (in the order typed, once each), or SupportError."""
    ids: list[int] = []
    for token in _ID_SEPARATORS.split(str(text or "")):
        if not token:
            continue
        if not token.isascii() or not token.isdigit() or len(token) > 18:
            text = _("“%(value)s” is not an order number.")
            raise SupportError(text % {"value": Truncator(token).chars(20)}, field="orders")
        if int(token) not in ids:
            ids.append(int(token))
    if len(ids) > MAX_ORDER_IDS:
        text = ngettext(
            "A ticket can name at most %(count)d order.",
            "A ticket can name at most %(count)d orders.",
            MAX_ORDER_IDS,
        )
        raise SupportError(text % {"count": MAX_ORDER_IDS}, field="orders")
    return ids


def _own_orders(user, ids: list[int]) -> list[Order]:
    found = {order.pk: order for order in Order.objects.filter(user=user, pk__in=ids)}
    for pk in ids:
        if pk not in found:
            raise SupportError(_("You have no order %(id)s.") % {"id": pk}, field="orders")
    return [found[pk] for pk in ids]


def _body_check(body: str) -> str:
    body = str(body or "").strip()
    if not body:
        raise SupportError(_("Write a message."), field="body")
    if len(body) > BODY_MAX_LENGTH:
        text = _("A message can be at most %(count)d characters long (this one has %(length)d).")
        raise SupportError(text % {"count": BODY_MAX_LENGTH, "length": len(body)}, field="body")
    return body


# Limits -------------------------------------------------------------------------------------------------


def _customer_locked(user) -> None:
    """Locks the customer's row until the transaction ends: their posts are counted one at a time."""
    # NO KEY: the customer's other writes (an order, a ledger row: foreign keys to this row) go on meanwhile.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()


def _rate_check(user, now) -> None:
    most = settings.SUPPORT_MESSAGES_PER_MINUTE
    recent = TicketMessage.objects.filter(author=user, by_staff=False, created_at__gt=now - RATE_WINDOW)
    if recent.count() >= most:
        text = ngettext(
            "You can send at most %(count)d message a minute; wait a moment and send it again.",
            "You can send at most %(count)d messages a minute; wait a moment and send it again.",
            most,
        )
        raise SupportError(text % {"count": most})


def _open_check(user) -> None:
    most = settings.SUPPORT_MAX_OPEN_TICKETS
    if Ticket.objects.filter(user=user).exclude(status=TicketStatus.CLOSED).count() >= most:
        text = ngettext(
            "You already have %(count)d open ticket: close it, or add to it, before opening another.",
            "You already have %(count)d open tickets: close one, or add to one, before opening another.",
            most,
        )
        raise SupportError(text % {"count": most})


# Messages -----------------------------------------------------------------------------------------------


def _message_add(ticket, author, body: str, uploads: list[Upload], *, by_staff: bool, now) -> TicketMessage:
    """The message and its images. Files are not rolled back with the transaction: should one fail to
    store, those stored before it are deleted again."""
    message = TicketMessage.objects.create(
        ticket=ticket, author=author, by_staff=by_staff, body=body, created_at=now
    )
    stored = []
    try:
        for upload in uploads:
            attachment = Attachment(
                message=message, original_name=upload.name, content_type=upload.content_type, size=upload.size
            )
            attachment.file.save(upload.name, upload.file, save=True)  # a random name: models.attachment_name
            stored.append(attachment.file)
    except Exception:
        for file in stored:
            file.storage.delete(file.name)
        raise
    return message


def ticket_open(*, user, subject: str, order_ids: str | list[int], body: str, files=()) -> Ticket:
    """Opens a ticket about the customer's own orders, with its first message. Raises SupportError."""
    if subject not in Subject.values:
        raise SupportError(_("Choose what the ticket is about."), field="subject")
    ids = order_ids if isinstance(order_ids, list) else order_ids_parse(order_ids)
    body = _body_check(body)
    uploads = uploads_check(files)
    with transaction.atomic():
        _customer_locked(user)
        now = timezone.now()
        _open_check(user)
        _rate_check(user, now)
        orders = _own_orders(user, ids)
        ticket = Ticket.objects.create(
            user=user, subject=subject, created_at=now, last_message_at=now, unread_by_staff=True
        )
        ticket.orders.set(orders)
        ticket_note(ticket, by=user, source=Source.CUSTOMER, note="opened")
        _message_add(ticket, user, body, uploads, by_staff=False, now=now)
        _staff_told(ticket, user, body, opened=True)
    return ticket


def ticket_reply(*, ticket: Ticket, author, body: str, files=(), by_staff: bool) -> TicketMessage:
    """Adds a message to the thread and moves the ticket: a staff reply makes it Answered (reopening a
    closed one), a customer's reply to an answer makes it Customer reply. A customer replies only to their
    own ticket, never to a closed one (they open a new one). Raises SupportError."""
    body = _body_check(body)
    uploads = uploads_check(files)
    with transaction.atomic():
        if not by_staff:
            if ticket.user_id != author.pk:
                raise SupportError(_("This ticket is not yours."))
            _customer_locked(author)
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        now = timezone.now()
        if by_staff:
            changes = {"last_message_at": now, "unread_by_customer": True, "unread_by_staff": False}
            to = TicketStatus.ANSWERED
        else:
            if ticket.is_closed:
                raise SupportError(_("This ticket is closed: open a new one to write to us again."))
            _rate_check(author, now)
            changes = {"last_message_at": now, "unread_by_staff": True}
            to = TicketStatus.CUSTOMER_REPLY if ticket.status == TicketStatus.ANSWERED else None
        message = _message_add(ticket, author, body, uploads, by_staff=by_staff, now=now)
        source = Source.STAFF if by_staff else Source.CUSTOMER
        if to is not None and to != ticket.status:
            ticket_move(ticket, to, by=author, source=source, note=f"message {message.pk}", **changes)
        else:
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, **changes)
        if by_staff:
            excerpt = Truncator(body).chars(EXCERPT_CHARS)
            customer_notify(
                user_id=ticket.user_id,
                kind=TICKET_REPLIED,
                context={"ticket_id": ticket.pk, "excerpt": excerpt},
            )
        else:
            _staff_told(ticket, author, body, opened=False)
    return message


def ticket_staff_reply(*, ticket: Ticket, author, body: str, canned_id=None, files=(), close: bool = False):
    """Staff's reply from admin: what they typed, else the chosen canned reply's text; closing the ticket
    after it when asked, in the same transaction (the ticket stays locked from the reply to the close, and
    a close refused takes the reply back with it). Raises SupportError."""
    if not str(body or "").strip() and canned_id:
        canned = CannedReply.objects.filter(pk=canned_id, is_active=True).first()
        body = canned.body if canned else body
    with transaction.atomic():
        message = ticket_reply(ticket=ticket, author=author, body=body, files=files, by_staff=True)
        if close:
            ticket_close(ticket=ticket, by=author, by_staff=True)
    return message


def ticket_close(*, ticket: Ticket, by, by_staff: bool) -> Ticket:
    """Closes the ticket (either side may). Raises SupportError if it is closed already, or not theirs."""
    with transaction.atomic():
        if not by_staff and ticket.user_id != by.pk:
            raise SupportError(_("This ticket is not yours."))
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.is_closed:
            raise SupportError(_("This ticket is already closed."))
        source = Source.STAFF if by_staff else Source.CUSTOMER
        ticket_move(ticket, TicketStatus.CLOSED, by=by, source=source, note="closed")
    return ticket


def ticket_mark_read(*, ticket: Ticket, by_staff: bool) -> None:
    """The side viewing the ticket has read it (one conditional update, nothing when already read)."""
    flag = "unread_by_staff" if by_staff else "unread_by_customer"
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk, **{flag: True}).update(**{flag: False})
    setattr(ticket, flag, False)


def _staff_told(ticket: Ticket, author, body: str, *, opened: bool) -> None:
    """A plain-text email to staff (in English) about a customer's message, when SUPPORT_EMAIL_STAFF."""
    if not settings.SUPPORT_EMAIL_STAFF:
        return
    what = "opened" if opened else "replied to"
    subject = f"{author.get_username()} {what} ticket {ticket.pk} ({ticket.subject})"
    link = f"{settings.PANEL_URL}{reverse('admin:support_ticket_change', args=[ticket.pk])}"
    excerpt = Truncator(body).chars(EXCERPT_CHARS)
    staff_notify(subject=subject, body=f"{excerpt}\n\n{link}\n")


# Staff actions on a ticket's orders ---------------------------------------------------------------------

REFILL, CANCEL, POLL = "refill", "cancel", "poll"
ACTIONS = (REFILL, CANCEL, POLL)


def ticket_order_action(*, ticket: Ticket, order_id: int, action: str, by) -> str:
    """Refills, cancels or polls one of the ticket's orders through the orders app's own services (as the
    customer's own buttons do, so every rule of theirs holds); what happened, for staff. Not atomic: the
    cancel and the poll ask the provider, which no transaction should wait on. Raises SupportError."""
    if action not in ACTIONS:
        raise SupportError(f"Unknown action {action!r}.")
    order = (
        ticket.orders.select_related("service", "provider", "user")
        .prefetch_related("refills")
        .filter(pk=order_id)
    ).first()
    if order is None:
        raise SupportError(f"Order {order_id} is not on ticket {ticket.pk}.")
    try:
        if action == REFILL:
            refill = refill_request(user=order.user, order=order, by=by)
            done = f"Order {order.pk}: refill {refill.pk} requested."
        elif action == CANCEL:
            result = orders_cancel(user=order.user, orders=[order], by=by)[order.pk]
            if isinstance(result, OrderError):
                raise result
            done = f"Order {order.pk}: cancel requested; the refund follows once the provider confirms."
        else:
            result = orders_poll(order_ids=[order.pk])
            order.refresh_from_db(fields=["status"])
            done = f"Order {order.pk}: polled ({result}); it is {order.get_status_display()}."
    except OrderError as exc:
        raise SupportError(f"Order {order.pk}: {exc.message}") from None
    ticket_note(ticket, by=by, source=Source.STAFF, note=done)
    return done
