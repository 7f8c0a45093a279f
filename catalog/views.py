from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from reseller.params import whole_number

from .selectors import category_list_for_catalog, favourite_service_ids, service_list_for_catalog
from .services import favourite_set, favourite_toggle, service_rate_for


@require_GET
def service_list(request):
    search = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")
    category_id = whole_number(category)
    favourites = request.GET.get("favourites") == "1" and request.user.is_authenticated
    services = service_list_for_catalog(
        search=search, category_id=category_id, favourites_of=request.user if favourites else None
    )
    page = Paginator(services, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    for service in page:
        service.customer_rate = service_rate_for(service=service, user=request.user)
    filters = {"q": search, "category": category_id, "favourites": 1 if favourites else None}
    context = {
        "page": page,
        "search": search,
        "category_id": category_id,
        "favourites": favourites,
        "favourite_ids": favourite_service_ids(user=request.user),
        "query": urlencode({name: value for name, value in filters.items() if value}),
    }
    if request.htmx:
        return render(request, "catalog/service_list.html#service-table", context)
    context["categories"] = category_list_for_catalog()
    return render(request, "catalog/service_list.html", context)


@require_POST
def favourite(request, pk):
    """The star: `favourite=1` or `0` says the state wanted (a double click sets it twice rather than
    undoing itself); without it, a toggle. htmx gets the star back, a plain form goes back to the catalog."""
    back = _back_to(request)
    if not request.user.is_authenticated:
        login = redirect_to_login(back)
        return HttpResponseClientRedirect(login.url) if request.htmx else login
    service = get_object_or_404(service_list_for_catalog(), pk=pk)
    wanted = request.POST.get("favourite")
    if wanted in ("0", "1"):
        is_favourite = favourite_set(user=request.user, service=service, favourite=wanted == "1")
    else:
        is_favourite = favourite_toggle(user=request.user, service=service)
    if request.htmx:
        context = {"service": service, "is_favourite": is_favourite, "next": back}
        return render(request, "catalog/_favourite.html", context)
    return redirect(back)


def _back_to(request) -> str:
    """The page the star was on (the catalog with its filters), never another site's."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("catalog:service_list")
