"""Our API v2 endpoint past the pages' middleware, and what a request must be before it is read.

The endpoint authenticates by its `key` field alone, answers JSON in English and is never cached: none of
the session, locale, CSRF, authentication, preferences, messages, htmx, allauth, two-factor or axes
middleware changes anything it does, yet together they were about a third of an `add`'s time. So this
middleware, first of all, hands the endpoint's requests straight to the view, and gives its answers
SecurityMiddleware's headers (HSTS, nosniff, referrer policy). Every other path, the API docs page and
/api/v2/<anything else> included, goes the usual way.

Before the view reads anything, a request is refused, in JSON, when its Host is not ours, when it came over
plain HTTP where HTTPS is required (SecurityMiddleware would redirect it, repeating a `?key=` of the query
string in `Location`), or when its body is larger than API_MAX_BODY_BYTES (said by Content-Length, before a
byte of it is read). A multipart body may carry fields, as some PHP clients send them, but no file: the
first file part ends the parsing, so nothing is spooled to disk.
"""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.files.uploadhandler import FileUploadHandler
from django.middleware.security import SecurityMiddleware
from django.urls import reverse

from .actions import ApiError
from .views import answer, endpoint

HTTPS_REQUIRED = "HTTPS is required: this request was sent unencrypted, so replace the API key it carried"
NO_FILES = "Files are not accepted"


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.security = SecurityMiddleware(get_response)  # for its response headers
        self.paths: frozenset[str] | None = None  # the urlconf may not be loaded yet when this is made

    def __call__(self, request):
        if self.paths is None:
            self.paths = frozenset({reverse("api:endpoint"), reverse("api:endpoint_slash")})
        if request.path not in self.paths:
            return self.get_response(request)
        refusal = _refusal(request)
        if refusal is None:
            request.upload_handlers = [_NoFiles(request)]
            response = endpoint(request)
        else:
            response = refusal
        response = self.security.process_response(request, response)
        # What XFrameOptionsMiddleware would add: a JSON answer is no page to frame either.
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def _refusal(request):
    try:
        request.get_host()
    except DisallowedHost:
        return answer({"error": "Unknown host"}, status=400)
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return answer({"error": HTTPS_REQUIRED})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return answer({"error": "Content-Length is not a number"}, status=400)
    if length > settings.API_MAX_BODY_BYTES:
        return answer({"error": f"Request too large (at most {settings.API_MAX_BODY_BYTES // 1024} KB)"})
    return None


class _NoFiles(FileUploadHandler):
    """Fields of a multipart body are read; the first file part ends it."""

    def new_file(self, *args, **kwargs):
        raise ApiError(NO_FILES)

    def receive_data_chunk(self, raw_data, start):  # never reached: new_file refuses first
        raise ApiError(NO_FILES)

    def file_complete(self, file_size):
        return None
