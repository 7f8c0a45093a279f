from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The answer to an `add` sent with an `Idempotency-Key` header, so a client that retries after a lost
    answer gets the same order back instead of a second one.

    Written in the same transaction as the order it answers: either both exist or neither does.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's fields.")
    answer = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_idempotency_key")]

    def __str__(self):
        return f"{self.key} ({self.user_id})"
