from django.db.models import Q, QuerySet

from reseller.params import whole_number

from .models import Category, FavouriteService, Service


def service_list_for_catalog(
    *, search: str = "", category_id: int | None = None, favourites_of=None
) -> QuerySet[Service]:
    """What customers can buy: enabled services of active providers, in catalog order; with
    `favourites_of` (a user), only those this customer starred."""
    services = Service.objects.filter(is_enabled=True, provider__is_active=True).select_related("category")
    if category_id:
        services = services.filter(category_id=category_id)
    if favourites_of is not None:
        services = services.filter(favourites__user=favourites_of)  # one row at most per user: no duplicates
    search = search.strip()
    if search:
        match = (
            Q(name__icontains=search)
            | Q(name="", upstream_name__icontains=search)
            | Q(category__name__icontains=search)
        )
        if (number := whole_number(search.lstrip("#"))) is not None:
            match |= Q(pk=number)
        services = services.filter(match)
    return services.order_by("category__sort_order", "category__name", "sort_order", "id")


def category_list_for_catalog() -> QuerySet[Category]:
    return (
        Category.objects.filter(services__is_enabled=True, services__provider__is_active=True)
        .distinct()
        .order_by("sort_order", "name")
    )


def favourite_service_ids(*, user) -> set[int]:
    """The ids of the services this customer starred; none for an anonymous visitor."""
    if not user.is_authenticated:
        return set()
    return set(FavouriteService.objects.filter(user=user).values_list("service_id", flat=True))
