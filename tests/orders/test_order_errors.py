"""What the order form says is wrong: each message names the field and the limit, in the page's language."""

from decimal import Decimal

import pytest

from orders.models import Order, Status
from orders.placement import order_place
from orders.submission import order_submit
from tests.helpers import balance_of

pytestmark = pytest.mark.django_db
LINK = "https://instagram.com/p/abc"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", "Enter the quantity as a whole number."),
        ("1.5", "Enter the quantity as a whole number."),
        ("", "Enter the quantity as a whole number."),
        ("-50", "The quantity must be at least 10."),
        ("9", "The quantity must be at least 10."),
        ("50001", "The quantity can be at most 50,000."),
        ("1000000000000", "The quantity can be at most 50,000."),
    ],
)
def test_a_bad_quantity_is_named_on_its_field(alice_client, alice, likes, quantity, message):
    response = alice_client.post("/orders/new/", {"service": likes.pk, "link": LINK, "quantity": quantity})

    assert response.status_code == 422
    assert f'id="error-quantity">{message}</p>' in response.content.decode()
    assert not Order.objects.exists() and balance_of(alice) == Decimal("100")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("", "Enter the comments, one per line."),
        ("one\ntwo", "Enter at least 5 comments, one per line."),
        ("\n".join(f"comment {n}" for n in range(501)), "Enter at most 500 comments, one per line."),
    ],
)
def test_custom_comments_name_the_comments_field(alice_client, comments, lines, message):
    response = alice_client.post(
        "/orders/new/", {"service": comments.pk, "link": LINK, "quantity": "", "comments": lines}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert f'id="error-comments">{message}</p>' in html
    assert "Quantity less than minimal" not in html
    assert not Order.objects.exists()


def test_the_quote_explains_the_same_way(alice_client, likes, comments):
    quantity = alice_client.get("/orders/new/quote/", {"service": likes.pk, "quantity": "-50"})
    lines = alice_client.get("/orders/new/quote/", {"service": comments.pk, "comments": "one"})

    assert 'data-field="quantity">The quantity must be at least 10.</p>' in quantity.content.decode()
    assert 'data-field="comments">Enter at least 5 comments, one per line.</p>' in lines.content.decode()


@pytest.mark.parametrize(
    ("fields", "number"),
    [
        ({"quantity": "1000000000000"}, "50.000"),  # numbers grouped the Vietnamese way
        ({"quantity": "abc"}, None),
        ({"quantity": "-50"}, "10"),
    ],
)
def test_in_vietnamese_the_form_still_explains_and_places_nothing(alice_client, likes, fields, number):
    response = alice_client.post(
        "/orders/new/", {"service": likes.pk, "link": LINK, **fields}, HTTP_ACCEPT_LANGUAGE="vi"
    )

    html = response.content.decode()
    assert response.status_code == 422 and response["Content-Language"] == "vi"
    assert 'id="error-quantity">' in html
    if number:
        assert number in html.split('id="error-quantity">')[1].split("</p>")[0]
    assert not Order.objects.exists()


def test_in_vietnamese_custom_comments_still_name_the_field(alice_client, comments):
    response = alice_client.post(
        "/orders/new/", {"service": comments.pk, "link": LINK, "comments": ""}, HTTP_ACCEPT_LANGUAGE="vi"
    )

    assert response.status_code == 422 and 'id="error-comments">' in response.content.decode()


def test_a_failed_order_shows_the_customer_s_reason_not_the_provider_s_words(
    alice_client, alice, likes, simulator
):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)
    simulator.simulator._balance = Decimal(0)  # our balance at the provider
    order_submit(order_id=order.pk)

    english = alice_client.get(order.get_absolute_url())
    vietnamese = alice_client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="vi")

    assert Order.objects.get(pk=order.pk).status == Status.FAILED
    assert "The provider could not accept this order. The charge was refunded to your balance." in (
        english.content.decode()
    )
    assert vietnamese.status_code == 200
    assert all("Not enough funds" not in page.content.decode() for page in (english, vietnamese))
