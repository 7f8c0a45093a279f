"""One-time tokens for the staff forms that move money (admin's credit form, an order placed for a
customer): Back then Save, a reload or a second tab moves the money once.

A token made afresh for every page shown was the flaw: Back reloads the page from history, which gets a
new token, the browser refills the fields, and Save moves the money again. Here a GET without a token
redirects to the same address with a fresh one in its query string, so the browser's history entry carries
it: Back, reload and a copied tab show the same token, and what it saved (a ledger row, an order, under a
unique key) is found instead of made twice.

A token is `<key>:<signature>` (django.core.signing), salted per form and per staff user: one made for
somebody else or for another form is refused. Its key (32 hex digits) is what the service stores.
"""

import re
import secrets
from dataclasses import dataclass

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

PARAM = "once"  # the query string's name for the token
MAX_LENGTH = 128  # a form field holding a token: 32 + 1 + 43 characters, with room to spare
_KEY = re.compile(r"[0-9a-f]{32}")

REFUSED = (
    "This form has no valid one-time token (it was opened by another staff member, or altered): nothing "
    "was saved. Open a fresh form."
)


@dataclass(frozen=True)
class Once:
    """The token a request carries for a form (empty if none) and, when it is valid for this staff member
    and this form, its key; else the key is None."""

    token: str
    key: str | None

    @property
    def valid(self) -> bool:
        return self.key is not None


def _signer(request: HttpRequest, form: str) -> signing.Signer:
    return signing.Signer(salt=f"reseller.once.{form}.{request.user.pk}")


def once_issue(request: HttpRequest, *, form: str) -> str:
    """A fresh token of `form` for the staff member of `request`."""
    return _signer(request, form).sign(secrets.token_hex(16))


def once_read(request: HttpRequest, *, form: str, field: str) -> Once:
    """The token of this request: on a POST the form's hidden `field` (else the address's), on a GET the
    address's."""
    posted = request.POST.get(field, "") if request.method == "POST" else ""
    token = (posted or request.GET.get(PARAM, "")).strip()[:MAX_LENGTH]
    try:
        key = _signer(request, form).unsign(token)
    except signing.BadSignature:
        return Once(token, None)
    return Once(token, key if _KEY.fullmatch(key) else None)


def once_redirect(request: HttpRequest, *, form: str) -> HttpResponseRedirect:
    """The same address with a fresh token in its query string (its other parameters kept)."""
    query = request.GET.copy()
    query[PARAM] = once_issue(request, form=form)
    return no_store(HttpResponseRedirect(f"{request.path}?{query.urlencode()}"))


def fresh_url(request: HttpRequest) -> str:
    """The address without its token: opening it gives a fresh form."""
    query = request.GET.copy()
    query.pop(PARAM, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def no_store(response: HttpResponse) -> HttpResponse:
    """Never kept by the browser or a proxy: Back asks the server again, which knows what was saved."""
    add_never_cache_headers(response)
    return response
