from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from reseller.money import format_money

from .models import ApiKey, User

# Groups in the admin's own look (unfold); Django registered them with the stock one.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
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
class ApiKeyAdmin(ModelAdmin):
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
