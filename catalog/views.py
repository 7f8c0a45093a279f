from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reseller.params import whole_number

from .selectors import category_list_for_catalog, service_list_for_catalog
from .services import service_rate_for


@require_GET
def service_list(request):
    search = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")
    category_id = whole_number(category)
    services = service_list_for_catalog(search=search, category_id=category_id)
    page = Paginator(services, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    for service in page:
        service.customer_rate = service_rate_for(service=service, user=request.user)
    filters = {"q": search, "category": category_id}
    context = {
        "page": page,
        "search": search,
        "category_id": category_id,
        "query": urlencode({name: value for name, value in filters.items() if value}),
    }
    if request.htmx:
        return render(request, "catalog/service_list.html#service-table", context)
    context["categories"] = category_list_for_catalog()
    return render(request, "catalog/service_list.html", context)
