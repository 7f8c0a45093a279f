import re

from django.conf import settings
from django.core.checks import Error, register

RATE = re.compile(r"\d+/\d*[smhd]?")


@register()
def check_api_rate_limit(app_configs, **kwargs):
    """A malformed API_RATE_LIMIT or API_BAD_KEY_LIMIT would make every API request fail; say so at
    start-up instead."""
    return [
        Error(
            f"{name}={getattr(settings, name)!r} is not a rate.",
            hint='Write it as count/period, e.g. "600/m" (periods: s, m, h, d).',
            id=code,
        )
        for name, code in (("API_RATE_LIMIT", "api.E001"), ("API_BAD_KEY_LIMIT", "api.E002"))
        if not RATE.fullmatch(getattr(settings, name).strip())
    ]
