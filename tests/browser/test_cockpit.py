"""The operator's dashboard in a real Chromium at 1280 px: figures, charts drawn, nothing cut off; and the
orders list readable at that width."""

import pytest

from tests.factories import StaffFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def operator(db):
    return StaffFactory(username="operator")


def _fits(page):
    """Nothing wider than the window: no sideways scrolling of the page itself."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_dashboard_at_1280(open_page, live_server, operator, alice, likes, simulator, screenshot):
    from tests.cockpit.test_figures import end
    from tests.helpers import place

    completed, partial, canceled, _pending = place(alice, likes, count=4, quantity=1000)
    end(simulator, (completed, "Completed", 0), (partial, "Partial", 400), (canceled, "Canceled", 1000))

    page = open_page(1280, user=operator)
    page.goto(live_server.url + "/admin/")
    today = page.locator('[data-period="1"]')
    assert today.locator('[data-figure="revenue"]').inner_text() == "$1.42"
    assert today.locator('[data-figure="profit"]').inner_text() == "$0.33"
    assert today.locator('[data-figure="margin"]').inner_text() == "23.1%"
    # The three periods side by side, each card fully in the window
    boxes = [page.locator(f'[data-period="{days}"]').bounding_box() for days in (1, 7, 30)]
    assert boxes[0]["y"] == boxes[1]["y"] == boxes[2]["y"]
    assert all(box["x"] + box["width"] <= 1280 for box in boxes)
    # Chart.js drew both charts (a canvas it sized), with the 30-day labels
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-money'))")
    labels = page.evaluate("Chart.getChart(document.getElementById('chart-money')).data.labels.length")
    assert labels == 30
    assert (
        page.evaluate("Chart.getChart(document.getElementById('chart-orders')).data.datasets[0].data.at(-1)")
        == 4
    )
    # The sidebar says what needs a person, and the provider is listed
    assert page.locator("#cockpit").get_by_text("Simulator").count() >= 1
    assert _fits(page)
    screenshot(page)
    # 90 days
    page.get_by_role("link", name="90 days").click()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-money'))")
    assert page.evaluate("Chart.getChart(document.getElementById('chart-money')).data.labels.length") == 90


def test_orders_list_readable_at_1280(open_page, live_server, operator, alice, likes, simulator, screenshot):
    from tests.helpers import place

    place(alice, likes, count=3, quantity=1000)
    page = open_page(1280, user=operator)
    page.goto(live_server.url + "/admin/orders/order/")
    header = page.locator("#result_list thead")
    for column in ("Status", "Charge", "Profit"):
        cell = header.get_by_text(column, exact=True).first
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, f"{column} is cut off"
    assert page.locator("#result_list tbody tr").first.get_by_text("$0.55").count() >= 1
    screenshot(page)
