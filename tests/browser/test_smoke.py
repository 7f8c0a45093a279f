import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_loads_htmx(live_server, page):
    page.goto(live_server.url + "/")

    assert page.title() == "Reseller"
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("window.htmx.version").startswith("2.")


def test_admin_login_page_is_served(live_server, page):
    page.goto(live_server.url + "/admin/")

    # The admin logs in through allauth's page (so axes and two-factor apply); its field is `login`.
    assert page.locator("input[name=login]").is_visible()
