"""Reads for accounts."""

from .models import ApiKey, User


def api_key_get_for_user(*, user: User) -> ApiKey | None:
    """The user's API key (prefix and dates only: the key itself is never stored)."""
    return ApiKey.objects.filter(user=user).first()
