import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from catalog.models import Provider, Service

MONEY = {"max_digits": 20, "decimal_places": 5}
RATE = {"max_digits": 24, "decimal_places": 8}


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    NEEDS_REVIEW = "needs_review", "Needs review"
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    PARTIAL = "partial", "Partial"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"


ACTIVE = frozenset({Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING})  # placed upstream, polled
FINAL = frozenset({Status.COMPLETED, Status.PARTIAL, Status.CANCELED, Status.FAILED})
UPSTREAM_FINAL = FINAL - {Status.FAILED}

# Every allowed move, in one place. Upstream statuses may also step back (In progress -> Pending).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.SUBMITTING, Status.FAILED}),
    Status.SUBMITTING: frozenset(
        {Status.QUEUED, Status.NEEDS_REVIEW, Status.FAILED} | ACTIVE | UPSTREAM_FINAL
    ),
    Status.NEEDS_REVIEW: frozenset({Status.QUEUED, Status.FAILED} | ACTIVE | UPSTREAM_FINAL),
    **{status: frozenset((ACTIVE - {status}) | UPSTREAM_FINAL) for status in ACTIVE},
    **{status: frozenset() for status in FINAL},
}

# The protocol's status strings (catalog.upstream.Status) mapped to ours.
FROM_UPSTREAM = {
    "Pending": Status.PENDING,
    "In progress": Status.IN_PROGRESS,
    "Processing": Status.PROCESSING,
    "Completed": Status.COMPLETED,
    "Partial": Status.PARTIAL,
    "Canceled": Status.CANCELED,
}


class Order(models.Model):
    """A customer's order: charged once at placement, placed upstream once, followed to a final status.

    Rates and the charge are snapshotted when the order is placed; later price changes never touch it.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="orders")
    link = models.URLField(max_length=2048)
    quantity = models.PositiveBigIntegerField()
    comments = models.TextField(blank=True)
    # Snapshot at placement (panel currency)
    rate = models.DecimalField("rate per 1000", **RATE)
    cost_rate = models.DecimalField("cost per 1000", **RATE)
    charge = models.DecimalField(**MONEY)
    cost = models.DecimalField(**MONEY, help_text="Expected cost at placement (panel currency).")
    exchange_rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        default=1,
        help_text="The provider's rate to the panel currency then.",
    )
    client_token = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="The order form's, against double submits.",
    )
    refund = models.DecimalField(**MONEY, default=0)
    # Where it stands
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.CharField(max_length=500, blank=True, help_text="The reason shown to the customer.")
    review_reason = models.CharField(max_length=500, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Upstream
    upstream_id = models.CharField(max_length=64, blank=True)
    start_count = models.BigIntegerField(null=True, blank=True)
    remains = models.BigIntegerField(null=True, blank=True)
    upstream_charge = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="What the provider charged us, in its currency."
    )
    poll_error = models.CharField(max_length=300, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "upstream_id"],
                condition=~Q(upstream_id=""),
                name="one_order_per_upstream_id",
            ),
            models.UniqueConstraint(
                fields=["user", "client_token"],
                condition=~Q(client_token=""),
                name="one_order_per_form_submission",
            ),
            models.CheckConstraint(
                condition=Q(refund__gte=0) & Q(refund__lte=models.F("charge")), name="refund_within_charge"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_check_at"], name="orders_to_poll"),
            models.Index(fields=["user", "-id"], name="orders_of_user"),
        ]

    def __str__(self):
        return f"Order {self.pk}"

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.public_id])

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def latest_refill(self):
        refills = sorted(
            self.refills.all(), key=lambda refill: refill.pk
        )  # uses a prefetch when there is one
        return refills[-1] if refills else None

    @property
    def is_live(self) -> bool:
        """Still changing: not final, or a refill under way. Its row keeps refreshing itself."""
        latest = self.latest_refill
        return not self.is_final or (latest is not None and latest.status in OPEN_REFILL)

    @property
    def paid(self):
        """What the customer paid net of refunds."""
        return self.charge - self.refund

    @property
    def actual_cost(self):
        """What the provider says it charged, in the panel currency, once it has said; else the expected."""
        if self.upstream_charge is None:
            return self.cost
        return self.upstream_charge * self.exchange_rate

    @property
    def profit(self):
        return self.paid - self.actual_cost


class OrderEvent(models.Model):
    """One row per status change: the order's timeline and audit trail."""

    class Source(models.TextChoices):
        PLACEMENT = "placement", "Placement"
        SUBMISSION = "submission", "Submission"
        POLL = "poll", "Polling"
        SWEEPER = "sweeper", "Sweeper"
        OPERATOR = "operator", "Operator"
        CUSTOMER = "customer", "Customer"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=Status.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.old_status or '-'} -> {self.new_status}"


class RefillStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    NEEDS_REVIEW = "needs_review", "Needs review"
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"  # the provider refused the request itself; the reason is in `error`


OPEN_REFILL = frozenset(
    {
        RefillStatus.QUEUED,
        RefillStatus.SUBMITTING,
        RefillStatus.NEEDS_REVIEW,
        RefillStatus.PENDING,
        RefillStatus.IN_PROGRESS,
    }
)
POLLED_REFILL = frozenset({RefillStatus.PENDING, RefillStatus.IN_PROGRESS})
FINAL_REFILL = frozenset({RefillStatus.COMPLETED, RefillStatus.REJECTED, RefillStatus.FAILED})
REFILL_FROM_UPSTREAM = {
    "Pending": RefillStatus.PENDING,
    "In progress": RefillStatus.IN_PROGRESS,
    "Processing": RefillStatus.IN_PROGRESS,
    "Completed": RefillStatus.COMPLETED,
    "Rejected": RefillStatus.REJECTED,
}


class Refill(models.Model):
    """A customer's request to top a completed order back up, followed upstream like an order."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refills")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refills")
    status = models.CharField(max_length=20, choices=RefillStatus.choices, default=RefillStatus.QUEUED)
    upstream_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(
        max_length=500, blank=True, help_text="The provider's reason, shown to the customer."
    )
    poll_error = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=sorted(OPEN_REFILL)),
                name="one_open_refill_per_order",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_check_at"], name="refills_to_poll")]

    def __str__(self):
        return f"Refill {self.pk} of order {self.order_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFILL
