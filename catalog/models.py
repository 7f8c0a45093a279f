from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .protocol import ServiceType
from .service_types import SELLABLE_TYPES, TypeRule, type_rule


class TypeLabel(models.TextChoices):
    """Each type as a customer reads it (translated); the protocol's names stay in catalog/protocol.py."""

    DEFAULT = ServiceType.DEFAULT.value, _("Default")
    PACKAGE = ServiceType.PACKAGE.value, _("Package")
    CUSTOM_COMMENTS = ServiceType.CUSTOM_COMMENTS.value, _("Custom Comments")
    CUSTOM_COMMENTS_PACKAGE = ServiceType.CUSTOM_COMMENTS_PACKAGE.value, _("Custom Comments Package")
    MENTIONS = ServiceType.MENTIONS.value, _("Mentions")
    MENTIONS_WITH_HASHTAGS = ServiceType.MENTIONS_WITH_HASHTAGS.value, _("Mentions with Hashtags")
    MENTIONS_CUSTOM_LIST = ServiceType.MENTIONS_CUSTOM_LIST.value, _("Mentions Custom List")
    MENTIONS_HASHTAG = ServiceType.MENTIONS_HASHTAG.value, _("Mentions Hashtag")
    MENTIONS_USER_FOLLOWERS = ServiceType.MENTIONS_USER_FOLLOWERS.value, _("Mentions User Followers")
    MENTIONS_MEDIA_LIKERS = ServiceType.MENTIONS_MEDIA_LIKERS.value, _("Mentions Media Likers")
    COMMENT_LIKES = ServiceType.COMMENT_LIKES.value, _("Comment Likes")
    POLL = ServiceType.POLL.value, _("Poll")
    SEO = ServiceType.SEO.value, _("SEO")
    SUBSCRIPTIONS = ServiceType.SUBSCRIPTIONS.value, _("Subscriptions")


RATE_DIGITS = {"max_digits": 24, "decimal_places": 8}
PERCENT_DIGITS = {"max_digits": 9, "decimal_places": 2}


