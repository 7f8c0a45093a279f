import re

from django.conf import settings
from django.core.checks import Error, register

RATE = re.compile(r"\d+/\d*[smhd]?")


@register()
def check_api_rate_limit(app_configs, **kwargs):
    """A malformed API_RATE_LIMIT would make every API request fail; say so at start-up instead."""
    if RATE.fullmatch(settings.API_RATE_LIMIT.strip()):
        return []
    return [
        Error(
            f"API_RATE_LIMIT={settings.API_RATE_LIMIT!r} is not a rate.",
            hint='Write it as count/period, e.g. "600/m" (periods: s, m, h, d).',
            id="api.E001",
        )
    ]
