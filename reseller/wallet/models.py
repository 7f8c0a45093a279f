import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reseller.money import format_money, money_field


class Wallet(models.Model):
    """A customer's balance. Only `services.wallet_move` changes it, together with a ledger row."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet")
    balance = money_field(default=Decimal("0"))
    # What the customer still owes after a payment was taken back (a card refund or dispute) beyond their
    # balance: while it is above zero they cannot order, and their next deposit pays it first.
    owed = money_field(default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_not_negative"),
            models.CheckConstraint(condition=Q(owed__gte=0), name="wallet_owed_not_negative"),
        ]

    def __str__(self):
        return f"{self.user}: {format_money(self.balance)}"


class LedgerEntry(models.Model):
    """One movement of money, append-only: rows are never changed or deleted, and the balance is their sum."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        CHARGE = "charge", _("Order charge")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Adjustment")
        BONUS = "bonus", _("Deposit bonus")
        # A payment taken back by the gateway (refund, dispute), or given back when a dispute is won.
        REVERSAL = "reversal", _("Payment reversal")
        # Affiliate earnings moved to the balance (affiliates/payouts.py): one row per payout.
        COMMISSION = "commission", _("Affiliate commission")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # PROTECT: a customer with money history is deactivated, never deleted with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount = money_field(help_text="Signed: positive adds to the balance, negative takes from it.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    # The deposit a deposit, bonus or reversal row belongs to (payments.Deposit).
    deposit = models.ForeignKey(
        "payments.Deposit", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    balance_after = money_field()
    # A staff form's one-time token: the same form submitted twice writes one row.
    request_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_user_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="refund"), name="one_refund_per_order"
            ),
            models.UniqueConstraint(
                fields=["request_token"], condition=~Q(request_token=""), name="one_entry_per_request"
            ),
            # A deposit and its bonus are credited once, however many notifications tell of the payment.
            models.UniqueConstraint(
                fields=["deposit", "kind"],
                condition=Q(kind__in=["deposit", "bonus"], deposit__isnull=False),
                name="one_credit_per_deposit",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="deposit", amount__gt=0)
                    | Q(kind="charge", amount__lt=0, order_id__isnull=False)
                    | Q(kind="refund", amount__gt=0, order_id__isnull=False)
                    | Q(kind="adjustment")
                    | Q(kind="bonus", amount__gt=0, deposit_id__isnull=False)
                    | Q(kind="reversal", deposit_id__isnull=False)
                    | Q(kind="commission", amount__gt=0)
                ),
                name="ledger_sign_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {format_money(self.amount)} for {self.user}"


class FundsInstructions(models.Model):
    """What the "Add funds" page tells customers, written by the operator in admin (one row), in Markdown
    (reseller/rich_text.py makes it safe HTML)."""

    text = models.TextField(
        blank=True,
        help_text="Markdown shown on the Add funds page: how to pay, what to write as reference. Links, "
        "lists, bold, headings and tables work; HTML is stripped.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "add funds instructions"
        verbose_name_plural = "add funds instructions"

    def __str__(self):
        return "Add funds instructions"
