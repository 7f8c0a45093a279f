import time

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from unfold.admin import ModelAdmin

from reseller.csv_export import CsvExportMixin
from reseller.money import format_money, format_money_exact

from .models import FundsInstructions, LedgerEntry, Wallet
from .selectors import ledger_check


def _change_url(model: str, pk: int) -> str:
    return reverse(f"admin:{model}_change", args=[pk])


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
class WalletAdmin(ModelAdmin):
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
class LedgerEntryAdmin(CsvExportMixin, ModelAdmin):
    """The ledger is append-only: rows can be read and searched here, never added, changed or deleted;
    exported as CSV, and checked (the same check as `manage.py check_ledger`)."""

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

    csv_columns = [
        ("id", "id"),
        ("created", "created_at"),
        ("customer", "user.username"),
        ("kind", "get_kind_display"),
        ("amount", "amount"),
        ("balance after", "balance_after"),
        ("order", "order_id"),
        ("deposit", "deposit_id"),
        ("note", "note"),
        ("by", "created_by.username"),
    ]
    csv_select_related = ["user", "created_by"]

    # The ledger is audited here: exact amounts, so that a row of 0.004 does not look like nothing.
    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, entry):
        return format_money_exact(entry.amount)

    @admin.display(description="balance after")
    def balance_after_shown(self, entry):
        return format_money_exact(entry.balance_after)

    def get_urls(self):
        view = self.admin_site.admin_view(self.ledger_check_view)
        return [path("check/", view, name="wallet_ledgerentry_check"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and self.has_view_permission(request):
            button = {
                "title": "Check the ledger",
                "icon": "fact_check",
                "path": reverse("admin:wallet_ledgerentry_check"),
            }
            context["actions_list"] = [button, *(context.get("actions_list") or [])]
        return response

    def ledger_check_view(self, request):
        """`manage.py check_ledger` from admin: every balance against its ledger, refunds against charges,
        the chain of balances, deposit rows against their deposits. It reads the whole ledger, once per
        visit; staff who may view ledger entries."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        started = time.monotonic()
        report = ledger_check()
        seconds = time.monotonic() - started
        wallets = reverse("admin:wallet_wallet_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Ledger check",
            "report": report,
            "checked_at": timezone.localtime(),
            "seconds": f"{seconds:.2f}",
            "balances": [
                (
                    username,
                    f"{wallets}?{urlencode({'q': username})}",
                    format_money_exact(balance),
                    format_money_exact(total),
                )
                for username, balance, total in report.mismatched_balances
            ],
            "over_refunded": [
                (
                    pk,
                    _change_url("orders_order", pk),
                    format_money_exact(charged),
                    format_money_exact(refunded),
                )
                for pk, charged, refunded in report.over_refunded_orders
            ],
            "misdirected": [(pk, _change_url("orders_order", pk)) for pk in report.misdirected_orders],
            "broken": [(pk, _change_url("wallet_ledgerentry", pk)) for pk in report.broken_chain_entries],
            "deposit_rows": [
                (pk, _change_url("wallet_ledgerentry", pk)) for pk in report.mismatched_deposit_entries
            ],
        }
        return TemplateResponse(request, "admin/wallet/ledger_check.html", context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FundsInstructions)
class FundsInstructionsAdmin(ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not FundsInstructions.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
