from django import forms
from django.contrib import admin, messages
from django.db.models import F
from unfold.admin import ModelAdmin

from reseller.money import format_money, format_rate

from . import upstream
from .models import Category, Provider, Service
from .services import (
    provider_refresh_balance,
    service_cannot_be_enabled,
    services_reprice,
    services_set_enabled,
)
from .sync import provider_sync_services

PRICING_FIELDS = {"exchange_rate", "markup_percent", "fixed_rate"}
UPSTREAM_FIELDS = [
    "provider",
    "upstream_id",
    "upstream_name",
    "type",
    "upstream_category",
    "upstream_description",
    "rate",
    "min_quantity",
    "max_quantity",
    "refill",
    "cancel",
    "dripfeed",
    "is_available",
    "raw",
    "created_at",
    "updated_at",
]


class ProviderForm(forms.ModelForm):
    api_url = forms.URLField(label="API URL", max_length=500, assume_scheme="https")
    api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: never shown back. Leave empty to keep the current key.",
    )

    class Meta:
        model = Provider
        fields = [
            "name",
            "api_url",
            "api_key",
            "currency",
            "exchange_rate",
            "markup_percent",
            "enable_new_services",
            "is_active",
        ]

    def clean_api_key(self):
        key = self.cleaned_data["api_key"]
        if not key and not self.instance.pk:
            raise forms.ValidationError("A new provider needs an API key.")
        return key or self.instance.api_key


@admin.register(Provider)
class ProviderAdmin(ModelAdmin):
    form = ProviderForm
    list_display = [
        "name",
        "api_url",
        "currency",
        "exchange_rate",
        "markup_percent",
        "is_active",
        "balance_shown",
        "last_sync_at",
        "last_sync_ok",
    ]
    list_filter = ["is_active", "currency"]
    search_fields = ["name", "api_url"]
    readonly_fields = ["balance", "balance_checked_at", "last_sync_at", "last_sync_ok", "last_sync_message"]
    actions = ["test_connection", "sync_now"]

    @admin.display(description="last known balance", ordering="balance")
    def balance_shown(self, provider):
        return "-" if provider.balance is None else format_money(provider.balance, provider.currency)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and PRICING_FIELDS & set(form.changed_data):
            count = services_reprice(services=Service.objects.filter(provider=obj))
            self.message_user(request, f"{count} service price(s) updated.")

    @admin.action(description="Test connection (shows the balance)", permissions=["change"])
    def test_connection(self, request, queryset):
        for provider in queryset:
            try:
                balance = provider_refresh_balance(provider=provider)
            except upstream.UpstreamError as exc:
                self.message_user(request, f"{provider.name}: {type(exc).__name__}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{provider.name}: connected, balance {format_money(balance.amount, balance.currency)}",
                )

    @admin.action(description="Sync services now", permissions=["change"])
    def sync_now(self, request, queryset):
        for provider in queryset:
            try:
                result = provider_sync_services(provider=provider)
            except upstream.UpstreamError as exc:
                self.message_user(request, f"{provider.name}: sync failed: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{provider.name}: {result}")


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "sort_order", "markup_percent", "fixed_rate"]
    list_editable = ["sort_order"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and PRICING_FIELDS & set(form.changed_data):
            count = services_reprice(services=Service.objects.filter(category=obj))
            self.message_user(request, f"{count} service price(s) updated.")


class ServiceForm(forms.ModelForm):
    def clean_is_enabled(self):
        enabled = self.cleaned_data["is_enabled"]
        problem = service_cannot_be_enabled(service=self.instance) if enabled else None
        if problem:
            raise forms.ValidationError(f"This service cannot be enabled: {problem}.")
        return enabled


@admin.register(Service)
class ServiceAdmin(ModelAdmin):
    form = ServiceForm
    list_display = [
        "id",
        "display_name",
        "provider",
        "category",
        "type",
        "cost_rate_display",
        "price_rate_display",
        "margin_display",
        "min_quantity",
        "max_quantity",
        "is_enabled",
        "is_available",
    ]
    list_display_links = ["id", "display_name"]
    list_filter = [
        "is_enabled",
        "is_available",
        "provider",
        "type",
        "category",
        "refill",
        "cancel",
        "dripfeed",
    ]
    search_fields = ["=id", "name", "upstream_name", "upstream_id", "category__name"]
    list_select_related = ["provider", "category"]
    list_per_page = 100
    actions = ["enable", "disable"]
    readonly_fields = [
        *UPSTREAM_FIELDS,
        "cost_rate",
        "price_rate",
        "margin_display",
        "completion_seconds",
        "completion_sample",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "description",
                    "category",
                    "sort_order",
                    "is_enabled",
                    "refill_days",
                    "dripfeed_enabled",
                ]
            },
        ),
        (
            "Pricing",
            {"fields": ["markup_percent", "fixed_rate", "cost_rate", "price_rate", "margin_display"]},
        ),
        (
            "Upstream (refreshed by every sync)",
            {"fields": UPSTREAM_FIELDS},
        ),
        (
            "Measured from our completed orders (hourly)",
            {"fields": ["completion_seconds", "completion_sample"]},
        ),
    ]

    def has_add_permission(self, request):
        return False  # services come from a provider's sync

    @admin.display(description="cost per 1000", ordering="cost_rate")
    def cost_rate_display(self, obj):
        return format_rate(obj.cost_rate)

    @admin.display(description="price per 1000", ordering="price_rate")
    def price_rate_display(self, obj):
        return format_rate(obj.price_rate)

    @admin.display(description="margin", ordering=F("price_rate") - F("cost_rate"))
    def margin_display(self, obj):
        if not obj.cost_rate:
            return format_rate(obj.margin)
        return f"{format_rate(obj.margin)} ({obj.margin / obj.cost_rate:.0%})"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if PRICING_FIELDS & set(form.changed_data):
            services_reprice(services=Service.objects.filter(pk=obj.pk))

    @admin.action(description="Enable selected services", permissions=["change"])
    def enable(self, request, queryset):
        count, refused = services_set_enabled(services=queryset, enabled=True)
        self.message_user(request, f"{count} service(s) enabled.")
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Disable selected services", permissions=["change"])
    def disable(self, request, queryset):
        count, _ = services_set_enabled(services=queryset, enabled=False)
        self.message_user(request, f"{count} service(s) disabled.")
