from decimal import Decimal

import pytest

from orders.models import Order, OrderCheck, Status
from orders.placement import order_place
from orders.submission import order_submit
from reseller.wallet.services import wallet_move
from tests.helpers import balance_of, reload

pytestmark = pytest.mark.django_db
LINK = "https://instagram.com/p/abc"


def test_pages_need_a_login(client, alice, likes):
    order = order_place(user=alice, service=likes, link=LINK, quantity=100)

    for url in ["/orders/", "/orders/new/", f"/orders/{order.public_id}/", f"/orders/{order.public_id}/row/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_choosing_a_category_narrows_the_services(alice_client, likes):
    tiktok = likes.category.__class__.objects.get(name="TikTok")

    response = alice_client.get(
        "/orders/new/", {"category": tiktok.pk}, headers={"HX-Request": "true", "HX-Trigger-Name": "category"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="service-field"')
    assert html.count("<option value=") == 5 + 1  # TikTok's five, and "Choose a service"
    assert "Instagram" not in html


def test_the_quote_shows_limits_total_and_balance_after(alice_client, likes):
    html = alice_client.get(
        "/orders/new/quote/", {"service": likes.pk, "quantity": "2000", "link": ""}
    ).content.decode()

    assert "$0.546" in html and "10 / 50,000" in html
    assert 'id="quote-total">$1.09' in html
    assert 'id="quote-balance-after" class="">$98.91' in html
    assert "field-error" not in html, "no complaint about a link not typed yet"


def test_the_quote_explains_what_is_wrong(alice_client, likes):
    html = alice_client.get(
        "/orders/new/quote/", {"service": likes.pk, "quantity": "5", "link": "ftp://x"}
    ).content.decode()

    assert "The quantity must be at least 10." in html
    assert "Enter a valid http:// or https:// link." in html


def spend_down_to(user, amount):
    wallet_move(user=user, amount=Decimal(amount) - balance_of(user), kind="adjustment", note="test")


def test_the_quote_warns_about_insufficient_funds(alice_client, alice, likes):
    spend_down_to(alice, "10")

    html = alice_client.get("/orders/new/quote/", {"service": likes.pk, "quantity": "50000"}).content.decode()

    assert "not enough funds" in html


def test_placing_an_order_from_the_form(alice_client, alice, likes):
    response = alice_client.post("/orders/new/", {"service": likes.pk, "link": LINK, "quantity": "1000"})

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.public_id}/"
    assert (order.user, order.quantity, order.charge) == (alice, 1000, Decimal("0.546"))
    page = alice_client.get(response["Location"]).content.decode()
    assert f"Order {order.pk} placed: 1,000 for $0.55." in page and 'data-status="pending"' in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": "5"}, "The quantity must be at least 10."),
        ({"link": "not a link"}, "Enter a valid http:// or https:// link."),
        ({"quantity": "999999"}, "The quantity can be at most 50,000."),
        ({"quantity": "1000000000000"}, "The quantity can be at most 50,000."),
        ({"quantity": "-50"}, "The quantity must be at least 10."),
        ({"quantity": "abc"}, "Enter the quantity as a whole number."),
        ({"quantity": "50000"}, "Insufficient funds"),
        ({"service": "999999"}, "This service is not available."),
    ],
)
def test_a_bad_order_shows_the_reason_and_creates_nothing(alice_client, alice, likes, fields, message):
    spend_down_to(alice, "10")

    response = alice_client.post(
        "/orders/new/", {"service": likes.pk, "link": LINK, "quantity": "100", **fields}
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Order.objects.exists() and balance_of(alice) == Decimal("10")


def test_the_list_filters_by_status_and_searches_ids_and_links(alice_client, alice, likes):
    first = order_place(user=alice, service=likes, link="https://instagram.com/p/first", quantity=100)
    second = order_place(user=alice, service=likes, link="https://instagram.com/p/second", quantity=100)
    order_submit(order_id=second.pk)

    pending = alice_client.get("/orders/", {"status": "pending"}).content.decode()  # queued reads Pending
    completed = alice_client.get("/orders/", {"status": "completed"}).content.decode()
    by_link = alice_client.get("/orders/", {"q": "first"}).content.decode()
    by_id = alice_client.get(
        "/orders/", {"q": str(second.pk)}, headers={"HX-Request": "true"}
    ).content.decode()

    assert first.public_id in pending and second.public_id in pending
    assert first.public_id not in completed and second.public_id not in completed
    assert first.public_id in by_link and second.public_id not in by_link
    assert by_id.lstrip().startswith('<div id="order-table">') and second.public_id in by_id


def test_unfinished_rows_poll_and_final_rows_stop_with_286_and_the_new_balance(
    alice_client, alice, likes, simulator
):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)

    live = alice_client.get("/orders/live/", {"ids": order.public_id})
    assert live.status_code == 200
    assert (
        'hx-get="/orders/live/" hx-include="#order-table .live-id" hx-trigger="every 1s"'
        in live.content.decode()
    )
    assert f'class="live-id" name="ids" value="{order.public_id}"' in live.content.decode()

    from orders.polling import orders_poll

    placed = simulator.simulator.orders[int(reload(order).upstream_id)]
    placed.outcome, placed.final_remains = "Canceled", 1000
    simulator.simulator.advance(1000)
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()

    final = alice_client.get("/orders/live/", {"ids": order.public_id})
    html = final.content.decode()
    assert final.status_code == 286
    assert "hx-trigger" not in html and "Canceled" in html
    row = f'<tr class="order-row" id="order-{order.public_id}" data-live="false" hx-swap-oob="true">'
    assert "<template>" in html and row in html, "the row comes back as an out-of-band swap"
    assert '<span id="header-balance" hx-swap-oob="true">$100.00</span>' in html
    status = alice_client.get(f"/orders/{order.public_id}/row/", {"part": "status"}).content.decode()
    assert 'id="order-refund">$0.55' in status


