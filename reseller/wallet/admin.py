from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from reseller.money import format_money, format_money_exact

from .models import FundsInstructions, LedgerEntry, Wallet


class OwesFilter(admin.SimpleListFilter):
    title = "owes money"
    parameter_name = "owes"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: ordering paused"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(owed__gt=0)
        if self.value() == "no":
            return queryset.filter(owed=0)
        return queryset


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    """Balances are read-only here: the only way to change one is the "Credit or debit" form (payments'
    admin: a manual deposit, or a debit as an adjustment), which writes a ledger row. Staff need the
    "change wallet" permission for it."""

    list_display = ["user", "balance_shown", "owed_shown", "updated_at", "credit_link"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "balance_shown", "owed_shown", "updated_at", "credit_link"]
    list_filter = [OwesFilter]
    fields = readonly_fields

    @admin.display(description="balance", ordering="balance")
    def balance_shown(self, wallet):
        return format_money(wallet.balance)

    @admin.display(description="owed (ordering paused)", ordering="owed")
    def owed_shown(self, wallet):
        return format_money(wallet.owed) if wallet.owed else "-"

    @admin.display(description="")
    def credit_link(self, wallet):
        if wallet.pk is None:
            return ""
        return format_html(
            '<a href="{}">Credit or debit</a>', reverse("admin:payments_deposit_credit", args=[wallet.pk])
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: rows can be read and searched here, never added, changed or deleted."""

    list_display = [
        "created_at",
        "user",
        "kind",
        "amount_shown",
        "balance_after_shown",
        "order_id",
        "note",
        "created_by",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["user__username", "=order__id", "note"]
    list_select_related = ["user", "created_by"]
    date_hierarchy = "created_at"

    # The ledger is audited here: exact amounts, so that a row of 0.004 does not look like nothing.
    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, entry):
        return format_money_exact(entry.amount)

    @admin.display(description="balance after")
    def balance_after_shown(self, entry):
        return format_money_exact(entry.balance_after)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FundsInstructions)
class FundsInstructionsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not FundsInstructions.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
