import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from reseller.money import format_money, format_money_exact

from .forms import WalletCreditForm
from .models import FundsInstructions, LedgerEntry, Wallet
from .services import WalletError, wallet_credit


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    """Balances are read-only here: the only way to change one is the "Credit or debit" form, which goes
    through `wallet_credit` and writes a ledger row. Staff need the "change wallet" permission for it."""

    list_display = ["user", "balance_shown", "updated_at", "credit_link"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "balance_shown", "updated_at", "credit_link"]
    fields = readonly_fields

    @admin.display(description="balance", ordering="balance")
    def balance_shown(self, wallet):
        return format_money(wallet.balance)

    @admin.display(description="")
    def credit_link(self, wallet):
        if wallet.pk is None:
            return ""
        return format_html(
            '<a href="{}">Credit or debit</a>', reverse("admin:wallet_wallet_credit", args=[wallet.pk])
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:wallet_id>/credit/",
                self.admin_site.admin_view(self.credit_view),
                name="wallet_wallet_credit",
            ),
            *super().get_urls(),
        ]

    def credit_view(self, request, wallet_id):
        if not request.user.has_perm("wallet.change_wallet"):
            raise PermissionDenied
        wallet = Wallet.objects.select_related("user").filter(pk=wallet_id).first()
        if wallet is None:
            raise Http404("No such wallet.")
        form = WalletCreditForm(request.POST or None, initial={"request_token": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                entry = wallet_credit(
                    user=wallet.user,
                    amount=form.cleaned_data["amount"],
                    kind=form.cleaned_data["kind"] or None,
                    note=form.cleaned_data["note"],
                    created_by=request.user,
                    request_token=form.cleaned_data["request_token"],
                )
            except WalletError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    f"{entry.get_kind_display()} of {format_money_exact(entry.amount)} for {wallet.user}: "
                    f"the balance is now {format_money_exact(entry.balance_after)}.",
                    messages.SUCCESS,
                )
                return redirect("admin:wallet_wallet_change", wallet.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Credit or debit {wallet.user}",
            "wallet": wallet,
            "balance": format_money_exact(wallet.balance),  # staff credit or debit exact amounts
            "form": form,
        }
        return TemplateResponse(request, "admin/wallet/wallet/credit_form.html", context)


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
