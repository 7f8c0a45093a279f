"""Signals the accounts app listens to."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation

from .services import user_last_language_set


@receiver(user_logged_in, dispatch_uid="accounts.remember_language")
def remember_language(sender, request, user, **kwargs):
    """The language a customer signs in with is the language of their emails until they choose one."""
    user_last_language_set(user=user, language=translation.get_language_from_request(request))