class Provider(models.Model):
    """An upstream panel we buy from through the SMM panel API v2."""

    name = models.CharField(max_length=100, unique=True)
    api_url = models.URLField("API URL", max_length=500)
    api_key = models.CharField("API key", max_length=255)
    currency = models.CharField(max_length=3, default="USD")
    exchange_rate = models.DecimalField(
        max_digits=20,
        decimal_places=8,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text="How many panel-currency units one unit of the provider's currency is worth.",
    )
    markup_percent = models.DecimalField(
        "default markup %",
        **PERCENT_DIGITS,
        null=True,
        blank=True,
        help_text="For services and categories without their own rule. Empty: the panel's default.",
    )
    enable_new_services = models.BooleanField(
        default=False, help_text="Sell services new at this provider as soon as a sync finds them."
    )
    is_active = models.BooleanField("active", default=True)
    balance = models.DecimalField(
        "last known balance", max_digits=20, decimal_places=5, null=True, blank=True
    )
    balance_checked_at = models.DateTimeField(null=True, blank=True)
    low_balance = models.DecimalField(
        "low balance alert",
        max_digits=20,
        decimal_places=5,
        null=True,
        blank=True,
        help_text="Warn staff when the balance falls below this (provider currency). Empty: warn only when "
        "it lasts fewer than LOW_BALANCE_DAYS at the last 7 days' spend.",
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync_ok = models.BooleanField(null=True, blank=True)
    last_sync_message = models.TextField(blank=True)
    # Backing off (catalog/backoff.py): after a 429, a 5xx, a timeout or no connection, sweeps leave the
    # provider alone until then; each failure in a row doubles the wait, a call that succeeds ends it.
    backoff_until = models.DateTimeField(null=True, blank=True, editable=False)
    backoff_failures = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Outcome(models.TextChoices):
    """How a call to a provider ended (catalog/upstream.py's error classes)."""

    OK = "ok", "OK"
    REJECTED = "rejected", "Rejected"
    UNREACHABLE = "unreachable", "Unreachable"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    THROTTLED = "throttled", "Throttled"


class UpstreamCallCount(models.Model):
    """Calls made to a provider's API since the panel began, per action and outcome (catalog/calls.py):
    counted in the database so that every worker's calls add up, for `/metrics` and the alerts."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="call_counts")
    action = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    calls = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0, help_text="Time spent in these calls, in total.")
    last_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "action", "outcome"], name="one_call_count_per_action_and_outcome"
            )
        ]

    def __str__(self):
        return f"{self.provider_id} {self.action} {self.outcome}: {self.calls}"


class Category(models.Model):
    name = models.CharField(max_length=255, unique=True)
    sort_order = models.IntegerField(default=0)
    markup_percent = models.DecimalField("markup %", **PERCENT_DIGITS, null=True, blank=True)
    fixed_rate = models.DecimalField(
        "fixed rate per 1000", **RATE_DIGITS, null=True, blank=True, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Service(models.Model):
    """One upstream service as we sell it.

    Upstream fields are overwritten by every sync; the operator's fields (name, description, category,
    sort order, enabled, pricing rule) never are. Prices are stored, recomputed whenever a sync or a rule
    changes them, so the catalog page reads them without arithmetic.
    """

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    # Upstream, refreshed by every sync
    upstream_id = models.CharField(max_length=64)
    upstream_name = models.CharField(max_length=500)
    type = models.CharField(max_length=100, default=ServiceType.DEFAULT.value)
    upstream_category = models.CharField(max_length=255, blank=True)
    upstream_description = models.TextField(blank=True)
    rate = models.DecimalField("upstream rate", **RATE_DIGITS, help_text="Per 1000, provider currency.")
    min_quantity = models.PositiveBigIntegerField("min")
    max_quantity = models.PositiveBigIntegerField("max")
    refill = models.BooleanField(default=False)
    cancel = models.BooleanField(default=False)
    dripfeed = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    is_available = models.BooleanField(
        "available upstream", default=True, help_text="Present in the provider's list at the last sync."
    )
    enabled_before_vanish = models.BooleanField(default=False, editable=False)
    # The operator's own
    name = models.CharField(max_length=500, blank=True, help_text="Empty: the provider's name.")
    description = models.TextField(blank=True, help_text="Empty: the provider's description.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="services")
    sort_order = models.IntegerField(default=0)
    is_enabled = models.BooleanField("enabled", default=False)
    markup_percent = models.DecimalField("markup %", **PERCENT_DIGITS, null=True, blank=True)
    fixed_rate = models.DecimalField(
        "fixed rate per 1000", **RATE_DIGITS, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    dripfeed_enabled = models.BooleanField(
        "offer drip-feed",
        default=True,
        help_text="Offer drip-feed (runs and an interval) when the provider flags the service for it.",
    )
    refill_days = models.PositiveSmallIntegerField(
        "refill window (days)",
        null=True,
        blank=True,
        help_text="Empty: the panel's default (REFILL_WINDOW_DAYS).",
    )
    # Derived by catalog.pricing, in the panel currency per 1000
    cost_rate = models.DecimalField(**RATE_DIGITS, default=Decimal(0))
    price_rate = models.DecimalField("price per 1000", **RATE_DIGITS, default=Decimal(0))
    # Measured from our own Completed orders of the last SERVICE_COMPLETION_DAYS (orders.stats, hourly)
    completion_seconds = models.PositiveIntegerField(
        "average completion (seconds)",
        null=True,
        blank=True,
        editable=False,
        help_text="From submission upstream to completion, over the orders counted in the sample.",
    )
    completion_sample = models.PositiveIntegerField("completed orders measured", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__sort_order", "category__name", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "upstream_id"], name="one_row_per_upstream_service"),
            models.CheckConstraint(
                condition=Q(is_enabled=False) | Q(type__in=SELLABLE_TYPES),
                name="only_sellable_types_enabled",
                violation_error_message="This service type is not supported yet, so it cannot be enabled.",
            ),
            models.CheckConstraint(
                condition=Q(is_enabled=False) | Q(is_available=True),
                name="only_available_services_enabled",
                violation_error_message="The provider no longer offers this service.",
            ),
        ]
        indexes = [models.Index(fields=["is_enabled", "category", "sort_order"], name="catalog_listing")]

    def __str__(self):
        return f"#{self.pk} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name or self.upstream_name

    @property
    def display_description(self) -> str:
        return self.description or self.upstream_description

    @property
    def type_rule(self) -> TypeRule | None:
        """How orders of this service are counted, priced and sent; None for a type we cannot sell."""
        return type_rule(self.type)

    @property
    def is_sellable_type(self) -> bool:
        return self.type_rule is not None

    @property
    def type_label(self) -> str:
        """The type as a customer reads it; one the protocol does not know, as the provider wrote it."""
        return TypeLabel(self.type).label if self.type in TypeLabel.values else self.type

    @property
    def offers_dripfeed(self) -> bool:
        """Runs and an interval may be ordered: the type allows it, the provider flags it, the operator
        has not switched it off."""
        rule = self.type_rule
        return bool(rule and rule.dripfeed and self.dripfeed and self.dripfeed_enabled)

    @property
    def margin(self) -> Decimal:
        return self.price_rate - self.cost_rate

    @property
    def completion_time(self) -> timedelta | None:
        """How long its orders take, on average; None until enough of them completed to say."""
        if self.completion_seconds is None or self.completion_sample < settings.SERVICE_COMPLETION_MIN_SAMPLE:
            return None
        return timedelta(seconds=self.completion_seconds)


class FavouriteService(models.Model):
    """A service a customer starred, to find it again among thousands."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_services"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="one_favourite_per_user_and_service")
        ]

    def __str__(self):
        return f"{self.user}: {self.service}"
