import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog import protocol
from catalog.models import Provider, Service
from reseller.money import quantize_amount

MONEY = {"max_digits": 20, "decimal_places": 5}
RATE = {"max_digits": 24, "decimal_places": 8}


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Submitting")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    PROCESSING = "processing", _("Processing")
    COMPLETED = "completed", _("Completed")
    PARTIAL = "partial", _("Partial")
    CANCELED = "canceled", _("Canceled")
    FAILED = "failed", _("Failed")
    # A subscription's own (protocol part 3)
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    EXPIRED = "expired", _("Expired")


# What a customer reads: our internal steps (queued, submitting, in review) are not theirs. The same
# values and labels as Status, without those three.
INTERNAL = (Status.QUEUED, Status.SUBMITTING, Status.NEEDS_REVIEW)
CustomerStatus = models.TextChoices(
    "CustomerStatus",
    [(status.name, (status.value, status.label)) for status in Status if status not in INTERNAL],
)


CUSTOMER_STATUS = {
    Status.QUEUED: CustomerStatus.PENDING,
    Status.SUBMITTING: CustomerStatus.PENDING,
    Status.NEEDS_REVIEW: CustomerStatus.PROCESSING,
    **{status: CustomerStatus(status.value) for status in Status if status.value in CustomerStatus.values},
}


def statuses_shown_as(customer_status: str) -> list[str]:
    """Our statuses a customer's status filter stands for."""
    return sorted(status for status, shown in CUSTOMER_STATUS.items() if shown == customer_status)


# Placed upstream, polled (subscriptions among them while they serve posts).
ACTIVE = frozenset({Status.PENDING, Status.IN_PROGRESS, Status.PROCESSING, Status.ACTIVE, Status.PAUSED})
FINAL = frozenset({Status.COMPLETED, Status.PARTIAL, Status.CANCELED, Status.FAILED, Status.EXPIRED})
UPSTREAM_FINAL = FINAL - {Status.FAILED}
# Open orders that can get stuck: a subscription waits for posts for days as Active or Paused.
WATCHED = frozenset(Status) - FINAL - {Status.ACTIVE, Status.PAUSED}

# Every allowed move of an order, in one place; orders/moves.py is the one function that makes them.
# Upstream statuses may also step back (In progress -> Pending).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.QUEUED: frozenset({Status.SUBMITTING, Status.FAILED}),
    Status.SUBMITTING: frozenset(
        {Status.QUEUED, Status.NEEDS_REVIEW, Status.FAILED} | ACTIVE | UPSTREAM_FINAL
    ),
    Status.NEEDS_REVIEW: frozenset({Status.QUEUED, Status.FAILED} | ACTIVE | UPSTREAM_FINAL),
    **{status: frozenset((ACTIVE - {status}) | UPSTREAM_FINAL) for status in ACTIVE},
    **{status: frozenset() for status in FINAL},
}

# The protocol's statuses mapped to ours.
FROM_UPSTREAM = {
    protocol.OrderStatus.PENDING: Status.PENDING,
    protocol.OrderStatus.IN_PROGRESS: Status.IN_PROGRESS,
    protocol.OrderStatus.PROCESSING: Status.PROCESSING,
    protocol.OrderStatus.COMPLETED: Status.COMPLETED,
    protocol.OrderStatus.PARTIAL: Status.PARTIAL,
    protocol.OrderStatus.CANCELED: Status.CANCELED,
}
# A subscription's statuses; it may also answer an order's (Pending) before it starts.
SUBSCRIPTION_FROM_UPSTREAM = {
    **FROM_UPSTREAM,
    protocol.SubscriptionStatus.ACTIVE: Status.ACTIVE,
    protocol.SubscriptionStatus.PAUSED: Status.PAUSED,
    protocol.SubscriptionStatus.EXPIRED: Status.EXPIRED,
}
# Orders whose final status may leave part of them undelivered, refunded by `remains` (orders/refunds.py).
SHARE_REFUNDED = frozenset({Status.PARTIAL, Status.EXPIRED})


# History notes a customer reads on their order's timeline (other notes are the operator's).
CANCEL_REQUESTED_NOTE = "Cancel requested"
CANCEL_REFUSED_NOTE = "Cancel refused"


class Source(models.TextChoices):
    """Who made a move: every history row (an order's or a refill's) names one."""

    PLACEMENT = "placement", _("Placement")
    SUBMISSION = "submission", _("Submission")
    POLL = "poll", _("Polling")
    SWEEPER = "sweeper", _("Sweeper")
    OPERATOR = "operator", _("Operator")
    CUSTOMER = "customer", _("Customer")


