from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from catalog.service_types import ALL_FIELDS, Kind
from reseller.admin_display import BAD, BUSY, GOOD, WAITING, admin_look, badges, short_time
from reseller.csv_export import CsvExportMixin
from reseller.money import format_money
from reseller.once import MAX_LENGTH, REFUSED, fresh_url, no_store, once_read, once_redirect

from .errors import OrderError
from .fields import FIELD_NAMES, HINTS, label
from .models import MassOrder, Order, OrderCheck, OrderEvent, Refill, RefillEvent, RefillStatus, Status
from .operators import (
    COULD_NOT_BE_PLACED,
    COULD_NOT_BE_PLACED_REFUNDED,
    order_fail_and_refund,
    order_resubmit,
    order_set_upstream_id,
    refill_mark_rejected,
    refill_set_upstream_id,
)
from .placement import order_place
from .polling import orders_poll
from .refills import refills_poll
from .selectors import sellable_services

ORDER_BADGES = badges(
    Status,
    needs_review=BAD, failed=BAD, canceled=BAD, partial=WAITING, expired=WAITING, paused=WAITING,
    pending=BUSY, in_progress=BUSY, processing=BUSY, active=BUSY, completed=GOOD,
)  # fmt: skip
REFILL_BADGES = badges(
    RefillStatus,
    needs_review=BAD, failed=BAD, rejected=BAD, pending=BUSY, in_progress=BUSY, completed=GOOD,
)  # fmt: skip


class HistoryInline(TabularInline):
    """A row's history, read-only: written only by orders/moves.py."""

    extra = 0
    can_delete = False
    fields = ["created_at", "old_status", "new_status", "source", "note", "created_by"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(HistoryInline):
    model = OrderEvent


class RefillEventInline(HistoryInline):
    model = RefillEvent


class UpstreamIdForm(forms.Form):
    upstream_id = forms.CharField(label="Provider's order id", max_length=64)


class PlaceForm(forms.Form):
    """An order placed by staff for a customer: the same fields and checks as the order form and our API
    (orders/placement.py); only the fields of the service's type are read."""

    customer = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        widget=forms.TextInput,
        help_text="The customer's id; they are charged.",
    )
    service = forms.ModelChoiceField(
        queryset=sellable_services(), widget=forms.TextInput, help_text="The service's id."
    )

    # The page's one-time token (reseller/once.py), from its address: placed once, however often submitted.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in ALL_FIELDS:
            widget = forms.Textarea(attrs={"rows": 3}) if field.kind is Kind.LINES else forms.TextInput
            self.fields[field.name] = forms.CharField(
                label=label(field.name), required=False, widget=widget, help_text=HINTS.get(field.name, "")
            )


class FailForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Shown to the customer.", initial=COULD_NOT_BE_PLACED)


PLACE_FORM = "orders.staff_place"  # the place form's one-time tokens (reseller/once.py)


def staff_order_saved(key: str) -> Order | None:
    """The order a place form's token placed, if it was saved. By the token alone (not with the customer):
    Back, then another customer typed in, is still the same form."""
    return Order.objects.select_related("user").filter(client_token=key).first()


