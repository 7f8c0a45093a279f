"""Our API v2 endpoint past the pages' middleware.

The endpoint authenticates by its `key` field alone, answers JSON in English and is never cached: none of
the session, locale, CSRF, authentication, preferences, messages, htmx, allauth, two-factor or axes
middleware changes anything it does, yet together they were about a third of an `add`'s time. So this
middleware, right after SecurityMiddleware (HTTPS redirect, HSTS and the other security headers still
apply), hands the endpoint's requests straight to the view. Every other path, the API docs page and
/api/v2/<anything else> included, goes the usual way.
"""

from django.urls import reverse

from .views import endpoint


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.paths: frozenset[str] | None = None  # the urlconf may not be loaded yet when this is made

    def __call__(self, request):
        if self.paths is None:
            self.paths = frozenset({reverse("api:endpoint"), reverse("api:endpoint_slash")})
        if request.path not in self.paths:
            return self.get_response(request)
        response = endpoint(request)
        # What XFrameOptionsMiddleware would add: a JSON answer is no page to frame either.
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
