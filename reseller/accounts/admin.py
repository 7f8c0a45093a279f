from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.urls import reverse
from django.utils.html import format_html

from reseller.money import format_money

from .models import ApiKey, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [*BaseUserAdmin.list_display, "balance", "discount_percent"]
    list_select_related = ["wallet"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Customer", {"fields": ["discount_percent", "balance"]}),
        ("Preferences", {"fields": ["language", "time_zone", "email_notifications"]}),
    ]
    readonly_fields = ["balance"]

    @admin.display(description="balance", ordering="wallet__balance")
    def balance(self, user):
        wallet = getattr(user, "wallet", None)
        if wallet is None:
            return "-"
        return format_html(
            '{} <a href="{}">Credit or debit</a>',
            format_money(wallet.balance),
            reverse("admin:payments_deposit_credit", args=[wallet.pk]),
        )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys can be looked at and revoked (deleted); only their owner (or `create_api_key`) makes one."""

    list_display = ["prefix", "user", "created_at", "last_used_at"]
    search_fields = ["user__username", "prefix"]
    list_select_related = ["user"]
    fields = ["user", "prefix", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
