from django.conf import settings


def panel(request):
    return {
        "PANEL_NAME": settings.PANEL_NAME,
        "PANEL_CURRENCY": settings.PANEL_CURRENCY,
        "LIVE_POLL_SECONDS": settings.LIVE_POLL_SECONDS,
        "MASS_ORDER_MAX_LINES": settings.MASS_ORDER_MAX_LINES,
    }
