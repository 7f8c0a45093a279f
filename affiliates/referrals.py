"""Referral links: a visit to `/r/<code>` counts once per browser and leaves a cookie; a sign-up carrying
the cookie is attributed to the code's affiliate once (`Referral.referred` is one-to-one), never to the new
customer themself."""

import logging
import re

from django.db import IntegrityError, transaction
from django.db.models import F

from reseller.accounts.models import User

from .models import CODE_ALPHABET, CODE_LENGTH, Affiliate, Referral

log = logging.getLogger(__name__)

COOKIE_NAME = "affiliate"


CODE_PATTERN = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def _clean(code: str | None) -> str:
    """The code as stored, or "" for anything that cannot be one (never sent to the database)."""
    code = (code or "").strip().lower()
    return code if CODE_PATTERN.fullmatch(code) else ""


def affiliate_by_code(code: str | None) -> Affiliate | None:
    """The affiliate of an active customer with this code, or None."""
    code = _clean(code)
    if not code:
        return None
    return Affiliate.objects.select_related("user").filter(code=code, user__is_active=True).first()


def referral_visit(*, code: str, visitor: User | None, carried: str | None) -> Affiliate | None:
    """A visit through `code`'s link: the affiliate whose cookie the visitor should carry (None for an
    unknown code or the affiliate's own visit). Counts the visit of a visitor not logged in, unless the
    browser already carries this code's cookie."""
    affiliate = affiliate_by_code(code)
    if affiliate is None:
        return None
    if visitor is not None and visitor.is_authenticated:
        # The affiliate themself, or a customer already signed up: no sign-up can follow, no visit counts.
        return None if visitor.pk == affiliate.user_id else affiliate
    if _clean(carried) != affiliate.code:
        Affiliate.objects.filter(pk=affiliate.pk).update(visits=F("visits") + 1)
    return affiliate


def referral_attribute(*, user: User, code: str | None) -> Referral | None:
    """Attributes the new customer `user` to the affiliate with `code`, once: None when the code is unknown,
    when it is the customer's own (the same account, or the same email address) or when the customer was
    attributed already."""
    affiliate = affiliate_by_code(code)
    if affiliate is None or affiliate.user_id == user.pk:
        return None
    own_email, new_email = (affiliate.user.email or "").strip(), (user.email or "").strip()
    if own_email and own_email.lower() == new_email.lower():
        log.info("Referral refused: user %s signed up with the email of affiliate %s", user.pk, affiliate.pk)
        return None
    if Referral.objects.filter(referred=user).exists():
        return None
    try:
        with transaction.atomic():
            return Referral.objects.create(affiliate=affiliate, referred=user)
    except IntegrityError:  # attributed meanwhile by another request: the first one stands
        return None
