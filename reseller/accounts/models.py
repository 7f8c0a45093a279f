from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA time zones this machine knows (the system's database, else the tzdata package), less
    the files some systems keep beside them that are no zone of their own."""
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def validate_time_zone(value: str) -> None:
    if value and value not in time_zone_names():
        raise ValidationError(_("%(value)s is not a time zone."), code="time_zone", params={"value": value})


class User(AbstractUser):
    """The panel's user: customers and staff alike. Custom from the first migration so it can grow."""

    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Taken off this customer's prices, 0 to 100.",
    )
    # Preferences, set by the customer on their account page (accounts/forms.py).
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Blank: the browser's language."),
    )
    # The language of the customer's last sign-in: their emails' language while `language` is blank.
    last_language = models.CharField(max_length=10, blank=True, editable=False)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Blank: the panel's time zone."),
    )
    email_notifications = models.BooleanField(
        _("email notifications"),
        default=True,
        help_text=_(
            "Email me when an order is refunded, a refill completes, funds are credited "
            "or support answers my ticket."
        ),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100),
                name="user_discount_percent_0_to_100",
            )
        ]

    @property
    def email_language(self) -> str:
        """The language of this customer's emails: the one they chose, else the one they last signed in
        with, else the panel's."""
        return self.language or self.last_language or settings.LANGUAGE_CODE

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the user's pages and emails are shown in: theirs, else the panel's."""
        name = self.time_zone if self.time_zone in time_zone_names() else settings.TIME_ZONE
        return ZoneInfo(name)


class ApiKey(models.Model):
    """A customer's one API key, stored as a prefix to find it and a SHA-256 hash to check it.

    A plain SHA-256 is the right hash here, unlike for passwords: the key is 48 random hex characters
    (192 bits), so there is nothing to guess that a slow hash would protect, and every API request checks
    one, so it must be cheap. The plain key is shown once, when it is made, and never stored.
    """

    PREFIX_LENGTH = 8

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_key")
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.user})"
