from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from catalog.models import Category, Provider, Service

pytestmark = pytest.mark.django_db


def make_services(count, *, category="Instagram", enabled=True, provider=None, **fields):
    provider = (
        provider
        or Provider.objects.get_or_create(
            name="P", defaults={"api_url": "https://p.example/api/v2", "api_key": "k"}
        )[0]
    )
    group, _ = Category.objects.get_or_create(name=category)
    start = Service.objects.count()
    return Service.objects.bulk_create(
        Service(
            provider=provider,
            upstream_id=str(start + i),
            upstream_name=fields.get("upstream_name", f"{category} service {start + i}"),
            category=group,
            rate=Decimal("1"),
            cost_rate=Decimal("1"),
            price_rate=fields.get("price_rate", Decimal("1.3")),
            min_quantity=10,
            max_quantity=1000,
            refill=fields.get("refill", False),
            cancel=fields.get("cancel", False),
            is_enabled=enabled,
        )
        for i in range(count)
    )


def test_it_lists_enabled_services_grouped_by_category_without_login(client):
    make_services(2, category="Instagram", refill=True)
    make_services(1, category="TikTok", cancel=True)
    make_services(1, category="Hidden", enabled=False)

    response = client.get("/services/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="service-row"') == 3
    assert html.index("Instagram") < html.index("TikTok")
    assert "Hidden" not in html
    assert "$1.30" in html and "Refill" in html and "Cancel" in html


def test_services_of_an_inactive_provider_are_not_listed(client):
    (service,) = make_services(1)
    Provider.objects.update(is_active=False)

    assert f'data-service-id="{service.pk}"' not in client.get("/services/").content.decode()


def test_search_matches_names_categories_and_ids(client):
    make_services(2, category="Instagram")
    (tiktok,) = make_services(1, category="TikTok", upstream_name="TikTok Views fast")

    by_name = client.get("/services/", {"q": "views fast"}).content.decode()
    by_category = client.get("/services/", {"q": "instagram"}).content.decode()
    by_id = client.get("/services/", {"q": f"#{tiktok.pk}"}).content.decode()

    assert by_name.count('class="service-row"') == 1
    assert by_category.count('class="service-row"') == 2
    assert f'data-service-id="{tiktok.pk}"' in by_id


def test_the_category_filter_and_htmx_partial(client):
    make_services(2, category="Instagram")
    make_services(1, category="TikTok")
    tiktok = Category.objects.get(name="TikTok")

    response = client.get("/services/", {"category": tiktok.pk}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="service-table"')
    assert "<html" not in html
    assert html.count('class="service-row"') == 1


@override_settings(CATALOG_PAGE_SIZE=5)
def test_pages_keep_the_filters(client):
    make_services(12)

    first = client.get("/services/", {"q": "instagram"}).content.decode()
    third = client.get("/services/", {"q": "instagram", "page": 3}).content.decode()

    assert "Page 1 of 3" in first and 'href="?q=instagram&amp;page=2"' in first
    assert third.count('class="service-row"') == 2


@pytest.mark.parametrize(
    "params",
    [
        {"category": "abc"},
        {"category": "²"},
        {"category": "9" * 25},
        {"q": "²"},
        {"q": "#" + "9" * 30},
        {"page": "999"},
        {"page": "-1"},
        {"q": "x" * 500},
    ],
)
def test_odd_parameters_still_give_a_page(client, params):
    make_services(3)

    assert client.get("/services/", params).status_code == 200


@pytest.mark.parametrize("count", [5, 200])
def test_a_page_takes_a_constant_number_of_queries(client, count, django_assert_max_num_queries):
    make_services(count // 2, category="A")
    make_services(count - count // 2, category="B")

    with django_assert_max_num_queries(4):
        client.get("/services/")
    with django_assert_max_num_queries(3):
        client.get("/services/", {"q": "a"}, headers={"HX-Request": "true"})


def test_a_customer_with_a_discount_sees_their_own_rate(client):
    make_services(1, price_rate=Decimal("2.0000"))
    user = get_user_model().objects.create_user("ann", password="pw-ann-123456")
    if not hasattr(user, "discount_percent"):
        pytest.skip("discount_percent arrives with the accounts issue")
    user.discount_percent = Decimal("25")
    user.save()
    client.force_login(user)

    html = client.get("/services/").content.decode()

    assert "$1.50" in html and "$2.00" not in html
