"""Affiliates: each customer's referral code, who signed up through it, the commission each referred
customer's finished orders earned, and the payouts that move earnings to the balance.

Once is a constraint here: a user is referred at most once (`Referral.referred` is one-to-one), an order earns
at most one commission (`Commission.order` is one-to-one), and a payout writes one ledger row (its request
token, `affiliate-payout:<pk>`, is unique in the ledger). Only affiliates/payouts.py writes a payout's status
and its history.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reseller.money import money_field

# No 0/o, 1/l/i: a code read aloud or typed from a screenshot is the code.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _percent_field(**kwargs):
    return models.DecimalField(max_digits=5, decimal_places=2, **kwargs)


class AffiliateManager(models.Manager):
    def for_user(self, user) -> "Affiliate":
        """The user's affiliate row, made the first time it is needed (with a fresh random code)."""
        for _attempt in range(5):
            affiliate = self.filter(user=user).first()
            if affiliate is not None:
                return affiliate
            try:
                with transaction.atomic():
                    return self.create(user=user, code=new_code())
            except IntegrityError:  # made meanwhile by another request, or (rarely) the code was taken
                continue
        return self.get(user=user)


class Affiliate(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliate")
    code = models.CharField(max_length=16, unique=True, editable=False)
    commission_percent = _percent_field(
        null=True,
        blank=True,
        help_text="This affiliate's commission, in percent of their referred customers' net spend. "
        "Blank: the panel's AFFILIATE_COMMISSION_PERCENT.",
    )
    visits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AffiliateManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_percent__isnull=True)
                | Q(commission_percent__gte=0, commission_percent__lte=100),
                name="affiliate_percent_0_to_100",
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.code})"

    @property
    def percent(self) -> Decimal:
        """The commission percent in force: the override, else the panel's."""
        if self.commission_percent is not None:
            return self.commission_percent
        return settings.AFFILIATE_COMMISSION_PERCENT


class Referral(models.Model):
    """A customer who signed up through an affiliate's link. One-to-one: attributed once, for good."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="referrals")
    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.referred} via {self.affiliate.user}"


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")


TRANSITIONS: dict[str, frozenset[str]] = {
    PayoutStatus.REQUESTED: frozenset({PayoutStatus.PAID, PayoutStatus.REJECTED}),
    PayoutStatus.PAID: frozenset(),
    PayoutStatus.REJECTED: frozenset(),
}


class Payout(models.Model):
    """Earnings claimed at once (every available commission), paid to the balance by one ledger row."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="payouts")
    amount = money_field()
    status = models.CharField(max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")]

    def __str__(self):
        return f"Payout {self.pk} to {self.affiliate.user}"

    @property
    def request_token(self) -> str:
        """The ledger's unique request token for this payout's row: paid once, whoever approves."""
        return f"affiliate-payout:{self.pk}"


class PayoutEvent(models.Model):
    """A payout's history: one row per status change (written only by affiliates/payouts.py)."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=PayoutStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=PayoutStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


class Commission(models.Model):
    """What one finished order of a referred customer earned its affiliate: `percent` of `base` (the net
    charge, charge - refund), rounded down. One per order (a constraint), made when the order finished."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="commissions")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="commission")
    referred = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    base = money_field(help_text="The order's net charge: its charge less its refund.")
    percent = _percent_field()
    amount = money_field()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The payout that claimed it; null while it is available.
    payout = models.ForeignKey(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="commissions"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["affiliate", "payout"], name="commission_affiliate_payout")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=models.F("base")), name="commission_within_base"
            ),
        ]

    def __str__(self):
        return f"Commission on order {self.order_id}"
