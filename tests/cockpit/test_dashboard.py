"""The admin's home is the dashboard: the figures as an operator reads them, for those allowed, in a
number of queries that does not grow with the orders."""

import re
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Provider
from cockpit.management.commands.bench_dashboard import generate
from cockpit.models import DayFigures
from orders.models import Order, Status
from reseller.wallet.models import LedgerEntry
from tests.cockpit.test_figures import four_orders  # noqa: F401  (a fixture)
from tests.factories import StaffFactory


def card(html, period):
    """The figures of one period's card, by name: {"revenue": "$1.42", ...}."""
    block = html.split(f'data-period="{period}"', 1)[1].split("</dl>", 1)[0]
    return {
        name: re.sub(r"<[^>]+>|\s+", " ", value).strip()
        for name, value in re.findall(r'data-figure="(\w+)"[^>]*>(.*?)</dd>', block, re.S)
    }


def test_the_dashboard_shows_the_days_figures(staff_client, four_orders):  # noqa: F811
    html = staff_client.get("/admin/").content.decode()
    today = card(html, 1)
    assert today["revenue"] == "$1.42"  # 2.184 charged - 0.7644 refunded
    assert today["cost"] == "$1.09"
    assert today["profit"] == "$0.33"
    assert today["margin"] == "23.1%"
    assert today["orders"] == "4"
    assert today["deposits"] == "$100.00 (1)".replace(" ", "  ")
    assert today["new_customers"] == "1"
    assert today["active_customers"] == "1"
    assert card(html, 30)["revenue"] == "$1.42"
    # Orders by status: open now, and finished in 30 days
    assert re.search(r'data-status="pending".*?<td class="ck-num">1</td>', html, re.S)
    assert re.search(r'data-status="completed".*?<td class="ck-num">1</td>', html, re.S)
    # Top customers and services by profit
    assert "Top customers by profit" in html and ">alice<" in html
    assert "chart-money" in html and "chart-orders" in html


def test_the_charts_show_30_or_90_days(staff_client, db):
    import json

    for days, expected in (("30", 30), ("90", 90), ("7", 30), ("x", 30)):
        html = staff_client.get(f"/admin/?days={days}").content.decode()
        data = re.search(r'id="chart-money" data-type="line" data-value="([^"]+)"', html).group(1)
        labels = json.loads(data.replace("&quot;", '"'))["labels"]
        assert len(labels) == expected


def test_providers_with_balance_days_left_and_sync(staff_client, db):
    low = Provider.objects.create(
        name="Low", api_url="http://127.0.0.1:9/api/v2", api_key="k" * 10, balance=Decimal("1"), low_balance=5
    )
    Provider.objects.create(
        name="Broken",
        api_url="http://127.0.0.1:9/api/v2",
        api_key="k" * 10,
        balance=Decimal("500"),
        last_sync_at=timezone.now(),
        last_sync_ok=False,
        last_sync_message="services: connection failed",
    )
    html = staff_client.get("/admin/").content.decode()
    row = html.split(f'data-provider="{low.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-warning="low-balance"' in row
    assert "services: connection failed" in html and "Failed" in html


def test_days_left_at_the_last_weeks_spend(staff_client, alice, likes, simulator):
    """Seven orders at 0.42 over the week: 0.42 a day; a balance of 2.1 lasts 5 days."""
    from tests.helpers import place

    provider = likes.provider
    Provider.objects.filter(pk=provider.pk).update(balance=Decimal("2.1"))
    place(alice, likes, count=7, quantity=1000)
    html = staff_client.get("/admin/").content.decode()
    row = html.split(f'data-provider="{provider.pk}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-figure="days_left">5.0<', row)
    assert "$0.42" in row  # spend per day
    # Fewer than LOW_BALANCE_DAYS (3) left is low as well
    Provider.objects.filter(pk=provider.pk).update(balance=Decimal("1"))
    row = staff_client.get("/admin/").content.decode().split(f'data-provider="{provider.pk}"', 1)[1]
    assert 'data-warning="low-balance"' in row.split("</tr>", 1)[0]


def test_stuck_orders_are_listed_oldest_first(staff_client, alice, likes, simulator, settings):
    from tests.helpers import place

    settings.ORDER_STUCK_AFTER = 3600
    old, older, fresh = place(alice, likes, count=3, quantity=1000)
    Order.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(hours=2))
    Order.objects.filter(pk=older.pk).update(status_changed_at=timezone.now() - timedelta(hours=5))
    html = staff_client.get("/admin/").content.decode()
    assert re.search(r'data-figure="stuck">2<', html)
    section = html.split('aria-label="Stuck orders"', 1)[1]
    assert section.index(f'data-order="{older.pk}"') < section.index(f'data-order="{old.pk}"')
    assert f'data-order="{fresh.pk}"' not in section


def test_a_status_change_is_recorded_for_stuck_orders(alice, likes, simulator):
    from tests.helpers import finish, place

    [order] = place(alice, likes, count=1, quantity=1000)
    before = Order.objects.get(pk=order.pk).status_changed_at
    [done] = finish(simulator, [order])
    assert done.status == Status.COMPLETED and done.status_changed_at > before


def test_staff_without_the_permissions_see_no_figures(db):
    staff = StaffFactory(is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = Client()
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    assert 'id="cockpit"' not in html
    assert "Revenue" not in html


def _queries(client):
    client.get("/admin/")  # the first view rolls up the closed days; then the count is what it stays
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/").status_code == 200
    return len(queries)


def _one_today(prefix):
    """One of the generated orders placed just now, so that both states have a today to compute."""
    order = Order.objects.filter(public_id__startswith=prefix).order_by("pk").first()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now(), finished_at=None)
    LedgerEntry.objects.filter(order=order).update(created_at=timezone.now())


def test_query_count_is_the_same_for_10_and_1000_orders(staff_client):
    generate(orders=10, days=60, customers=5, services=20, providers=2)
    _one_today("bench")
    few = _queries(staff_client)
    generate(orders=990, days=60, customers=100, services=20, providers=2, prefix="more")
    _one_today("more")
    DayFigures.objects.all().delete()  # those days were written after they were rolled up: again
    many = _queries(staff_client)
    assert Order.objects.count() == 1000
    assert few == many, f"{few} queries with 10 orders, {many} with 1000"


def test_a_customer_cannot_open_the_dashboard(alice_client):
    response = alice_client.get("/admin/")
    assert response.status_code == 302
    assert "Revenue" not in response.content.decode()
