"""Writes for accounts: API keys, a customer's preferences."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reseller.db import rows_with_parent

from .models import ApiKey, User

# How stale `last_used_at` may get before an authenticated request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_rotate(*, user: User) -> str:
    """Makes a new API key for the user, replacing the old one at once, and returns it: the only time it
    exists in plain text."""
    key = secrets.token_hex(24)
    with transaction.atomic():
        ApiKey.objects.update_or_create(
            user=user,
            defaults={
                "prefix": key[: ApiKey.PREFIX_LENGTH],
                "key_hash": _hash_key(key),
                "created_at": timezone.now(),
                "last_used_at": None,
            },
        )
    return key


def api_key_authenticate(*, key: str) -> User | None:
    """The active user whose API key this is, else None. Compares hashes in constant time."""
    if not isinstance(key, str) or len(key) <= ApiKey.PREFIX_LENGTH:
        return None
    key_hash = _hash_key(key)
    keys_with_users = rows_with_parent(ApiKey, "user", "prefix", connection.alias)
    for api_key in keys_with_users(key[: ApiKey.PREFIX_LENGTH]):
        if hmac.compare_digest(api_key.key_hash, key_hash):
            if not api_key.user.is_active:
                return None
            now = timezone.now()
            if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
                ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            return api_key.user
    return None


PREFERENCES = ("language", "time_zone", "email_notifications")


def user_preferences_update(*, user: User, language: str, time_zone: str, email_notifications: bool) -> None:
    """Saves the customer's language, time zone and email choice. Raises ValidationError for a language
    or time zone the panel does not know (the form refuses them first)."""
    values = {"language": language, "time_zone": time_zone, "email_notifications": email_notifications}
    for name, value in values.items():
        setattr(user, name, User._meta.get_field(name).clean(value, user))
    user.save(update_fields=PREFERENCES)


def user_language_set(*, user: User, language: str) -> None:
    """The language chosen in the header's switcher, remembered for the customer's next visits and emails."""
    user.language = User._meta.get_field("language").clean(language, user)
    user.save(update_fields=["language"])


def user_last_language_set(*, user: User, language: str) -> None:
    """Remembers the language of a sign-in (one of the panel's, else nothing); writes only a change."""
    if language in dict(settings.LANGUAGES) and user.last_language != language:
        User.objects.filter(pk=user.pk).update(last_language=language)
        user.last_language = language