@admin.register(Order)
class OrderAdmin(CsvExportMixin, ModelAdmin):
    # Readable at 1280 px beside the sidebar: short dates and names, the status as a badge, money formatted.
    list_display = [
        "id",
        "created",
        "user",
        "service_name",
        "upstream",
        "status_badge",
        "quantity",
        "charge_display",
        "refund_display",
        "cost_display",
        "profit_display",
    ]
    list_filter = [
        "status",
        "service_type",
        "provider",
        ("user", admin.RelatedOnlyFieldListFilter),
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["=id", "public_id", "link", "=upstream_id", "user__username", "user__email"]
    list_select_related = ["user", "service", "provider"]
    list_per_page = 50
    inlines = [OrderEventInline]
    actions = ["poll_now", "resubmit", "fail_and_refund"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "user",
                    "service",
                    "service_type",
                    "provider",
                    "link",
                    "quantity",
                    "comments",
                    "upstream_fields",
                    "runs",
                    "interval",
                    "mass_order",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    "rate",
                    "cost_rate",
                    "charge",
                    "cost",
                    "refund",
                    "upstream_charge",
                    "profit_display",
                ]
            },
        ),
        (
            "Status",
            {
                "fields": [
                    "status",
                    "error",
                    "review_reason",
                    "upstream_id",
                    "start_count",
                    "remains",
                    "runs_done",
                    "posts_done",
                    "child_orders",
                    "poll_error",
                    "submit_attempts",
                    "submitted_at",
                    "next_check_at",
                    "checks_due_at",
                    "last_checked_at",
                    "created_at",
                    "finished_at",
                ]
            },
        ),
    ]

    csv_columns = [
        ("id", "id"),
        ("public id", "public_id"),
        ("created", "created_at"),
        ("customer", "user.username"),
        ("service", "service"),
        ("provider", "provider.name"),
        ("type", "service_type"),
        ("link", "link"),
        ("quantity", "quantity"),
        ("status", "get_status_display"),
        ("charge", "charge"),
        ("refund", "refund"),
        ("cost", "actual_cost"),
        ("profit", "profit"),
        ("upstream id", "upstream_id"),
        ("finished", "finished_at"),
    ]
    csv_select_related = ["user", "service", "provider"]

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False  # orders are placed by customers (or the API), charged through the wallet

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return short_time(obj.created_at)

    @admin.display(description="service", ordering="service")
    def service_name(self, obj):
        return Truncator(obj.service.display_name).chars(40)

    @admin.display(description="upstream")
    def upstream(self, obj):
        """The provider and its order id, on two lines."""
        return format_html("{}<br><small>{}</small>", obj.provider, obj.upstream_id or "-")

    @display(description="status", ordering="status", label=ORDER_BADGES)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @admin.display(description="next status check")
    def checks_due_at(self, obj):
        """A followed order's next status check (OrderCheck); `next_check_at` is a queued one's retry."""
        if (checks := self._checks(obj)) is None:
            return "-"
        return short_time(checks.next_check_at) if checks.next_check_at else "now"

    @admin.display(description="last status check")
    def last_checked_at(self, obj):
        checks = self._checks(obj)
        return short_time(checks.last_checked_at if checks else None)

    def _checks(self, obj):
        """The order's checks, read once for the page's two fields (None: not followed)."""
        if not hasattr(obj, "_admin_checks"):
            obj._admin_checks = OrderCheck.objects.filter(order=obj).first()
        return obj._admin_checks

    @admin.display(description="charge", ordering="charge")
    def charge_display(self, obj):
        return format_money(obj.charge)

    @admin.display(description="refund", ordering="refund")
    def refund_display(self, obj):
        return format_money(obj.refund)

    @admin.display(description="cost")
    def cost_display(self, obj):
        return format_money(obj.actual_cost)

    @admin.display(description="profit")
    def profit_display(self, obj):
        return format_money(obj.profit)

    # Actions on many orders -------------------------------------------------------------------------------

    @admin.action(description="Poll now", permissions=["change"])
    def poll_now(self, request, queryset):
        result = orders_poll(order_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Polled: {result}.")

    @admin.action(
        description="Resubmit (only orders that need review and are not upstream)", permissions=["change"]
    )
    def resubmit(self, request, queryset):
        self._each(
            request, queryset, lambda order: order_resubmit(order=order, by=request.user), "resubmitted"
        )

    @admin.action(description="Fail and refund (orders never placed upstream)", permissions=["change"])
    def fail_and_refund(self, request, queryset):
        reason = COULD_NOT_BE_PLACED_REFUNDED
        self._each(
            request,
            queryset.select_related("user"),
            lambda order: order_fail_and_refund(order=order, reason=reason, by=request.user),
            "failed and refunded",
        )

    def _each(self, request, queryset, act, done):
        count = 0
        for order in queryset:
            try:
                act(order)
            except OrderError as exc:
                self.message_user(request, f"Order {order.pk}: {exc.message}", messages.WARNING)
            else:
                count += 1
        self.message_user(request, f"{count} order(s) {done}.")

    # Forms on one order -----------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/upstream-id/",
                self.admin_site.admin_view(self.upstream_id_view),
                name="orders_order_upstream_id",
            ),
            path("<int:pk>/fail/", self.admin_site.admin_view(self.fail_view), name="orders_order_fail"),
            path("place/", self.admin_site.admin_view(self.place_view), name="orders_order_place"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "review_statuses": [Status.NEEDS_REVIEW]}
        return super().change_view(request, object_id, form_url, extra_context)

    def place_view(self, request):
        """Places an order for a customer, charged to their balance, through the one placement service.
        The form's one-time token is in its address (reseller/once.py): Back, reload or a second Save
        never place it again, they show the order it placed."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        once = once_read(request, form=PLACE_FORM, field="client_token")
        if request.method != "POST" and not once.valid:
            return once_redirect(request, form=PLACE_FORM)
        saved = staff_order_saved(once.key) if once.valid else None
        posted = request.method == "POST" and saved is None
        form = admin_look(PlaceForm(request.POST if posted else None, initial={"client_token": once.token}))
        if posted and not once.valid:
            form.add_error(None, REFUSED)
        elif posted and form.is_valid():
            typed = {name: form.cleaned_data[name] for name in FIELD_NAMES}
            try:
                order = order_place(
                    user=form.cleaned_data["customer"],
                    service=form.cleaned_data["service"],
                    client_token=once.key,
                    **typed,
                )
            except OrderError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Order {order.pk} placed for {order.user}.")
                return redirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Place an order for a customer",
            "form": form,
            "opts": self.model._meta,
            "fresh_url": fresh_url(request),
            "refused": posted and not once.valid,
        }
        if saved is not None:
            context["saved"] = {
                "text": f"Order {saved.pk} for {saved.user}, charged {format_money(saved.charge)}",
                "url": reverse("admin:orders_order_change", args=[saved.pk]),
            }
        return no_store(render(request, "admin/orders/order/place_form.html", context))

    def upstream_id_view(self, request, pk):
        return self._order_form(
            request,
            pk,
            UpstreamIdForm,
            "Set the provider's order id",
            lambda order, data: order_set_upstream_id(
                order=order, upstream_id=data["upstream_id"], by=request.user
            ),
        )

    def fail_view(self, request, pk):
        return self._order_form(
            request,
            pk,
            FailForm,
            "Fail the order and refund it",
            lambda order, data: order_fail_and_refund(order=order, reason=data["reason"], by=request.user),
        )

    def _order_form(self, request, pk, form_class, title, act):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        order = get_object_or_404(Order.objects.select_related("user"), pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                act(order, form.cleaned_data)
            except OrderError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Order {order.pk}: done.")
                return redirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "order": order,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/order/action_form.html", context)


@admin.register(Refill)
class RefillAdmin(ModelAdmin):
    list_display = [
        "id",
        "created",
        "order",
        "user",
        "provider",
        "status_badge",
        "upstream_id",
        "error",
        "poll_error",
    ]
    list_filter = ["status", ("order__provider", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["=id", "=order__id", "=upstream_id", "user__username", "order__link"]
    list_select_related = ["order__provider", "user"]
    readonly_fields = [field.name for field in Refill._meta.fields]
    inlines = [RefillEventInline]
    actions = ["poll_now", "mark_rejected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="provider")
    def provider(self, obj):
        return obj.order.provider

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return short_time(obj.created_at)

    @display(description="status", ordering="status", label=REFILL_BADGES)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    def get_urls(self):
        view = self.admin_site.admin_view(self.upstream_id_view)
        return [path("<int:pk>/upstream-id/", view, name="orders_refill_upstream_id"), *super().get_urls()]

    def upstream_id_view(self, request, pk):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        refill = get_object_or_404(Refill, pk=pk)
        form = UpstreamIdForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refill_set_upstream_id(
                    refill=refill, upstream_id=form.cleaned_data["upstream_id"], by=request.user
                )
            except OrderError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Refill {refill.pk}: polling will follow it.")
                return redirect(reverse("admin:orders_refill_change", args=[refill.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Set the provider's refill id",
            "order": refill.order,
            "refill": refill,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/orders/order/action_form.html", context)

    @admin.action(description="Poll now", permissions=["change"])
    def poll_now(self, request, queryset):
        result = refills_poll(refill_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Polled: {result}.")

    @admin.action(description="Mark rejected", permissions=["change"])
    def mark_rejected(self, request, queryset):
        count = sum(refill_mark_rejected(refill=refill, by=request.user) for refill in queryset)
        self.message_user(request, f"{count} refill(s) marked rejected.")


@admin.register(MassOrder)
class MassOrderAdmin(ModelAdmin):
    list_display = ["id", "created_at", "user", "total", "order_count"]
    search_fields = ["=id", "public_id", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["public_id", "user", "total", "lines", "created_at"]
    exclude = ["client_token"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="orders")
    def order_count(self, obj):
        return sum(1 for line in obj.lines if line.get("order"))
