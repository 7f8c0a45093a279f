import pytest
from playwright.sync_api import expect

from catalog.sync import provider_sync_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_narrows_the_list_without_a_reload(live_server, page, provider):
    provider_sync_services(provider=provider, enable_new=True)
    page.goto(live_server.url + "/services/")
    rows = page.locator(".service-row")
    assert rows.count() == 38
    page.evaluate("window.notReloaded = true")

    page.fill("#search", "tiktok")

    expect(rows).to_have_count(5)
    assert page.evaluate("window.notReloaded") is True
    assert "q=tiktok" in page.url
    assert {name.split()[0] for name in page.locator(".service-name").all_inner_texts()} == {"TikTok"}

    page.go_back()
    expect(rows).to_have_count(38)
