"""Deposits: money coming in through a payment gateway (or credited by staff), credited exactly once.

A Deposit is written by payments/moves.py (its status and history) and payments/credit.py (its money); a
Notification keeps every verified notification a gateway sent, as received; a BankTransfer is one incoming
transfer SePay told of, matched to a customer by the memo code or waiting for an operator.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reseller.money import format_money, money_field


class Method(models.TextChoices):
    STRIPE = "stripe", _("Card (Stripe)")
    PAYOS = "payos", _("VietQR (payOS)")
    BANK = "bank", _("Bank transfer")
    MANUAL = "manual", _("Credited by staff")


class DepositStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    EXPIRED = "expired", _("Expired")
    CANCELED = "canceled", _("Canceled")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")


class Deposit(models.Model):
    """One top-up. `amount` is what the customer pays, in `currency`; `rate` (snapshotted when the deposit
    is made) turns it into the panel currency; `fee` comes off, `credited` goes on the balance and `bonus`
    beside it, as its own ledger row. `reversed` is what was taken back (or is owed) after refunds and
    disputes, in the panel currency; `gateway_refunded` and `gateway_disputed` are the gateway's figures, in
    `currency`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deposits")
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=16, choices=DepositStatus.choices, default=DepositStatus.PENDING)
    currency = models.CharField(max_length=3)
    amount = money_field(help_text="What the customer pays, in the deposit's currency.")
    amount_paid = money_field(null=True, blank=True, help_text="What the gateway says was paid.")
    rate = models.DecimalField(
        max_digits=24, decimal_places=12, default=Decimal(1), help_text="Panel currency per unit paid."
    )
    fee = money_field(default=Decimal(0))
    credited = money_field(default=Decimal(0), help_text="Put on the balance, in the panel currency.")
    bonus = money_field(default=Decimal(0))
    reversed = money_field(default=Decimal(0), help_text="Taken back or owed after refunds and disputes.")
    gateway_refunded = money_field(default=Decimal(0))
    gateway_disputed = money_field(default=Decimal(0))
    # The gateway's word on a dispute ("needs_response", "won", "lost"...): once closed, older events of it
    # that arrive late change nothing.
    gateway_dispute_status = models.CharField(max_length=32, blank=True)
    # The gateway's ids: the checkout session, payment link or SePay transfer; the payment itself.
    gateway_id = models.CharField(max_length=255, blank=True)
    gateway_txn_id = models.CharField(max_length=255, blank=True)
    order_code = models.BigIntegerField(null=True, blank=True, unique=True, help_text="payOS's order code.")
    checkout_url = models.URLField(max_length=2000, blank=True)
    qr_payload = models.TextField(blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="deposit_user_created"),
            models.Index(fields=["status", "created_at"], name="deposit_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["method", "gateway_txn_id"],
                condition=~Q(gateway_txn_id=""),
                name="one_deposit_per_gateway_payment",
            ),
            models.UniqueConstraint(
                fields=["method", "gateway_id"], condition=~Q(gateway_id=""), name="one_deposit_per_checkout"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.CheckConstraint(
                condition=Q(fee__gte=0, credited__gte=0, bonus__gte=0, reversed__gte=0),
                name="deposit_figures_not_negative",
            ),
        ]

    def __str__(self):
        return f"Deposit {self.pk} ({self.get_method_display()}, {self.get_status_display()})"

    @property
    def total(self) -> Decimal:
        """What the deposit put on the balance: credited plus bonus."""
        return self.credited + self.bonus

    @property
    def is_open(self) -> bool:
        return self.status == DepositStatus.PENDING


class DepositHistory(models.Model):
    """Every status move of a deposit, written by payments/moves.py only."""

    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, choices=DepositStatus.choices)
    to_status = models.CharField(max_length=16, choices=DepositStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "deposit history"

    def __str__(self):
        return f"{self.from_status} -> {self.to_status}"


class Notification(models.Model):
    """A verified notification from a gateway, kept as received (the raw JSON), with what it did."""

    class Outcome(models.TextChoices):
        CREDITED = "credited", "credited"
        DUPLICATE = "duplicate", "already done"
        CLOSED = "closed", "closed the deposit"
        REVERSED = "reversed", "money taken back or given back"
        WAITING = "waiting", "waiting for an operator"
        IGNORED = "ignored", "nothing to do"

    method = models.CharField(max_length=16, choices=Method.choices)
    deposit = models.ForeignKey(
        Deposit, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.get_method_display()} {self.event_type or 'notification'} ({self.outcome})"


class BankTransfer(models.Model):
    """An incoming transfer SePay told of, once per SePay id. Matched by the memo code to a customer (and
    credited as a bank deposit) or waiting until an operator assigns it (once)."""

    class Status(models.TextChoices):
        CREDITED = "credited", _("Credited")
        WAITING = "waiting", _("Waiting for an operator")
        IGNORED = "ignored", _("Ignored")

    sepay_id = models.BigIntegerField(unique=True)
    amount = money_field(help_text="In VND.")
    content = models.TextField(blank=True)
    account_number = models.CharField(max_length=64, blank=True)
    reference_code = models.CharField(max_length=255, blank=True)
    transaction_date = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    deposit = models.OneToOneField(
        Deposit, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_transfer"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"Transfer {self.sepay_id}: {format_money(self.amount, 'VND')}"


class PaymentMethod(models.Model):
    """The operator's settings of one method. A method without a row has the defaults; one without the
    gateway's credentials (settings) is hidden whatever its row says."""

    method = models.CharField(max_length=16, choices=Method.choices, unique=True)
    enabled = models.BooleanField(default=True)
    display_name = models.CharField(max_length=100, blank=True, help_text="Empty: the method's own name.")
    min_amount = money_field(null=True, blank=True, help_text="In the method's currency. Empty: no bound.")
    max_amount = money_field(null=True, blank=True, help_text="In the method's currency. Empty: no bound.")
    fee_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal(0))
    fee_fixed = money_field(default=Decimal(0), help_text="In the panel currency, per deposit.")
    instructions = models.TextField(blank=True, help_text="Markdown shown with the method.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "method"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, fee_percent__lt=100, fee_fixed__gte=0), name="method_fee_sane"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=models.F("max_amount")),
                name="method_min_below_max",
            ),
        ]

    def __str__(self):
        return self.display_name or self.get_method_display()


class BonusTier(models.Model):
    """+percent on deposits of at least min_amount (panel currency, after fees). None by default."""

    min_amount = money_field(unique=True)
    percent = models.DecimalField(max_digits=6, decimal_places=3)

    class Meta:
        ordering = ["min_amount"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__gt=0, percent__gt=0, percent__lte=100), name="bonus_tier_sane"
            )
        ]

    def __str__(self):
        return f"+{self.percent.normalize():f}% from {format_money(self.min_amount)}"


class ExchangeRate(models.Model):
    """What one unit of a currency is worth in the panel currency (e.g. VND to USD), set by the operator.
    Deposits snapshot it when they are made."""

    currency = models.CharField(max_length=3, unique=True)
    rate = models.DecimalField(max_digits=24, decimal_places=12)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive")]

    def __str__(self):
        return f"1 {self.currency} = {self.rate.normalize():f} {settings.PANEL_CURRENCY}"
