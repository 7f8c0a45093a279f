"""Payments in admin: deposits (read-only, with the raw notifications and the status history), the queue
of bank transfers that matched nobody (assigned to a customer once), the operator's method settings, bonus
tiers and exchange rates, and the staff credit form (a manual deposit, or a debit as an adjustment)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from reseller.admin_display import BAD, BUSY, GOOD, WAITING, ReadOnly, admin_look, badges, short_time
from reseller.csv_export import CsvExportMixin
from reseller.money import format_money, format_money_exact
from reseller.once import REFUSED, fresh_url, no_store, once_read, once_redirect
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.services import WalletError

from .bank import bank_transfer_credit, bank_transfer_ignore, bank_transfer_restore
from .forms import StaffCreditForm
from .manual import staff_credit
from .models import (
    BankTransfer,
    BonusTier,
    Deposit,
    DepositHistory,
    DepositStatus,
    ExchangeRate,
    Method,
    Notification,
    PaymentMethod,
)

DEPOSIT_BADGES = badges(
    DepositStatus, paid=GOOD, pending=BUSY, expired=WAITING, canceled=WAITING, refunded=BAD, disputed=BAD
)
TRANSFER_BADGES = badges(BankTransfer.Status, credited=GOOD, waiting=BAD)


class NotificationInline(ReadOnly, TabularInline):
    model = Notification
    fields = ["received_at", "event_type", "event_id", "outcome", "payload"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "raw notifications received"


class HistoryInline(ReadOnly, TabularInline):
    model = DepositHistory
    fields = ["created_at", "from_status", "to_status", "reason"]
    readonly_fields = fields
    extra = 0


CREDIT_FORM = "payments.staff_credit"  # the credit form's one-time tokens (reseller/once.py)


def staff_credit_saved(key: str) -> LedgerEntry | None:
    """The ledger row a credit form's token wrote, if it was saved: a debit or adjustment keeps the key as
    its request token, a manual deposit as its gateway id."""
    made = Q(request_token=key) | Q(
        kind=LedgerEntry.Kind.DEPOSIT, deposit__method=Method.MANUAL, deposit__gateway_id=key
    )
    return LedgerEntry.objects.select_related("user").filter(made).first()


@admin.register(Deposit)
class DepositAdmin(CsvExportMixin, ReadOnly, ModelAdmin):
    list_display = ["id", "created", "user", "method", "status_badge", "paid", "total_shown", "gateway_id"]
    list_filter = ["method", "status", "created_at"]
    search_fields = [
        "user__username",
        "user__email",
        "=gateway_id",
        "=gateway_txn_id",
        "=order_code",
        "=public_id",
    ]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    inlines = [HistoryInline, NotificationInline]
    readonly_fields = [
        "public_id", "user", "method", "status", "currency", "amount", "amount_paid", "rate", "fee",
        "credited", "bonus", "reversed", "gateway_refunded", "gateway_disputed", "gateway_id",
        "gateway_txn_id", "order_code", "checkout_url", "note", "created_by", "created_at", "paid_at",
    ]  # fmt: skip

    csv_columns = [
        ("id", "id"),
        ("created", "created_at"),
        ("customer", "user.username"),
        ("method", "get_method_display"),
        ("status", "get_status_display"),
        ("amount", "amount"),
        ("currency", "currency"),
        ("fee", "fee"),
        ("credited", "credited"),
        ("bonus", "bonus"),
        ("reversed", "reversed"),
        ("gateway id", "gateway_id"),
        ("gateway payment id", "gateway_txn_id"),
        ("payOS order code", "order_code"),
        ("paid at", "paid_at"),
    ]
    csv_select_related = ["user"]

    @admin.display(description="created", ordering="created_at")
    def created(self, deposit):
        return short_time(deposit.created_at)

    @display(description="status", ordering="status", label=DEPOSIT_BADGES)
    def status_badge(self, deposit):
        return deposit.status, deposit.get_status_display()

    @admin.display(description="paid", ordering="amount")
    def paid(self, deposit):
        return format_money(deposit.amount, deposit.currency)

    @admin.display(description="credited + bonus")
    def total_shown(self, deposit):
        return format_money_exact(deposit.total) if deposit.paid_at else "-"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("payments.view_deposit")

    def get_urls(self):
        return [
            path(
                "credit/<int:wallet_id>/",
                self.admin_site.admin_view(self.credit_view),
                name="payments_deposit_credit",
            ),
            *super().get_urls(),
        ]

    def credit_view(self, request, wallet_id):
        """Credit (a manual deposit) or debit (an adjustment) a customer; needs "change wallet". Each form
        has a one-time token in its address (reseller/once.py): Back, reload or a second Save never move
        the money again, they show what the form saved."""
        if not request.user.has_perm("wallet.change_wallet"):
            raise PermissionDenied
        wallet = Wallet.objects.select_related("user").filter(pk=wallet_id).first()
        if wallet is None:
            raise Http404("No such wallet.")
        form_name = f"{CREDIT_FORM}.{wallet.pk}"  # a token of one wallet's form is refused on another's
        once = once_read(request, form=form_name, field="request_token")
        if request.method != "POST" and not once.valid:
            return once_redirect(request, form=form_name)
        saved = staff_credit_saved(once.key) if once.valid else None
        posted = request.method == "POST" and saved is None
        form = admin_look(
            StaffCreditForm(request.POST if posted else None, initial={"request_token": once.token})
        )
        if posted and not once.valid:
            form.add_error(None, REFUSED)
        elif posted and form.is_valid():
            try:
                entry = staff_credit(
                    user=wallet.user,
                    amount=form.cleaned_data["amount"],
                    kind=form.cleaned_data["kind"] or None,
                    note=form.cleaned_data["note"],
                    created_by=request.user,
                    request_token=once.key,
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
            "opts": Wallet._meta,
            "title": f"Credit or debit {wallet.user}",
            "wallet": wallet,
            "balance": format_money_exact(wallet.balance),  # staff credit or debit exact amounts
            "form": form,
            "fresh_url": fresh_url(request),
            "refused": posted and not once.valid,
        }
        if saved is not None:
            context["saved"] = {
                "text": f"{saved.get_kind_display()} of {format_money_exact(saved.amount)} for {saved.user}",
                "url": reverse("admin:payments_deposit_change", args=[saved.deposit_id])
                if saved.deposit_id
                else reverse("admin:wallet_ledgerentry_change", args=[saved.pk]),
            }
        return no_store(TemplateResponse(request, "admin/payments/credit_form.html", context))


class AssignForm(forms.Form):
    customer = forms.CharField(help_text="The customer's username, email or id (the memo code's number).")

    def clean_customer(self):
        given = self.cleaned_data["customer"].strip()
        users = get_user_model().objects.filter(is_active=True)
        user = (
            (users.filter(pk=int(given)).first() if given.isdigit() else None)
            or users.filter(username__iexact=given).first()
            or users.filter(email__iexact=given).first()
        )
        if user is None:
            raise forms.ValidationError("No active customer with this username, email or id.")
        return user


@admin.register(BankTransfer)
class BankTransferAdmin(ReadOnly, ModelAdmin):
    """The transfers SePay told of. Those whose memo matched nobody wait here for an operator."""

    list_display = [
        "sepay_id", "received", "amount_shown", "content", "status_badge", "customer", "assign_link"
    ]  # fmt: skip
    list_filter = ["status", "received_at"]
    search_fields = ["=sepay_id", "content", "reference_code", "deposit__user__username"]
    list_select_related = ["deposit__user"]
    readonly_fields = [
        "sepay_id", "amount", "content", "account_number", "reference_code", "transaction_date", "status",
        "deposit", "assigned_by", "received_at", "payload",
    ]  # fmt: skip
    actions = ["ignore", "restore"]

    @admin.display(description="received", ordering="received_at")
    def received(self, transfer):
        return short_time(transfer.received_at)

    @display(description="status", ordering="status", label=TRANSFER_BADGES)
    def status_badge(self, transfer):
        return transfer.status, transfer.get_status_display()

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, transfer):
        return format_money(transfer.amount, "VND")

    @admin.display(description="customer")
    def customer(self, transfer):
        return transfer.deposit.user if transfer.deposit else "-"

    @admin.display(description="")
    def assign_link(self, transfer):
        if transfer.status != BankTransfer.Status.WAITING:
            return ""
        url = reverse("admin:payments_banktransfer_assign", args=[transfer.pk])
        return format_html('<a class="button" href="{}">Assign to a customer</a>', url)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("payments.change_banktransfer")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("payments.view_banktransfer")

    @admin.action(description="Set aside (not a customer's payment)", permissions=["change"])
    def ignore(self, request, queryset):
        done = sum(bank_transfer_ignore(transfer=transfer) for transfer in queryset)
        self.message_user(request, f"{done} transfer(s) set aside.", messages.SUCCESS)

    @admin.action(description="Put back in the queue (set aside by mistake)", permissions=["change"])
    def restore(self, request, queryset):
        done = sum(bank_transfer_restore(transfer=transfer) for transfer in queryset)
        self.message_user(request, f"{done} transfer(s) back in the queue.", messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<int:transfer_id>/assign/",
                self.admin_site.admin_view(self.assign_view),
                name="payments_banktransfer_assign",
            ),
            *super().get_urls(),
        ]

    def assign_view(self, request, transfer_id):
        if not request.user.has_perm("payments.change_banktransfer"):
            raise PermissionDenied
        transfer = BankTransfer.objects.filter(pk=transfer_id).first()
        if transfer is None:
            raise Http404("No such transfer.")
        form = AssignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = form.cleaned_data["customer"]
            deposit = bank_transfer_credit(transfer=transfer, user=user, assigned_by=request.user)
            if deposit is None:
                self.message_user(
                    request, "This transfer was credited or set aside already.", messages.WARNING
                )
            else:
                self.message_user(
                    request,
                    f"Transfer {transfer.sepay_id} credited to {user}: {format_money_exact(deposit.total)}.",
                    messages.SUCCESS,
                )
            return redirect("admin:payments_banktransfer_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Assign transfer {transfer.sepay_id}",
            "transfer": transfer,
            "amount": format_money(transfer.amount, "VND"),
            "form": form,
        }
        return TemplateResponse(request, "admin/payments/assign_form.html", context)


@admin.register(Notification)
class NotificationAdmin(ReadOnly, ModelAdmin):
    list_display = ["received_at", "method", "event_type", "outcome", "deposit"]
    list_filter = ["method", "outcome", "received_at"]
    search_fields = ["=event_id", "=deposit__id"]
    readonly_fields = ["method", "deposit", "event_id", "event_type", "outcome", "received_at", "payload"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("payments.view_notification")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ModelAdmin):
    list_display = [
        "method",
        "display_name",
        "enabled",
        "min_amount",
        "max_amount",
        "fee_percent",
        "fee_fixed",
        "position",
    ]
    list_editable = ["enabled", "position"]


@admin.register(BonusTier)
class BonusTierAdmin(ModelAdmin):
    list_display = ["min_amount", "percent"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ModelAdmin):
    list_display = ["currency", "rate", "updated_at"]
