"""Support tickets: a customer's question about their orders or payments, answered by staff in a thread.

A ticket's status is written only by support/moves.py (a table of allowed moves, a history row per move);
messages, attachments and the unread flags by support/services.py.
"""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BODY_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 100


class Subject(models.TextChoices):
    ORDER = "order", _("Order")
    PAYMENT = "payment", _("Payment")
    REFILL = "refill", _("Refill")
    CANCEL = "cancel", _("Cancel")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CUSTOMER_REPLY = "customer_reply", _("Customer reply")
    CLOSED = "closed", _("Closed")


S = TicketStatus

# A customer cannot reply to a closed ticket (they open a new one); staff reopen it by replying.
TRANSITIONS = {
    S.OPEN: frozenset({S.ANSWERED, S.CLOSED}),
    S.ANSWERED: frozenset({S.CUSTOMER_REPLY, S.CLOSED}),
    S.CUSTOMER_REPLY: frozenset({S.ANSWERED, S.CLOSED}),
    S.CLOSED: frozenset({S.ANSWERED}),
}
WAITING_FOR_STAFF = frozenset({S.OPEN, S.CUSTOMER_REPLY})


class Source(models.TextChoices):
    CUSTOMER = "customer", "customer"
    STAFF = "staff", "staff"


class Ticket(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=16, choices=Subject.choices)
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    orders = models.ManyToManyField("orders.Order", blank=True, related_name="tickets")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    unread_by_customer = models.BooleanField(default=False)
    unread_by_staff = models.BooleanField(default=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-last_message_at"], name="ticket_user_activity"),
            models.Index(fields=["status", "-last_message_at"], name="ticket_status_activity"),
        ]

    def __str__(self):
        return f"Ticket {self.pk} ({self.get_subject_display()}, {self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("support:detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.status == TicketStatus.CLOSED

    @property
    def is_waiting(self) -> bool:
        return self.status in WAITING_FOR_STAFF


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_staff = models.BooleanField(default=False)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["author", "created_at"], name="ticket_message_author_time")]

    def __str__(self):
        return f"Message {self.pk} on ticket {self.ticket_id}"


def attachment_name(instance, filename) -> str:
    """A random storage name: the customer's file name never reaches the file system."""
    now = timezone.now()
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
    return f"support/{now:%Y/%m}/{uuid.uuid4().hex}.{extension.get(instance.content_type, 'bin')}"


class Attachment(models.Model):
    """An image on a message, served only to the ticket's customer and staff (support/views.py)."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_name, max_length=200)
    original_name = models.CharField(max_length=NAME_MAX_LENGTH)
    content_type = models.CharField(max_length=32)  # from the decoded image, never from the client
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("support:attachment", args=[self.pk])


class TicketEvent(models.Model):
    """Every status move of a ticket, written by support/moves.py only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=16, choices=TicketStatus.choices)
    new_status = models.CharField(max_length=16, choices=TicketStatus.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.old_status} -> {self.new_status}"


class CannedReply(models.Model):
    """A reply staff pick from a list and send as is, or edit first."""

    title = models.CharField(max_length=100)
    body = models.TextField(max_length=BODY_MAX_LENGTH)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "canned replies"

    def __str__(self):
        return self.title
