"""Writes for the API: idempotent placement."""

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyKey
from .selectors import idempotency_key_get


class IdempotencyKeyReused(Exception):
    """The key was first used for a different request."""


def request_fingerprint(fields: Mapping[str, str]) -> str:
    """SHA-256 of the fields that make a request what it is, in a stable order."""
    canonical = json.dumps(sorted((str(k), str(v)) for k, v in fields.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_answer(*, user, key: str, fingerprint: str, produce: Callable[[], Any]) -> Any:
    """The answer stored for this key, else `produce()`'s, stored with it in one transaction.

    The key row is inserted before `produce` runs, so a concurrent request with the same key waits on the
    unique constraint, fails, and returns the winner's answer: one order, however clients race. When
    `produce` raises, nothing is stored (nothing happened, so the retry runs again). Raises
    IdempotencyKeyReused when the key was first used for a different request.
    """
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint)
            answer = produce()
            record.answer = answer
            record.save(update_fields=["answer"])
            return answer
    except IntegrityError:
        stored = idempotency_key_get(user=user, key=key)
        if stored is None:  # not a duplicate key: some other constraint
            raise
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    return stored.answer


def idempotency_keys_purge(*, older_than_hours: int) -> int:
    """Forgets stored answers older than the window in which clients retry; returns how many."""
    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
