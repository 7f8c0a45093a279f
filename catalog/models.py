from django.db import models


class Provider(models.Model):
    """An upstream panel we buy from through the SMM panel API v2."""

    name = models.CharField(max_length=100, unique=True)
    api_url = models.URLField("API URL", max_length=500)
    api_key = models.CharField("API key", max_length=255)
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField("active", default=True)
    balance = models.DecimalField(
        "last known balance", max_digits=20, decimal_places=5, null=True, blank=True
    )
    balance_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
