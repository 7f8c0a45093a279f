"""What a customer reads on the order pages: one poll for the whole list, progress, statuses they know,
no operator text, and the small things that make a page look trustworthy."""

import re
from decimal import Decimal

import pytest

from orders.models import Order, Status
from orders.moves import order_move
from tests.factories import OrderFactory
from tests.helpers import LINK, place

pytestmark = pytest.mark.django_db


POLLER = 'hx-get="/orders/live/" hx-include="#order-table .live-id" hx-trigger="every 1s"'


def live_poller(html):
    """The ids the list's one poller asks for (its rows' `.live-id` inputs), if it polls at all."""
    if POLLER not in html:
        return []
    return [",".join(re.findall(r'<input type="hidden" class="live-id" name="ids" value="([^"]+)">', html))]


def test_the_list_polls_once_for_all_its_live_orders(alice_client, alice, followers, completed):
    live = place(alice, followers, count=5)

    html = alice_client.get("/orders/").content.decode()

    assert html.count('hx-trigger="every') == 1, "one poller, however many orders are live"
    assert "/row/" not in html.split('<div id="order-table">')[1].split("hx-post")[0]
    (ids,) = live_poller(html)
    assert sorted(ids.split(",")) == sorted(order.public_id for order in live), "final orders are not asked"


def test_nothing_live_means_no_poll(alice_client, completed):
    assert live_poller(alice_client.get("/orders/").content.decode()) == []


def test_the_live_answer_is_only_the_customers_own_and_stops_when_nothing_is_live(
    alice_client, charlie_client, alice, followers, completed
):
    (running,) = place(alice, followers)

    theirs = charlie_client.get("/orders/live/", {"ids": running.public_id})
    ours = alice_client.get("/orders/live/", {"ids": f"{running.public_id},{completed[0].public_id}"})

    assert theirs.status_code == 286 and running.public_id not in theirs.content.decode()
    assert ours.status_code == 200
    assert live_poller(ours.content.decode()) == [running.public_id], "asks again only for the live one"


def test_progress_and_remains_as_a_customer_reads_them(alice_client, alice, followers):
    (order,) = place(alice, followers, quantity=1000)
    Order.objects.filter(pk=order.pk).update(status=Status.IN_PROGRESS, start_count=120, remains=400)

    detail = alice_client.get(order.get_absolute_url()).content.decode()
    listing = alice_client.get("/orders/").content.decode()

    assert 'data-progress="60"' in detail and "600 of 1,000" in detail and "120" in detail
    assert 'data-progress="60"' in listing and "600 of 1,000" in listing


def test_an_over_delivered_order_shows_zero_remains_and_says_by_how_much(alice_client, alice, followers):
    (order,) = place(alice, followers, quantity=1000)
    Order.objects.filter(pk=order.pk).update(status=Status.COMPLETED, remains=-5)

    detail = alice_client.get(order.get_absolute_url()).content.decode()
    listing = alice_client.get("/orders/").content.decode()

    assert '<dd id="order-remains">0</dd>' in detail and "-5" not in detail
    assert "over-delivered by 5" in detail and 'data-progress="100"' in detail
    assert "+5" in listing and "-5" not in listing


def test_review_reads_as_processing_and_the_operators_reason_stays_in_admin(
    alice_client, staff_client, alice, followers
):
    order = OrderFactory(user=alice, service=followers, status=Status.SUBMITTING)
    order_move(order, Status.NEEDS_REVIEW, source="submission", note="Ambiguous: read timeout at 10.0.0.7")
    Order.objects.filter(pk=order.pk).update(review_reason="Ambiguous: read timeout at 10.0.0.7")

    detail = alice_client.get(order.get_absolute_url()).content.decode()
    listing = alice_client.get("/orders/").content.decode()
    admin = staff_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    for page in (detail, listing):
        assert 'data-status="processing"' in page and "Needs review" not in page
        assert "read timeout" not in page and "10.0.0.7" not in page
    assert "read timeout" in admin


def test_the_status_filter_offers_the_customers_statuses(alice_client):
    html = alice_client.get("/orders/").content.decode()
    options = re.findall(r'<option value="(\w+)"', html.split('id="order-status"')[1].split("</select>")[0])

    assert options == [
        "pending",
        "in_progress",
        "processing",
        "completed",
        "partial",
        "canceled",
        "failed",
        "active",
        "paused",
        "expired",
    ]


