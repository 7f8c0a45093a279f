"""The gateways' webhooks: thin. Each hands the raw body to its gateway's module and answers JSON: 200
when the notification was applied (or was a duplicate), 400 or 401 with a short error when it was refused,
which changes nothing. Refusals are logged with the reason, never with a secret or the body."""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .bank import sepay_webhook
from .errors import MAX_BODY, NotificationRefused
from .payos_links import payos_webhook
from .stripe_checkout import stripe_webhook

log = logging.getLogger(__name__)


def _receive(gateway: str, request, handle, answer: dict) -> JsonResponse:
    try:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > MAX_BODY:
            raise NotificationRefused("body too large")
        notification = handle(request.body)
    except NotificationRefused as error:
        log.warning("%s webhook refused from %s: %s", gateway, request.META.get("REMOTE_ADDR"), error.message)
        return JsonResponse({"error": error.message}, status=error.http_status)
    except Exception:  # a bug or the database down: JSON all the same, and the gateway retries later
        log.exception("%s webhook failed", gateway)
        return JsonResponse({"error": "internal error"}, status=500)
    return JsonResponse({**answer, "outcome": notification.outcome})


@csrf_exempt
@require_POST
def stripe(request):
    signature = request.headers.get("Stripe-Signature")
    return _receive(
        "stripe", request, lambda body: stripe_webhook(payload=body, signature=signature), {"received": True}
    )


@csrf_exempt
@require_POST
def payos(request):
    return _receive("payos", request, lambda body: payos_webhook(payload=body), {"success": True})


@csrf_exempt
@require_POST
def sepay(request):
    authorization = request.headers.get("Authorization")
    return _receive(
        "sepay",
        request,
        lambda body: sepay_webhook(authorization=authorization, payload=body),
        {"success": True},
    )
