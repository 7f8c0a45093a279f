"""Login protection: the username axes locks on, and two-factor authentication required of staff."""

from allauth.account.utils import filter_users_by_email
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


def axes_username(request, credentials=None) -> str | None:
    """The account a login attempt is for, so that axes counts failures per account and address.

    Allauth posts what was typed as `login` and passes it on as `username` (and `email`, for an address).
    Usernames and emails match without regard to case, and an email stands for its account's username:
    otherwise `Alice` or `alice@example.com` would each get a fresh count of failures after `alice` is
    locked out.
    """
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("login") or data.get("username")
    if not isinstance(value, str):
        return value
    value = value.strip().lower()
    if "@" in value:
        users = filter_users_by_email(value)
        if len(users) == 1:
            return users[0].get_username().lower()
    return value


class AxesBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login that comes with a request, which every login form and view does.

    A call to `authenticate()` without one comes from code, not from someone guessing over HTTP (Django's
    test client `login()`, a shell); axes cannot tell its address and would raise, so it is let through to
    the other backends, which still check the password.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class StaffTwoFactorMiddleware:
    """With STAFF_REQUIRE_2FA on, sends staff without a TOTP authenticator to set one up before any page
    but allauth's own (login, logout, two-factor setup, reauthentication)."""

    EXEMPT_URL_NAME_PREFIXES = ("account_", "mfa_")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_REQUIRE_2FA:
            return None
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return None
        match = request.resolver_match
        url_name = (match.url_name or "") if match else ""
        if url_name.startswith(self.EXEMPT_URL_NAME_PREFIXES) or url_name == "healthz":
            return None
        if match and match.app_name == "api" and url_name != "docs":
            return None  # the API authenticates by key, never by this session, and answers JSON only
        if is_mfa_enabled(user, types=[Authenticator.Type.TOTP]):
            return None
        messages.warning(request, _("Staff accounts must set up two-factor authentication first."))
        return redirect("mfa_activate_totp")
