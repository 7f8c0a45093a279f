"""A post to the support pages (a ticket, a reply, staff's reply in admin) larger than its images may be
is refused from its Content-Length, before Django reads and spools a byte of it (the CSRF check, which reads
the form, runs after every middleware's request part), with a page saying what fits: 413."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .attachments import upload_limit


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and _declared_length(request) > upload_limit() and _ours(request):
            context = {
                "back": _back(request),
                "most": settings.SUPPORT_ATTACHMENTS_PER_MESSAGE,
                "size": settings.SUPPORT_ATTACHMENT_MAX_BYTES,
            }
            return render(request, "support/too_large.html", context, status=413)
        return self.get_response(request)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _ours(request) -> bool:
    prefixes = (reverse("support:list"), reverse("admin:support_ticket_changelist"))
    return request.path_info.startswith(prefixes)


def _back(request) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if safe else reverse("support:list")
