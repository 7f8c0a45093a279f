"""A wallet for every user, however the user is made: sign-up, admin, `create_user` in a shell, seed data.

A post_save receiver is the one hook all of these pass through; it only makes an empty row (no business
rule lives here), and `wallet_move` would make a missing one anyway.
"""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .services import wallet_create_for_user


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="wallet_for_new_user")
def create_wallet_for_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        wallet_create_for_user(user=instance)
