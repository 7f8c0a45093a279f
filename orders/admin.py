import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from catalog.service_types import ALL_FIELDS, Kind
from reseller.money import format_money

from .errors import OrderError
from .fields import FIELD_NAMES, HINTS, label
from .models import MassOrder, Order, OrderEvent, Refill, RefillEvent, Status
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


class HistoryInline(admin.TabularInline):
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

    # One per form shown: Back then Place again, or a double click, returns the first order.
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_token"].initial = uuid.uuid4().hex
        for field in ALL_FIELDS:
            widget = forms.Textarea(attrs={"rows": 3}) if field.kind is Kind.LINES else forms.TextInput
            self.fields[field.name] = forms.CharField(
                label=label(field.name), required=False, widget=widget, help_text=HINTS.get(field.name, "")
            )


class FailForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Shown to the customer.", initial=COULD_NOT_BE_PLACED)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "user",
        "service",
        "provider",
        "status",
        "quantity",
        "charge_display",
        "refund_display",
        "cost_display",
        "profit_display",
        "upstream_id",
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
                    "last_checked_at",
                    "created_at",
                    "finished_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False  # orders are placed by customers (or the API), charged through the wallet

    def has_delete_permission(self, request, obj=None):
        return False

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
        """Places an order for a customer, charged to their balance, through the one placement service."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = PlaceForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            typed = {name: form.cleaned_data[name] for name in FIELD_NAMES}
            try:
                order = order_place(
                    user=form.cleaned_data["customer"],
                    service=form.cleaned_data["service"],
                    client_token=form.cleaned_data["client_token"],
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
        }
        return render(request, "admin/orders/order/place_form.html", context)

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
class RefillAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "order",
        "user",
        "provider",
        "status",
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
class MassOrderAdmin(admin.ModelAdmin):
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
