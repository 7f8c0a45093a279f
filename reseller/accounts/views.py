from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .forms import PreferencesForm
from .selectors import api_key_get_for_user
from .services import api_key_rotate, user_language_set, user_preferences_update


def _account_page(request, *, new_key=None, form=None, status=200):
    context = {
        "api_key": api_key_get_for_user(user=request.user),
        "new_key": new_key,
        "preferences_form": form or PreferencesForm(user=request.user),
    }
    return render(request, "account/account.html", context, status=status)


@login_required
@require_GET
def account(request):
    return _account_page(request)


@never_cache
@login_required
@require_POST
def api_key_rotate_view(request):
    """Makes a new key and shows it in this one response (never stored, never cached, never logged)."""
    new_key = api_key_rotate(user=request.user)
    if request.htmx:
        context = {"api_key": api_key_get_for_user(user=request.user), "new_key": new_key}
        return render(request, "account/account.html#api-key", context)
    return _account_page(request, new_key=new_key)


@login_required
@require_POST
def preferences_update(request):
    form = PreferencesForm(request.POST, user=request.user)
    if not form.is_valid():
        return _account_page(request, form=form, status=400)
    user_preferences_update(user=request.user, **form.cleaned_data)
    messages.success(request, _("Your preferences are saved."))
    response = redirect(reverse("accounts:account") + "#preferences")
    # The language cookie follows, so pages after logging out keep the choice (or the browser's again).
    if request.user.language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            request.user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@require_POST
def set_language(request):
    """The header's language switcher: remembers a signed-in customer's choice on their account, then lets
    Django set the cookie and go back to `next` (when it is one of our pages)."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language)
    return i18n.set_language(request)
