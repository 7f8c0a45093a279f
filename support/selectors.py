"""Reads: a customer's tickets (theirs only, 404 for anyone else's), the unread and waiting counts."""

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import WAITING_FOR_STAFF, Attachment, Ticket, TicketMessage


def ticket_list_for_user(*, user) -> QuerySet[Ticket]:
    """The customer's tickets, the latest activity first, with how many orders each names."""
    return (
        Ticket.objects.filter(user=user)
        .annotate(order_count=Count("orders", distinct=True))
        .order_by("-last_message_at", "-id")
    )


def ticket_get_for_user(*, user, ticket_id: int) -> Ticket:
    """The customer's own ticket, else 404 (never another customer's, never a hint that it exists)."""
    return get_object_or_404(Ticket, user=user, pk=ticket_id)


def ticket_thread(*, ticket: Ticket) -> list[TicketMessage]:
    """The ticket's messages, oldest first, with their authors and attachments."""
    messages = ticket.messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    return list(messages.order_by("created_at", "id"))


def ticket_orders(*, ticket: Ticket):
    """The orders the ticket is about, with what their status badge reads."""
    return list(ticket.orders.select_related("service").prefetch_related("refills").order_by("id"))


def attachment_get_for(*, user, attachment_id: int) -> Attachment:
    """The attachment, for staff who may see tickets or the customer whose ticket it is on; else 404."""
    attachments = Attachment.objects.select_related("message__ticket")
    if not (user.is_staff and user.has_perm("support.view_ticket")):
        attachments = attachments.filter(message__ticket__user=user)
    return get_object_or_404(attachments, pk=attachment_id)


def customer_unread_count(*, user) -> int:
    """How many of the customer's tickets have a reply they have not seen."""
    return Ticket.objects.filter(user=user, unread_by_customer=True).count()


def tickets_waiting_count() -> int:
    """Tickets waiting for staff: Open or Customer reply (the admin sidebar's badge)."""
    return Ticket.objects.filter(status__in=WAITING_FOR_STAFF).count()
