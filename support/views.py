"""The customer's support pages: their tickets, a new ticket, a ticket's thread (reply, close) and the
attachments, served only to the ticket's customer and staff. Thin: parse, call a service, render or
redirect (POST, redirect, GET)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reseller.pagination import KeysFirstPaginator

from .errors import SupportError
from .forms import ReplyForm, TicketForm
from .selectors import (
    attachment_get_for,
    ticket_get_for_user,
    ticket_list_for_user,
    ticket_orders,
    ticket_thread,
)
from .services import ticket_close, ticket_mark_read, ticket_open, ticket_reply


def _refused(form, exc: SupportError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_GET
def ticket_list(request):
    tickets = ticket_list_for_user(user=request.user)
    page = KeysFirstPaginator(tickets, settings.SUPPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "support/ticket_list.html"
    if request.htmx and not request.htmx.boosted:  # the pagination's links swap only the table
        template += "#ticket-table"
    return render(request, template, {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    initial = {"orders": request.GET.get("orders", "")[:200]}  # the order page's link
    posted = request.method == "POST"
    form = TicketForm(request.POST if posted else None, request.FILES if posted else None, initial=initial)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_open(
                user=request.user,
                subject=data["subject"],
                order_ids=data["orders"],
                body=data["body"],
                files=data["images"],
            )
        except SupportError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Ticket %(id)s opened: we will answer here.") % {"id": ticket.pk})
            return redirect(ticket)
    status = 422 if form.errors else 200
    return render(request, "support/ticket_new.html", {"form": form}, status=status)


def _thread_page(request, ticket, form, status=200):
    context = {
        "ticket": ticket,
        "thread": ticket_thread(ticket=ticket),
        "orders": ticket_orders(ticket=ticket),
        "form": form,
    }
    return render(request, "support/ticket_detail.html", context, status=status)


@login_required
@require_GET
def ticket_detail(request, ticket_id):
    ticket = ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    ticket_mark_read(ticket=ticket, by_staff=False)
    return _thread_page(request, ticket, ReplyForm())


@login_required
@require_POST
def reply(request, ticket_id):
    ticket = ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["images"],
                by_staff=False,
            )
        except SupportError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Your reply was sent."))
            return redirect(ticket)
    return _thread_page(request, ticket, form, status=422)


@login_required
@require_POST
def close(request, ticket_id):
    ticket = ticket_get_for_user(user=request.user, ticket_id=ticket_id)
    try:
        ticket_close(ticket=ticket, by=request.user, by_staff=False)
    except SupportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Ticket %(id)s closed.") % {"id": ticket.pk})
    return redirect(ticket)


@login_required
@require_GET
def attachment(request, attachment_id):
    """The image, for the ticket's customer and staff only (404 for anyone else), as the type Pillow read
    and never sniffed as anything else."""
    found = attachment_get_for(user=request.user, attachment_id=attachment_id)
    try:
        file = found.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type=found.content_type, filename=found.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
