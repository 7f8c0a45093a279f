from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Category, Provider, Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123456")
    client.force_login(admin)
    return client


def run_action(client, model, action, ids):
    return client.post(
        f"/admin/catalog/{model}/", {"action": action, "_selected_action": ids}, follow=True
    ).content.decode()


def test_the_api_key_is_write_only(staff_client, provider):
    page = staff_client.get(f"/admin/catalog/provider/{provider.pk}/change/").content.decode()

    assert provider.api_key not in page
    staff_client.post(
        f"/admin/catalog/provider/{provider.pk}/change/",
        {
            "name": "Simulator",
            "api_url": provider.api_url,
            "api_key": "",
            "currency": "USD",
            "exchange_rate": "1",
            "markup_percent": "",
            "is_active": "on",
        },
    )
    provider.refresh_from_db()
    assert provider.api_key.startswith("sim-secret"), "an empty key field keeps the key"


def test_test_connection_shows_balance_and_currency(staff_client, provider):
    html = run_action(staff_client, "provider", "test_connection", [provider.pk])

    assert "Simulator: connected, balance $1,000.00" in html


def test_test_connection_reports_a_dead_provider(staff_client):
    dead = Provider.objects.create(name="Dead", api_url="http://127.0.0.1:9/api/v2", api_key="key-123456")

    html = run_action(staff_client, "provider", "test_connection", [dead.pk])

    assert "Dead: Unreachable" in html and "key-123456" not in html


def test_sync_now_imports_and_the_changelist_shows_cost_price_and_margin(staff_client, provider):
    html = run_action(staff_client, "provider", "sync_now", [provider.pk])
    assert "Simulator: 39 new" in html

    listing = staff_client.get("/admin/catalog/service/", {"q": "Instagram Likes"}).content.decode()
    assert "$0.42" in listing and "$0.546" in listing and "$0.126 (30%)" in listing


def test_changing_a_providers_markup_reprices_its_services(staff_client, synced):
    staff_client.post(
        f"/admin/catalog/provider/{synced.pk}/change/",
        {
            "name": "Simulator",
            "api_url": synced.api_url,
            "api_key": "",
            "currency": "USD",
            "exchange_rate": "2",
            "markup_percent": "10",
            "is_active": "on",
        },
    )

    likes = Service.objects.get(upstream_id="2")
    assert (likes.cost_rate, likes.price_rate) == (Decimal("0.84"), Decimal("0.924"))


def test_a_category_markup_reprices_its_services(staff_client, synced):
    tiktok = Category.objects.get(name="TikTok")

    staff_client.post(
        f"/admin/catalog/category/{tiktok.pk}/change/",
        {"name": "TikTok", "sort_order": "0", "markup_percent": "100", "fixed_rate": ""},
    )

    assert Service.objects.get(upstream_id="9").price_rate == Decimal("1.30")


UNKNOWN_TYPE = "Custom Type Beta"


def test_enabling_an_unsupported_service_is_refused_with_a_reason(staff_client, synced):
    poll = Service.objects.get(type=UNKNOWN_TYPE)  # a type the protocol does not know

    html = run_action(staff_client, "service", "enable", [poll.pk])

    assert "not supported yet" in html
    poll.refresh_from_db()
    assert poll.is_enabled is False


def test_the_service_form_refuses_enabling_an_unsupported_type(staff_client, synced):
    poll = Service.objects.get(type=UNKNOWN_TYPE)  # a type the protocol does not know

    response = staff_client.post(
        f"/admin/catalog/service/{poll.pk}/change/",
        {
            "name": "",
            "description": "",
            "category": poll.category_id,
            "sort_order": "0",
            "is_enabled": "on",
            "markup_percent": "",
            "fixed_rate": "",
        },
    )

    assert response.status_code == 200
    assert "not supported yet" in response.content.decode()