def test_the_timeline_folds_internal_steps_and_shows_no_operator_notes(alice_client, alice, followers):
    (order,) = place(alice, followers)  # queued -> submitting -> pending
    from orders.moves import orders_note

    orders_note(orders=[order], note="Provider slow today, checked by Bob", source="operator")

    html = alice_client.get(order.get_absolute_url()).content.decode()
    timeline = html.split('id="order-timeline"')[1].split("</ol>")[0]

    assert timeline.count("<li>") == 1 and "Pending" in timeline
    assert "Bob" not in html


def test_the_catalogs_order_link_preselects_the_service(alice_client, followers):
    html = alice_client.get("/orders/new/", {"service": followers.pk}).content.decode()

    assert f'<option value="{followers.pk}" data-type="Default" selected>' in html
    assert 'id="quote"' in html and followers.display_name in html.split('id="quote"')[1]
    assert "field-error" not in html, "nothing typed yet, nothing to complain about"


def test_a_bad_field_is_marked_invalid_with_its_message_next_to_it(alice_client, followers):
    response = alice_client.post("/orders/new/", {"service": followers.pk, "link": LINK, "quantity": "abc"})

    html = response.content.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="error-quantity"' in html
    assert '<p class="field-error" id="error-quantity">Enter the quantity as a whole number.</p>' in html


def test_money_in_the_header_has_the_currencys_decimals(alice_client, alice):
    from reseller.wallet.services import wallet_move

    wallet_move(user=alice, amount=Decimal("42.62787"), kind="deposit", note="x")

    html = alice_client.get("/dashboard/").content.decode()

    assert '<span id="header-balance">$142.63</span>' in html and "142.62787" not in html


def test_dates_read_without_a_double_period(alice_client, alice):
    from reseller.accounts.services import api_key_rotate

    api_key_rotate(user=alice)

    html = alice_client.get("/account/").content.decode()

    assert ".." not in re.sub(r"<[^>]+>", "", html).replace("...", "")
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d", html)


def test_every_page_has_a_favicon(client):
    html = client.get("/").content.decode()
    response = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"


def test_a_vietnamese_browser_gets_vietnamese_pages(alice_client):
    html = alice_client.get("/dashboard/", headers={"Accept-Language": "vi-VN,vi;q=0.9"}).content.decode()

    assert '<html lang="vi"' in html
    assert "Đơn hàng" in html and "Số dư" in html
    assert "100,00\xa0US$" in html


def test_a_refill_asked_from_the_list_wakes_the_poller_with_the_rows_still_live(
    alice_client, alice, followers, completed
):
    (running,) = place(alice, followers)

    response = alice_client.post(
        f"/orders/{completed[0].public_id}/refill/",
        {"ids": [running.public_id]},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    poller = html.split('<div id="orders-live"')[1].split("</div>")[0]
    assert 'hx-swap-oob="true"' in poller and POLLER in poller, "the idle poller starts again"
    assert f'class="live-id" name="ids" value="{completed[0].public_id}"' in html, "the row is live now"


def test_the_live_answer_takes_the_ids_as_htmx_sends_them(alice_client, alice, followers):
    live = place(alice, followers, count=2)

    response = alice_client.get("/orders/live/", {"ids": [order.public_id for order in live]})

    html = response.content.decode()
    assert response.status_code == 200
    assert all(f'id="order-{order.public_id}" data-live="true" hx-swap-oob="true"' in html for order in live)


def test_a_failure_reason_reads_in_the_customers_language(alice_client, alice, followers):
    from orders.operators import order_fail_and_refund
    from orders.placement import order_place

    order = order_place(user=alice, service=followers, link=LINK, quantity=followers.min_quantity)  # queued
    order_fail_and_refund(order=order, by=None, reason="")

    url = order.get_absolute_url()
    english = alice_client.get(url).content.decode()
    vietnamese = alice_client.get(url, headers={"Accept-Language": "vi"}).content.decode()

    assert "Failed by an operator." in english
    assert "Quản trị viên đã hủy đơn hàng này." in vietnamese and "Failed by an operator." not in vietnamese