def test_another_customers_orders_are_never_visible(charlie_client, alice, likes):
    order = order_place(user=alice, service=likes, link=LINK, quantity=100)

    assert charlie_client.get(f"/orders/{order.public_id}/").status_code == 404
    assert charlie_client.get(f"/orders/{order.public_id}/row/").status_code == 404
    assert charlie_client.get(f"/orders/{order.public_id}/row/", {"part": "status"}).status_code == 404
    listing = charlie_client.get("/orders/", {"q": str(order.pk)}).content.decode()
    assert order.public_id not in listing and "No orders match" in listing


def test_the_list_takes_a_constant_number_of_queries(
    alice_client, alice, likes, django_assert_max_num_queries
):
    for _ in range(30):
        order_place(user=alice, service=likes, link=LINK, quantity=10)

    with django_assert_max_num_queries(8):
        response = alice_client.get("/orders/")
    assert response.content.decode().count('class="order-row"') == 25
    assert reload(Order.objects.first()).status == Status.QUEUED


def test_the_dashboard_lists_recent_orders(alice_client, alice, likes):
    orders = [order_place(user=alice, service=likes, link=LINK, quantity=10) for _ in range(6)]

    html = alice_client.get("/dashboard/").content.decode()

    assert html.count('data-status="pending"') == 5
    assert (
        f'href="/orders/{orders[-1].public_id}/"' in html
        and f'href="/orders/{orders[0].public_id}/"' not in html
    )


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/orders/", {"q": "²"}),
        ("/orders/", {"q": "9" * 30}),
        ("/orders/new/", {"category": "²"}),
        ("/orders/new/", {"category": "9" * 25}),
        ("/orders/new/quote/", {"quantity": "²"}),
        ("/orders/new/quote/", {"quantity": "9" * 40}),
    ],
)
def test_odd_input_gets_a_page_not_an_error(alice_client, likes, url, params):
    params = {"service": likes.pk, **params} if "quote" in url else params

    response = alice_client.get(url, params)

    assert response.status_code == 200
    if "quote" in url:
        expected = "Enter the quantity as a whole number." if params["quantity"] == "²" else "at most 50,000"
        assert expected in response.content.decode()


def test_a_huge_quantity_at_a_big_rate_is_refused_not_a_crash(alice_client, alice, likes):
    from catalog.models import Service

    Service.objects.filter(pk=likes.pk).update(price_rate=Decimal("2000000"), max_quantity=10**15)

    quote = alice_client.get("/orders/new/quote/", {"service": likes.pk, "quantity": "999999999999"})
    placed = alice_client.post(
        "/orders/new/", {"service": likes.pk, "link": LINK, "quantity": "999999999999"}
    )

    assert quote.status_code == 200
    assert placed.status_code == 422 and not Order.objects.exists()


def test_submitting_the_same_order_form_twice_places_one_order(alice_client, alice, likes):
    form = alice_client.get("/orders/new/").content.decode()
    token = form.split('name="client_token" value="')[1].split('"')[0]
    fields = {"service": likes.pk, "link": LINK, "quantity": "1000", "client_token": token}

    first = alice_client.post("/orders/new/", fields)
    second = alice_client.post("/orders/new/", fields)

    order = Order.objects.get()
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    assert balance_of(alice) == Decimal("100") - order.charge
    assert (
        len(token) == 32
        and token
        != alice_client.get("/orders/new/")
        .content.decode()
        .split('name="client_token" value="')[1]
        .split('"')[0]
    )
