"""The API v2 endpoint and its docs page.

The endpoint answers JSON whatever happens, with HTTP 200 even for errors: the protocol's clients raise on
4xx/5xx before reading the body, so the message would be lost. It authenticates by the `key` field only
(never the session cookie, so it needs no CSRF token), and never logs the key.
"""

import logging
import re
import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from catalog.protocol import INCORRECT_REQUEST, INVALID_KEY
from reseller.accounts.selectors import api_key_get_for_user
from reseller.accounts.services import api_key_authenticate

from .actions import ACTIONS, COMMON_PARAMS, ApiError, Call, action_for, perform
from .limits import any_blocked, bad_key_count, blocked_for, usage_count
from .models import IdempotencyKey
from .openapi import openapi_document

log = logging.getLogger(__name__)

RATE_LIMITED = "Too many requests, retry later"
IDEMPOTENCY_KEY_MAX = IdempotencyKey._meta.get_field("key").max_length


@csrf_exempt
def endpoint(request):
    """Always in English, whatever the request's language: the protocol's texts are what clients parse."""
    with translation.override("en"):
        return _endpoint(request)


def _endpoint(request):
    started = time.monotonic()
    action_name, user_id = "-", None
    try:
        if request.method not in ("GET", "POST"):
            raise ApiError(INCORRECT_REQUEST)
        data = request.GET.dict()
        if request.method == "POST":
            data.update(request.POST.dict())
        action_name = data.get("action", "")[:40] or "-"
        if "\x00" in data.get("key", ""):
            raise _BadKey(None)
        if any("\x00" in value for value in data.values()):  # PostgreSQL refuses NUL in text; so do we
            raise ApiError(INCORRECT_REQUEST)
        user = (
            None if (address := _blocked_address(request)) else api_key_authenticate(key=data.get("key", ""))
        )
        if user is None:
            raise _BadKey(address)
        user_id = user.pk
        response = _rate_limit(request, user)
        if response is None:
            action = action_for(data.get("action", ""), data)
            if action is None:
                raise ApiError(INCORRECT_REQUEST)
            call = Call(user=user, data=data, idempotency_key=_idempotency_key(request))
            response = answer(perform(action, call))
    except _BadKey as exc:
        response = _bad_key(request, exc.blocked)
    except ApiError as exc:
        response = answer({"error": exc.message})
    except (SuspiciousOperation, MultiPartParserError):  # too many fields, a body too large, a bad body
        response = answer({"error": INCORRECT_REQUEST})
    except Exception:
        log.exception("api v2: %r by user %s failed", action_name, user_id)
        response = answer({"error": "Internal error"})
    log.info(
        "api v2: %r by user %s -> %s in %.0f ms",
        action_name,
        user_id,
        response.error or "ok",
        (time.monotonic() - started) * 1000,
    )
    return response


@csrf_exempt
def not_found(request, rest=""):
    """Anything under /api/v2/ that is not the endpoint: JSON too, never the HTML 404 page."""
    return answer({"error": "Not found"}, status=404)


def answer(body, *, status=200) -> JsonResponse:
    """The JSON answer, never cached, in English."""
    response = JsonResponse(body, safe=False, status=status)
    response.error = body.get("error") if isinstance(body, dict) else None  # for the log line
    response["Content-Language"] = "en"  # else LocaleMiddleware names the request's language
    add_never_cache_headers(response)
    return response


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApiError(f"Idempotency-Key is too long (at most {IDEMPOTENCY_KEY_MAX} characters)")
    return key or None


def _rate_limit(request, user) -> JsonResponse | None:
    """The over-the-limit answer, or None. Counted per customer (never by the key itself) in the Django
    cache, or in this process while the cache is down (reseller/api/limits.py)."""
    return _limited(usage_count(name=f"user:{user.pk}", rate=settings.API_RATE_LIMIT))


class _BadKey(Exception):
    def __init__(self, blocked: str | None):
        self.blocked = blocked  # the address, when it was refused before its key was looked at


def _blocked_address(request) -> str | None:
    if not any_blocked():
        return None
    address = _client_address(request)
    return address if blocked_for(address) else None


def _bad_key(request, blocked: str | None) -> JsonResponse:
    """A wrong (or missing) key: counted per address (API_BAD_KEY_LIMIT); over the limit, the address is
    refused until its window ends, so keys cannot be guessed at the speed of the API."""
    if blocked is not None:
        response = answer({"error": RATE_LIMITED})
        response["Retry-After"] = str(max(blocked_for(blocked), 1))
        return response
    address = _client_address(request)
    usage = bad_key_count(address=address, rate=settings.API_BAD_KEY_LIMIT)
    if not usage.over:
        return answer({"error": INVALID_KEY})
    log.warning("api v2: %s is over its limit of wrong keys; refused for %d s", address, usage.time_left)
    return _limited(usage)


def _client_address(request) -> str:
    """The client's address as the login limits see it (TRUSTED_PROXY_COUNT, settings.py)."""
    try:
        return get_adapter(request).get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):
        return "unknown"


def _limited(usage) -> JsonResponse | None:
    if not usage.over:
        return None
    response = answer({"error": RATE_LIMITED})
    if usage.time_left > 0:
        response["Retry-After"] = str(usage.time_left)
    return response


@require_GET
def openapi(request):
    """The OpenAPI description of the endpoint (reseller/api/openapi.py), for client generators and tests."""
    document = openapi_document(api_url=request.build_absolute_uri(reverse("api:endpoint")))
    return JsonResponse(document, json_dumps_params={"indent": 2})


@require_GET
def docs(request):
    api_url = request.build_absolute_uri(reverse("api:endpoint"))
    context = {
        "actions": ACTIONS,
        "common_params": COMMON_PARAMS,
        "api_url": api_url,
        "rate_limit": _rate_text(settings.API_RATE_LIMIT),
        "examples": [(action, action.curl(api_url), action.python(api_url)) for action in ACTIONS],
        "api_key": None,
        "new_key": None,
    }
    if request.user.is_authenticated:
        context["api_key"] = api_key_get_for_user(user=request.user)
    return render(request, "api/docs.html", context)


def _rate_text(rate: str) -> str:
    """ "600/m" as "600 requests a minute" (django-ratelimit's count/[multiplier]period)."""
    match = re.fullmatch(r"(\d+)/(\d*)([smhd])?", rate.strip())
    if not match:
        return rate
    count, multiplier, period = match.groups()
    unit = {"s": "second", "m": "minute", "h": "hour", "d": "day"}[period or "s"]
    per = f"every {multiplier} {unit}s" if multiplier and multiplier != "1" else f"a {unit}"
    return f"{count} requests {per}"
