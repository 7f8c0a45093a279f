"""Affiliates in admin: each customer's code (the percent override editable), referrals and commissions
(read-only: written when a customer signs up and when an order finishes), and payouts, approved or rejected
by staff when AFFILIATE_PAYOUT_APPROVAL is on (through affiliates/payouts.py, once)."""

from django.contrib import admin, messages
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from reseller.admin_display import BAD, GOOD, WAITING, ReadOnly, badges, short_time
from reseller.money import format_money, format_money_exact

from .models import Affiliate, Commission, Payout, PayoutEvent, PayoutStatus, Referral
from .payouts import payout_approve, payout_reject
from .selectors import affiliates_with_stats

PAYOUT_BADGES = badges(PayoutStatus, paid=GOOD, requested=WAITING, rejected=BAD)


@admin.register(Affiliate)
class AffiliateAdmin(ModelAdmin):
    list_display = ["user", "code", "commission_percent", "visits", "sign_ups", "earned", "created"]
    list_editable = ["commission_percent"]
    search_fields = ["user__username", "user__email", "=code"]
    list_select_related = ["user"]
    fields = ["user", "code", "commission_percent", "visits", "created_at"]
    readonly_fields = ["user", "code", "visits", "created_at"]

    def get_queryset(self, request):
        return affiliates_with_stats(super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        # Only the override: a full save would write back a visit count read when the form opened.
        obj.save(update_fields=["commission_percent"])

    @admin.display(description="sign-ups", ordering="sign_ups")
    def sign_ups(self, affiliate):
        return affiliate.sign_ups

    @admin.display(description="earned", ordering="earned")
    def earned(self, affiliate):
        return format_money(affiliate.earned)

    @admin.display(description="created", ordering="created_at")
    def created(self, affiliate):
        return short_time(affiliate.created_at)

    def has_add_permission(self, request, obj=None):
        return False  # made when a customer first needs one

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnly, ModelAdmin):
    list_display = ["referred", "affiliate", "created"]
    search_fields = ["referred__username", "referred__email", "affiliate__user__username", "=affiliate__code"]
    list_select_related = ["referred", "affiliate__user"]
    readonly_fields = ["affiliate", "referred", "created_at"]

    @admin.display(description="created", ordering="created_at")
    def created(self, referral):
        return short_time(referral.created_at)


@admin.register(Commission)
class CommissionAdmin(ReadOnly, ModelAdmin):
    list_display = [
        "order_id",
        "created",
        "affiliate",
        "referred",
        "base_shown",
        "percent",
        "amount_shown",
        "payout",
    ]
    list_filter = ["created_at", ("payout", admin.EmptyFieldListFilter), "payout__status"]
    search_fields = ["=order__id", "affiliate__user__username", "referred__username"]
    list_select_related = ["affiliate__user", "referred", "payout"]
    date_hierarchy = "created_at"
    readonly_fields = ["affiliate", "order", "referred", "base", "percent", "amount", "payout", "created_at"]

    @admin.display(description="created", ordering="created_at")
    def created(self, commission):
        return short_time(commission.created_at)

    @admin.display(description="net charge", ordering="base")
    def base_shown(self, commission):
        return format_money_exact(commission.base)

    @admin.display(description="commission", ordering="amount")
    def amount_shown(self, commission):
        return format_money_exact(commission.amount)


class PayoutEventInline(ReadOnly, TabularInline):
    model = PayoutEvent
    fields = ["created_at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "history"


class CommissionInline(ReadOnly, TabularInline):
    model = Commission
    fields = ["order", "referred", "base", "percent", "amount", "created_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "commissions claimed"


@admin.register(Payout)
class PayoutAdmin(ModelAdmin):
    list_display = ["id", "created", "affiliate", "amount_shown", "status_badge", "decided", "decided_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["affiliate__user__username", "affiliate__user__email", "=id"]
    list_select_related = ["affiliate__user", "decided_by"]
    readonly_fields = ["affiliate", "amount", "status", "created_at", "decided_at", "decided_by", "note"]
    inlines = [CommissionInline, PayoutEventInline]
    actions = ["approve", "reject"]

    @admin.display(description="created", ordering="created_at")
    def created(self, payout):
        return short_time(payout.created_at)

    @admin.display(description="decided", ordering="decided_at")
    def decided(self, payout):
        return short_time(payout.decided_at)

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, payout):
        return format_money_exact(payout.amount)

    @display(description="status", ordering="status", label=PAYOUT_BADGES)
    def status_badge(self, payout):
        return payout.status, payout.get_status_display()

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approve and pay", permissions=["change"])
    def approve(self, request, queryset):
        paid, skipped, total = 0, 0, 0
        for payout in queryset.select_related("affiliate__user"):
            if payout_approve(payout=payout, by=request.user):
                paid += 1
                total += payout.amount
            else:
                skipped += 1
        if paid:
            self.message_user(
                request,
                f"{paid} payout(s) paid to the balance: {format_money_exact(total)}.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} payout(s) were not awaiting approval: nothing paid for them.",
                messages.WARNING,
            )

    @admin.action(description="Reject (the commissions become available again)", permissions=["change"])
    def reject(self, request, queryset):
        rejected, skipped = 0, 0
        for payout in queryset.select_related("affiliate__user"):
            if payout_reject(payout=payout, by=request.user, note=f"Rejected by {request.user}"):
                rejected += 1
            else:
                skipped += 1
        if rejected:
            self.message_user(
                request,
                f"{rejected} payout(s) rejected: their commissions are available to the affiliate again.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} payout(s) were not awaiting approval: left as they were.",
                messages.WARNING,
            )
