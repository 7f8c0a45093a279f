"""Signals the affiliates app listens to: a sign-up through a referral link, orders that finished."""

import logging

from allauth.account.signals import user_signed_up
from django.db import transaction
from django.dispatch import receiver

from orders.models import Order
from orders.signals import orders_finished

from .commissions import commissions_earn
from .referrals import COOKIE_NAME, referral_attribute

log = logging.getLogger(__name__)


@receiver(user_signed_up, dispatch_uid="affiliates.signed_up")
def attribute_sign_up(sender, request, user, **kwargs):
    """The referral cookie the new customer's browser carries attributes them, once. Attribution never
    fails a sign-up: whatever goes wrong is logged, and the customer is nobody's."""
    code = request.COOKIES.get(COOKIE_NAME) if request is not None else None
    if not code:
        return
    try:
        with transaction.atomic():
            referral_attribute(user=user, code=code)
    except Exception:
        log.exception("Referral of user %s not recorded", user.pk)


@receiver(orders_finished, sender=Order, dispatch_uid="affiliates.orders_finished")
def earn_commissions(sender, orders, **kwargs):
    commissions_earn(orders=orders)
