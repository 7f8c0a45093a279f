from django.db import models

MONEY = {"max_digits": 20, "decimal_places": 5}


class Dimension(models.TextChoices):
    PANEL = "panel", "Panel"
    SERVICE = "service", "Service"
    CUSTOMER = "customer", "Customer"
    PROVIDER = "provider", "Provider"


class DayFigures(models.Model):
    """One closed day's figures (in the panel's time zone), for the whole panel (key 0) or one service,
    customer or provider: the daily rollup the dashboard reads (cockpit/figures.py). A closed day's source
    rows never change (the ledger is append-only; costs are counted at placement and corrected when the
    order is final), so a day is computed once."""

    day = models.DateField()
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.BigIntegerField(
        default=0, help_text="The service's, customer's or provider's id; 0 for the panel."
    )
    charged = models.DecimalField(**MONEY, default=0, help_text="Order charges (ledger), positive.")
    refunded = models.DecimalField(**MONEY, default=0, help_text="Order refunds (ledger), positive.")
    cost = models.DecimalField(
        **MONEY, default=0, help_text="Expected cost of orders placed, plus corrections of orders finished."
    )
    orders = models.PositiveIntegerField(default=0, help_text="Orders placed.")
    # The panel's row only
    deposited = models.DecimalField(**MONEY, default=0)
    deposits = models.PositiveIntegerField(default=0)
    bonus = models.DecimalField(**MONEY, default=0)
    reversed = models.DecimalField(**MONEY, default=0, help_text="Payments taken back (refunds, disputes).")
    new_customers = models.PositiveIntegerField(default=0)
    finished = models.JSONField(default=dict, blank=True, help_text="Orders finished, by final status.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "day figures"
        constraints = [
            models.UniqueConstraint(fields=["day", "dimension", "key"], name="one_figure_row_per_day_and_key")
        ]
        indexes = [models.Index(fields=["dimension", "day"], name="figures_by_dimension_day")]

    def __str__(self):
        return f"{self.day} {self.dimension} {self.key}"


class SpanFigures(models.Model):
    """Sums of the rolled-up days `first` to `last` per key: what the dashboard's top lists, active
    customers and provider spend read (cockpit/figures.py). Closed days never change, so a span is summed
    once, the first time it is asked for (once a day per window); a row with the panel's key marks it
    done."""

    first = models.DateField()
    last = models.DateField()
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.BigIntegerField(default=0)
    charged = models.DecimalField(**MONEY, default=0)
    refunded = models.DecimalField(**MONEY, default=0)
    cost = models.DecimalField(**MONEY, default=0)
    orders = models.PositiveIntegerField(default=0)
    profit = models.DecimalField(**MONEY, default=0, help_text="charged - refunded - cost, for ranking.")

    class Meta:
        verbose_name_plural = "span figures"
        constraints = [
            models.UniqueConstraint(fields=["first", "last", "dimension", "key"], name="one_span_row_per_key")
        ]
        indexes = [
            models.Index(fields=["first", "last", "dimension", "-profit"], name="span_by_profit"),
        ]

    def __str__(self):
        return f"{self.first}..{self.last} {self.dimension} {self.key}"


class Alert(models.Model):
    """One condition that needs a person (cockpit/alerts.py): staff are emailed when it starts, at most
    once an hour while it lasts, and once when it recovers; the admin shows those firing."""

    key = models.CharField(max_length=200, unique=True, help_text="The condition, e.g. low_balance:3.")
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    firing = models.BooleanField(default=False)
    since = models.DateTimeField(null=True, blank=True, help_text="When it started firing.")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="The last email about it.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True, help_text="What the next check compares with.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-firing", "-since", "key"]

    def __str__(self):
        return self.title or self.key
