"""Django's error answers (400, 403, 404, 500) on the API's paths in JSON, elsewhere Django's own pages.

The endpoint answers its own errors; these are for what goes wrong before or around it, on /api/v2/...
(a foreign Host on a path under it, say): a client of the protocol must never get an HTML page.
"""

from django.views import defaults

from .views import answer

PREFIX = "/api/v2"


def _on_api(request) -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def bad_request(request, exception):
    if _on_api(request):
        return answer({"error": "Bad request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _on_api(request):
        return answer({"error": "Forbidden"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _on_api(request):
        return answer({"error": "Not found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _on_api(request):
        return answer({"error": "Internal error"}, status=500)
    return defaults.server_error(request)
