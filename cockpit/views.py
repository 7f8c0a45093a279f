"""`/healthz` for load balancers and the Docker HEALTHCHECK, `/metrics` for Prometheus."""

import hmac
import ipaddress

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from .health import health
from .metrics import metrics_text


@never_cache
@require_safe
def healthz(request):
    """200 when every check passes, else 503; always JSON."""
    report = health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@never_cache
@require_safe
def metrics(request):
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)


def _refusal(request) -> JsonResponse | None:
    """None for a scraper we know (the right bearer token, or an allowed address); else 401 when a token
    would open the door, 403 when none can (METRICS_TOKEN unset)."""
    if _token_matches(request) or _allowed_address(request):
        return None
    if settings.METRICS_TOKEN:
        response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return JsonResponse({"error": "Forbidden."}, status=403)


def _token_matches(request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = settings.METRICS_TOKEN
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    )


def _allowed_address(request) -> bool:
    if not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        # The client address as allauth's rate limits see it (TRUSTED_PROXY_COUNT, settings.py).
        address = ipaddress.ip_address(get_adapter(request).get_client_ip(request))
    except (ImproperlyConfigured, PermissionDenied, ValueError):
        return False
    return any(
        address in ipaddress.ip_network(allowed, strict=False) for allowed in settings.METRICS_ALLOWED_IPS
    )
