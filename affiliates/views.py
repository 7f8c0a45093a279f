from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from reseller.money import format_money

from .models import Affiliate, PayoutStatus
from .payouts import PayoutRefused, payout_request
from .referrals import COOKIE_NAME, referral_visit
from .selectors import affiliate_figures


@require_safe  # GET, and HEAD for link checkers and previews
def referral_link(request, code):
    """`/r/<code>`: counts the visit, leaves the cookie and sends a visitor on to sign up. An unknown code
    goes home, without a cookie."""
    visitor = request.user if request.user.is_authenticated else None
    affiliate = referral_visit(code=code, visitor=visitor, carried=request.COOKIES.get(COOKIE_NAME))
    response = redirect("home" if visitor is not None or affiliate is None else "account_signup")
    if affiliate is not None:
        response.set_cookie(
            COOKIE_NAME,
            affiliate.code,
            max_age=settings.AFFILIATE_COOKIE_DAYS * 24 * 60 * 60,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@login_required
@require_GET
def affiliate_page(request):
    affiliate = Affiliate.objects.for_user(request.user)
    figures = affiliate_figures(affiliate=affiliate)
    minimum = settings.AFFILIATE_PAYOUT_MINIMUM
    context = {
        "affiliate": affiliate,
        "figures": figures,
        "link": request.build_absolute_uri(reverse("affiliates:referral", args=[affiliate.code])),
        "percent": affiliate.percent.normalize(),
        "minimum": minimum,
        "can_move": figures.available > 0 and figures.available >= minimum,
        "approval": settings.AFFILIATE_PAYOUT_APPROVAL,
        "cookie_days": settings.AFFILIATE_COOKIE_DAYS,
        "Status": PayoutStatus,
    }
    return render(request, "affiliates/affiliate.html", context)


@login_required
@require_POST
def payout_request_view(request):
    try:
        payout = payout_request(user=request.user)
    except PayoutRefused as refused:
        messages.error(request, str(refused))
    else:
        amount = format_money(payout.amount)
        if payout.status == PayoutStatus.PAID:
            messages.success(request, _("%(amount)s moved to your balance.") % {"amount": amount})
        else:
            messages.success(
                request,
                _("%(amount)s requested: it moves to your balance once approved.") % {"amount": amount},
            )
    return redirect("affiliates:page")
