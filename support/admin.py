"""Support in admin: the tickets (waiting ones first), each ticket's thread with its attachments, its
orders and one-click Refill / Cancel / Poll now on them, and a reply form with canned replies; the canned
replies themselves. Every customer text is escaped (templates with autoescape, format_html)."""

from django.contrib import admin, messages
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import Truncator
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import CHECKBOX_CLASSES

from orders.models import Status
from reseller.admin_display import BAD, BUSY, GOOD, NEUTRAL, WAITING, admin_look, badges, short_time

from .errors import SupportError
from .forms import StaffReplyForm
from .models import WAITING_FOR_STAFF, CannedReply, Ticket, TicketMessage, TicketStatus
from .selectors import ticket_orders, ticket_thread
from .services import (
    ACTIONS,
    ticket_close,
    ticket_mark_read,
    ticket_order_action,
    ticket_staff_reply,
)

TICKET_BADGES = badges(TicketStatus, open=BAD, customer_reply=BAD, answered=BUSY, closed=NEUTRAL)
ORDER_BADGES = badges(
    Status,
    needs_review=BAD, failed=BAD, canceled=BAD, partial=WAITING, expired=WAITING, paused=WAITING,
    pending=BUSY, in_progress=BUSY, processing=BUSY, active=BUSY, completed=GOOD,
)  # fmt: skip
ACTION_LABELS = {"refill": "Refill", "cancel": "Cancel", "poll": "Poll now"}


def _staff_form_look(form):
    admin_look(form)
    form.fields["close_after"].widget.attrs["class"] = " ".join(CHECKBOX_CLASSES)
    return form


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    list_display = [
        "id",
        "user",
        "subject",
        "status_badge",
        "unread",
        "first_words",
        "order_count",
        "activity",
    ]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "subject", "unread_by_staff"]
    search_fields = ["=id", "user__username", "user__email"]
    list_select_related = ["user"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # customers open tickets

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        first = TicketMessage.objects.filter(ticket=OuterRef("pk")).order_by("created_at", "id")
        waiting = [When(status=status, then=Value(0)) for status in WAITING_FOR_STAFF]
        return Ticket.objects.annotate(  # not super()'s: its ordering names these annotations
            waiting_rank=Case(*waiting, default=Value(1), output_field=IntegerField()),
            first_body=Subquery(first.values("body")[:1]),
            orders_count=Count("orders", distinct=True),
        ).order_by(*self.get_ordering(request))

    def get_ordering(self, request):
        return ["waiting_rank", "-last_message_at", "-id"]  # waiting for us first, then the latest

    @display(description="status", ordering="status", label=TICKET_BADGES)
    def status_badge(self, ticket):
        return ticket.status, ticket.get_status_display()

    @admin.display(description="unread", boolean=True, ordering="unread_by_staff")
    def unread(self, ticket):
        return ticket.unread_by_staff

    @admin.display(description="first message")
    def first_words(self, ticket):
        return Truncator(ticket.first_body or "").chars(60)  # escaped by the admin, as every str

    @admin.display(description="orders", ordering="orders_count")
    def order_count(self, ticket):
        return ticket.orders_count

    @admin.display(description="last activity", ordering="last_message_at")
    def activity(self, ticket):
        return short_time(ticket.last_message_at)

    # The thread page ------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/reply/", view(self.reply_view), name="support_ticket_reply"),
            path("<int:pk>/close/", view(self.close_view), name="support_ticket_close"),
            path(
                "<int:pk>/orders/<int:order_id>/<str:action>/",
                view(self.order_action_view),
                name="support_ticket_order_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The thread, read by staff once shown; the ticket's own fields are written only by services."""
        if request.method != "GET":
            return redirect(reverse("admin:support_ticket_change", args=[object_id]))
        if not str(object_id).isdigit():  # a mistyped address: not found, as for an id that does not exist
            raise Http404("No such ticket.")
        ticket = get_object_or_404(Ticket.objects.select_related("user"), pk=object_id)
        if not self.has_view_permission(request, ticket):
            return redirect("admin:index")
        ticket_mark_read(ticket=ticket, by_staff=True)
        return self._thread(request, ticket, StaffReplyForm())

    def _thread(self, request, ticket, form, status=200):
        orders = ticket_orders(ticket=ticket)
        for order in orders:
            order.badge_colour = ORDER_BADGES.get(order.status, NEUTRAL)
        canned = {str(reply.pk): reply.body for reply in CannedReply.objects.filter(is_active=True)}
        context = {
            **self.admin_site.each_context(request),
            "title": f"Ticket {ticket.pk}",
            "subtitle": ticket.get_subject_display(),
            "opts": self.model._meta,
            "original": ticket,
            "ticket": ticket,
            "badge_colour": TICKET_BADGES[ticket.status],
            "thread": ticket_thread(ticket=ticket),
            "orders": orders,
            "actions": [(action, ACTION_LABELS[action]) for action in ACTIONS],
            "events": ticket.events.select_related("created_by"),
            "form": _staff_form_look(form),
            "canned": canned,
            "can_change": self.has_change_permission(request, ticket),
        }
        return TemplateResponse(request, "admin/support/ticket/thread.html", context, status=status)

    def _changeable(self, request, pk):
        ticket = get_object_or_404(Ticket.objects.select_related("user"), pk=pk)
        return ticket if self.has_change_permission(request, ticket) else None

    def _back(self, ticket):
        return redirect(reverse("admin:support_ticket_change", args=[ticket.pk]))

    def reply_view(self, request, pk):
        ticket = self._changeable(request, pk)
        if ticket is None or request.method != "POST":
            return redirect("admin:index") if ticket is None else self._back(ticket)
        form = StaffReplyForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket_staff_reply(
                    ticket=ticket,
                    author=request.user,
                    body=data["body"],
                    canned_id=data["canned"] and data["canned"].pk,
                    files=data["images"],
                    close=data["close_after"],
                )
            except SupportError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                done = "Reply sent and ticket closed." if data["close_after"] else "Reply sent."
                self.message_user(request, done)
                return self._back(ticket)
        return self._thread(request, ticket, form, status=422)

    def close_view(self, request, pk):
        ticket = self._changeable(request, pk)
        if ticket is None:
            return redirect("admin:index")
        if request.method == "POST":
            try:
                ticket_close(ticket=ticket, by=request.user, by_staff=True)
            except SupportError as exc:
                self.message_user(request, str(exc.message), messages.WARNING)
            else:
                self.message_user(request, f"Ticket {ticket.pk} closed.")
        return self._back(ticket)

    def order_action_view(self, request, pk, order_id, action):
        ticket = self._changeable(request, pk)
        if ticket is None:
            return redirect("admin:index")
        if request.method == "POST":
            try:
                done = ticket_order_action(ticket=ticket, order_id=order_id, action=action, by=request.user)
            except SupportError as exc:
                self.message_user(request, str(exc.message), messages.WARNING)
            else:
                self.message_user(request, done)
        return self._back(ticket)


@admin.register(CannedReply)
class CannedReplyAdmin(ModelAdmin):
    list_display = ["title", "is_active", "first_words"]
    list_filter = ["is_active"]
    search_fields = ["title", "body"]

    @admin.display(description="text")
    def first_words(self, reply):
        return Truncator(reply.body).chars(80)
