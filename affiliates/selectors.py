"""Reads for the affiliate page and the admin's badge, scoped to one affiliate."""

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from orders.models import FINAL, Order
from reseller.money import quantize_amount

from .models import Affiliate, Commission, Payout, PayoutStatus, Referral

ZERO = Decimal("0.00000")
RECENT = 20


def masked_username(name: str) -> str:
    """`al***`: enough for an affiliate to recognise a customer they referred, not to find them."""
    return f"{name[:2]}***" if len(name) > 2 else f"{name[:1]}***"


@dataclass
class AffiliateFigures:
    visits: int = 0
    sign_ups: int = 0
    conversion: Decimal | None = None  # sign-ups per visit, in percent; None without visits
    pending: Decimal = ZERO  # estimated, on referred customers' open orders
    earned: Decimal = ZERO
    available: Decimal = ZERO
    requested: Decimal = ZERO
    paid: Decimal = ZERO
    commissions: list = field(default_factory=list)
    payouts: list = field(default_factory=list)


def affiliate_figures(*, affiliate: Affiliate) -> AffiliateFigures:
    """Everything the affiliate page shows, in five queries however many customers and orders."""
    figures = AffiliateFigures(visits=affiliate.visits)
    figures.sign_ups = affiliate.referrals.count()
    if figures.visits:
        figures.conversion = (Decimal(figures.sign_ups) * 100 / figures.visits).quantize(Decimal("0.1"))
    sums = Commission.objects.filter(affiliate=affiliate).aggregate(
        earned=Sum("amount"), available=Sum("amount", filter=Q(payout__isnull=True))
    )
    figures.earned = sums["earned"] or ZERO
    figures.available = sums["available"] or ZERO
    payouts = Payout.objects.filter(affiliate=affiliate).aggregate(
        requested=Sum("amount", filter=Q(status=PayoutStatus.REQUESTED)),
        paid=Sum("amount", filter=Q(status=PayoutStatus.PAID)),
    )
    figures.requested = payouts["requested"] or ZERO
    figures.paid = payouts["paid"] or ZERO
    net = ExpressionWrapper(
        F("charge") - F("refund"), output_field=DecimalField(max_digits=20, decimal_places=5)
    )
    open_net = (
        Order.objects.filter(user__referral__affiliate=affiliate)
        .exclude(user_id=affiliate.user_id)
        .exclude(status__in=FINAL)
        .aggregate(total=Sum(net))["total"]
    )
    if open_net and open_net > 0:
        figures.pending = quantize_amount(open_net * affiliate.percent / 100, rounding=ROUND_FLOOR)
    figures.commissions = [
        {
            "order_id": row["order_id"],
            "customer": masked_username(row["referred__username"]),
            "amount": row["amount"],
            "created_at": row["created_at"],
            "paid": row["payout__status"] == PayoutStatus.PAID,
            "claimed": row["payout_id"] is not None,
        }
        for row in Commission.objects.filter(affiliate=affiliate)
        .order_by("-created_at", "-id")
        .values("order_id", "referred__username", "amount", "created_at", "payout_id", "payout__status")[
            :RECENT
        ]
    ]
    figures.payouts = list(Payout.objects.filter(affiliate=affiliate).order_by("-created_at", "-id")[:RECENT])
    return figures


def payouts_waiting_count() -> int:
    """Payouts waiting for staff approval (the admin sidebar's badge)."""
    return Payout.objects.filter(status=PayoutStatus.REQUESTED).count()


def affiliates_with_stats(queryset: QuerySet[Affiliate]) -> QuerySet[Affiliate]:
    """The affiliates with `sign_ups` and `earned` annotated, for the admin's list (subqueries: one query
    for the page however many affiliates it shows)."""
    sign_ups = (
        Referral.objects.filter(affiliate=OuterRef("pk"))
        .order_by()
        .values("affiliate")
        .annotate(n=Count("pk"))
    )
    earned = (
        Commission.objects.filter(affiliate=OuterRef("pk"))
        .order_by()
        .values("affiliate")
        .annotate(total=Sum("amount"))
    )
    return queryset.annotate(
        sign_ups=Coalesce(Subquery(sign_ups.values("n")), 0),
        earned=Coalesce(Subquery(earned.values("total")), ZERO, output_field=DecimalField()),
    )