class MassOrder(models.Model):
    """Many orders placed at once from the mass order page: all its valid lines in one transaction."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mass_orders")
    client_token = models.CharField(
        max_length=64, editable=False, help_text="The page's, against double submits."
    )
    lines = models.JSONField(default=list, help_text="Per line: its number, text, and order id or problem.")
    total = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_token"], name="one_mass_order_per_submission")
        ]

    def __str__(self):
        return f"Mass order {self.pk}"

    def get_absolute_url(self):
        return reverse("orders:mass_detail", args=[self.public_id])


class Order(models.Model):
    """A customer's order: charged once at placement, placed upstream once, followed to a final status.

    Rates and the charge are snapshotted when the order is placed; later price changes never touch it.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    # Not indexed alone: orders_of_user (user, -id) serves it, and every index is one more write per poll.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="orders")
    link = models.URLField(max_length=2048, blank=True)  # a subscription has a username instead
    quantity = models.PositiveBigIntegerField(
        help_text="Units charged for: runs x quantity per run (drip-feed), posts x maximum (subscription)."
    )
    comments = models.TextField(blank=True)
    service_type = models.CharField(
        max_length=100, default=protocol.ServiceType.DEFAULT.value, help_text="The service's, at placement."
    )
    upstream_fields = models.JSONField(
        default=dict, blank=True, help_text="What `add` sends besides the service, as sent."
    )
    # Drip-feed: `runs` deliveries of quantity / runs each, `interval` minutes apart
    runs = models.PositiveIntegerField(null=True, blank=True)
    interval = models.PositiveSmallIntegerField("interval (minutes)", null=True, blank=True)
    # What the provider says of the parts: runs done, posts served, and its child orders
    runs_done = models.PositiveIntegerField(null=True, blank=True)
    posts_done = models.PositiveIntegerField("posts served", null=True, blank=True)
    child_orders = models.JSONField(default=list, blank=True, help_text="The provider's child order ids.")
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
    # Not indexed alone: orders_to_poll (status, next_check_at) serves it.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
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
    # A queued order's: when its retry is due. An order followed upstream has its checks in OrderCheck.
    next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    status_changed_at = models.DateTimeField(
        default=timezone.now, help_text="The last status change (orders/moves.py): stuck orders are old."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    final_cost = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="What the order cost us in the end (panel currency), set when it reaches a final status: "
        "the provider's charge (else the expected cost) for the share we kept.",
    )
    # Cancels: asked once; a refusal by the provider is kept so the button is not offered again.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_refusal = models.CharField(max_length=300, blank=True)
    # Indexed only where set (orders_of_mass_order): most orders are not part of one.
    mass_order = models.ForeignKey(
        MassOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        editable=False,
        db_index=False,
    )

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
            models.CheckConstraint(
                condition=Q(runs__isnull=True) | (Q(runs__gte=2) & Q(interval__isnull=False)),
                name="dripfeed_has_runs_and_interval",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_check_at"], name="orders_to_poll"),
            models.Index(fields=["user", "-id"], name="orders_of_user"),
            # Partial indexes leave open orders out: each poll's write of an open order costs an entry in
            # every index whose condition it meets, and a wide row with many indexes is what a sweep pays for.
            models.Index(
                fields=["finished_at"], condition=Q(finished_at__isnull=False), name="orders_finished"
            ),
            models.Index(
                fields=["mass_order"], condition=Q(mass_order__isnull=False), name="orders_of_mass_order"
            ),
            # Open orders by the age of their status: the dashboard's and the alerts' stuck orders
            models.Index(
                fields=["status_changed_at"],
                condition=Q(status__in=sorted(WATCHED)),
                name="orders_open_by_age",
            ),
        ]

    def __str__(self):
        return f"Order {self.pk}"

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.public_id])

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def is_subscription(self) -> bool:
        return self.service_type == protocol.ServiceType.SUBSCRIPTIONS

    @property
    def is_dripfeed(self) -> bool:
        return self.runs is not None

    @property
    def per_run(self) -> int | None:
        """A drip-feed's quantity per run."""
        return self.quantity // self.runs if self.runs else None

    @property
    def posts(self) -> int | None:
        """How many posts a subscription serves (and was charged for)."""
        return (
            int(self.upstream_fields["posts"])
            if self.is_subscription and "posts" in self.upstream_fields
            else None
        )

    @property
    def per_post(self) -> int | None:
        """A subscription's most per post, charged for each post."""
        return self.quantity // self.posts if self.posts else None

    @property
    def is_delivered_in_parts(self) -> bool:
        """A drip-feed or a subscription: what ends it may leave some parts undelivered, refunded."""
        return self.is_dripfeed or self.is_subscription

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
    def customer_status(self) -> str:
        return CUSTOMER_STATUS[self.status]

    def get_customer_status_display(self) -> str:
        return CustomerStatus(self.customer_status).label

    @property
    def delivered(self) -> int | None:
        """How much the provider has delivered (quantity - remains; never below 0, never above the
        quantity: an over-delivery shows as `over_delivered`); None until it says."""
        if self.status == Status.COMPLETED and not self.is_subscription:
            return self.quantity
        if self.remains is None:
            return None
        return min(max(self.quantity - self.remains, 0), self.quantity)

    @property
    def remains_shown(self) -> int | None:
        """Remains as a customer reads them: never negative."""
        return None if self.remains is None else max(self.remains, 0)

    @property
    def over_delivered(self) -> int:
        return -self.remains if self.remains is not None and self.remains < 0 else 0

    @property
    def progress_percent(self) -> int:
        delivered = self.delivered
        if not delivered or not self.quantity:
            return 0
        return min(100, delivered * 100 // self.quantity)

    @property
    def paid(self):
        """What the customer paid net of refunds."""
        return self.charge - self.refund

    @property
    def cost_basis(self):
        """What the provider says it charged, in the panel currency, once it has said; else the expected."""
        if self.upstream_charge is None:
            return self.cost
        return self.upstream_charge * self.exchange_rate

    @property
    def actual_cost(self):
        """What the order costs us: once final, what it cost in the end; before, its cost basis."""
        return self.cost_basis if self.final_cost is None else self.final_cost

    def cost_when_final(self):
        """The cost of a final order: the provider's last word on its charge, which is what the order
        finally cost there (its refunds taken off); without one, the expected cost for the share of the
        charge we kept, since a provider refunds us the share we refund (remains, cancels; an order that
        never reached it costs nothing)."""
        if self.upstream_charge is not None:
            return quantize_amount(self.upstream_charge * self.exchange_rate)
        if not self.charge:
            return self.cost
        return quantize_amount(self.cost * (self.charge - self.refund) / self.charge)

    @property
    def profit(self):
        return self.paid - self.actual_cost


class OrderCheck(models.Model):
    """When an order followed upstream (placed there, not final) is next asked about: one row per such
    order, written by orders/moves.py as orders start and stop being followed, and by the polling sweep's
    claims (orders/polling.py). Apart from the order's wide row, so that a claim, which every followed
    order gets every interval, writes a row of four columns and two indexes, not a new version of the
    order and its ten indexes."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True, related_name="checks")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+", db_index=False)
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "next_check_at"], name="order_checks_due")]

    def __str__(self):
        return f"Checks of order {self.order_id}"


class HistoryRow(models.Model):
    """One row of a state machine's history: a status change (or a note that changes none, such as a
    cancel asked for), who made it and why. Written only by orders/moves.py."""

    source = models.CharField(max_length=20, choices=Source.choices)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.old_status or '-'} -> {self.new_status}"


class OrderEvent(HistoryRow):
    """The order's timeline and audit trail."""

    Source = Source

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=Status.choices)


class RefillStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Submitting")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")  # the provider refused the request itself; the reason is in `error`


# What a customer reads of a refill: requested until the provider has it, then its status.
CUSTOMER_REFILL_STATUS = {
    RefillStatus.QUEUED: RefillStatus.PENDING,
    RefillStatus.SUBMITTING: RefillStatus.PENDING,
    RefillStatus.NEEDS_REVIEW: RefillStatus.IN_PROGRESS,
}


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
# Every allowed move of a refill. An operator may close any open refill but one being submitted, whose
# request may be on its way; upstream statuses may step back (In progress -> Pending).
REFILL_TRANSITIONS: dict[str, frozenset[str]] = {
    RefillStatus.QUEUED: frozenset({RefillStatus.SUBMITTING, RefillStatus.FAILED, RefillStatus.REJECTED}),
    RefillStatus.SUBMITTING: frozenset(
        {RefillStatus.QUEUED, RefillStatus.NEEDS_REVIEW, RefillStatus.PENDING, RefillStatus.FAILED}
    ),
    RefillStatus.NEEDS_REVIEW: frozenset({RefillStatus.PENDING, RefillStatus.REJECTED}),
    RefillStatus.PENDING: frozenset(
        {RefillStatus.IN_PROGRESS, RefillStatus.COMPLETED, RefillStatus.REJECTED}
    ),
    RefillStatus.IN_PROGRESS: frozenset(
        {RefillStatus.PENDING, RefillStatus.COMPLETED, RefillStatus.REJECTED}
    ),
    **{status: frozenset() for status in FINAL_REFILL},
}
REFILL_FROM_UPSTREAM = {
    protocol.RefillStatus.PENDING: RefillStatus.PENDING,
    protocol.RefillStatus.IN_PROGRESS: RefillStatus.IN_PROGRESS,
    protocol.RefillStatus.PROCESSING: RefillStatus.IN_PROGRESS,
    protocol.RefillStatus.COMPLETED: RefillStatus.COMPLETED,
    protocol.RefillStatus.REJECTED: RefillStatus.REJECTED,
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

    def get_customer_status_display(self) -> str:
        return RefillStatus(CUSTOMER_REFILL_STATUS.get(self.status, self.status)).label


class RefillEvent(HistoryRow):
    """A refill's history: shown in admin and on its order's timeline."""

    refill = models.ForeignKey(Refill, on_delete=models.CASCADE, related_name="events")
    old_status = models.CharField(max_length=20, choices=RefillStatus.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=RefillStatus.choices)
