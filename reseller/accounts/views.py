from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .selectors import api_key_get_for_user
from .services import api_key_rotate


@login_required
@require_GET
def account(request):
    context = {"api_key": api_key_get_for_user(user=request.user), "new_key": None}
    return render(request, "account/account.html", context)


@never_cache
@login_required
@require_POST
def api_key_rotate_view(request):
    """Makes a new key and shows it in this one response (never stored, never cached, never logged)."""
    new_key = api_key_rotate(user=request.user)
    context = {"api_key": api_key_get_for_user(user=request.user), "new_key": new_key}
    template = "account/account.html"
    if request.htmx:
        template += "#api-key"
    return render(request, template, context)
