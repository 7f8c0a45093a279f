from decimal import Decimal

import pytest
from django.utils import translation

from catalog.models import Provider, Service
from catalog.service_types import SELLABLE_TYPES
from orders.errors import OrderError
from orders.models import Order, OrderEvent, Status
from orders.placement import order_place
from reseller.wallet.models import LedgerEntry
from tests.factories import funded_user
from tests.helpers import balance_of

pytestmark = pytest.mark.django_db

LINK = "https://instagram.com/p/abc"


def test_placing_charges_once_snapshots_prices_and_queues_submission_after_commit(
    alice, likes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        order = order_place(user=alice, service=likes, link=LINK, quantity="1000")

    assert (order.status, order.quantity, order.rate, order.charge) == (
        Status.QUEUED,
        1000,
        Decimal("0.546"),
        Decimal("0.546"),
    )
    assert (order.cost_rate, order.cost) == (Decimal("0.42"), Decimal("0.42"))
    assert balance_of(alice) == Decimal("99.454")
    charge = LedgerEntry.objects.get(order_id=order.pk)
    assert (charge.kind, charge.amount) == (LedgerEntry.Kind.CHARGE, Decimal("-0.546"))
    assert list(order.events.values_list("new_status", "source")) == [("queued", "placement")]
    assert len(callbacks) == 1, "submission is queued once, after the commit"
    assert len(order.public_id) >= 16 and not order.public_id.isdigit()


def test_later_price_changes_never_touch_a_placed_order(alice, likes):
    order = order_place(user=alice, service=likes, link=LINK, quantity=1000)

    Service.objects.filter(pk=likes.pk).update(price_rate=Decimal("9"))

    assert Order.objects.get(pk=order.pk).charge == Decimal("0.546")


def test_the_charge_rounds_up_to_the_stored_precision(alice, synced):
    reel_views = Service.objects.get(provider=synced, upstream_id="3")  # 0.0055 per 1000, min 100

    order = order_place(user=alice, service=reel_views, link=LINK, quantity=101)

    assert order.charge == Decimal("0.00056")  # 0.0005555 rounded up


@pytest.mark.parametrize(
    ("fields", "message", "code"),
    [
        ({"quantity": "9"}, "The quantity must be at least 10.", "min"),
        ({"quantity": "0"}, "The quantity must be at least 10.", "min"),
        ({"quantity": "50001"}, "The quantity can be at most 50,000.", "max"),
        ({"quantity": "1000000000000"}, "The quantity can be at most 50,000.", "max"),
        ({"quantity": "9" * 5000}, "The quantity can be at most 50,000.", "max"),
        ({"quantity": "-10"}, "The quantity must be at least 10.", "quantity"),
        ({"quantity": "-" + "9" * 5000}, "The quantity must be at least 10.", "quantity"),
        ({"quantity": "ten"}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": "10.5"}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": "1,000"}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": "²"}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": "--10"}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": ""}, "Enter the quantity as a whole number.", "quantity"),
        ({"quantity": None}, "Enter the quantity as a whole number.", "quantity"),
        ({"link": "ftp://example.com/x"}, "Enter a valid http:// or https:// link.", "link"),
        ({"link": "instagram.com/p/abc"}, "Enter a valid http:// or https:// link.", "link"),
        ({"link": "javascript:alert(1)"}, "Enter a valid http:// or https:// link.", "link"),
        (
            {"link": "https://example.com/" + "a" * 2030},
            "The link is too long (at most 2,048 characters).",
            "link",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_charged_or_created(alice, likes, fields, message, code):
    arguments = {"link": LINK, "quantity": "100", **fields}

    with pytest.raises(OrderError) as refused:
        order_place(user=alice, service=likes, **arguments)

    assert (str(refused.value.message), refused.value.code) == (message, code)
    assert refused.value.field == ("link" if "link" in fields else "quantity")
    assert not Order.objects.exists() and not OrderEvent.objects.exists()
    assert balance_of(alice) == Decimal("100")


def test_a_link_of_exactly_2048_characters_is_fine(alice, likes):
    link = "https://example.com/" + "a" * (2048 - 20)

    assert order_place(user=alice, service=likes, link=link, quantity=10).link == link


@pytest.mark.parametrize("case", ["disabled", "unsupported", "inactive provider", "missing"])
def test_services_that_cannot_be_sold_are_refused(alice, likes, case):
    service = likes
    if case == "disabled":
        Service.objects.filter(pk=likes.pk).update(is_enabled=False)
        service = Service.objects.get(pk=likes.pk)
    elif case == "unsupported":
        service = Service.objects.exclude(type__in=SELLABLE_TYPES).first()
    elif case == "inactive provider":
        Provider.objects.update(is_active=False)
        service = Service.objects.select_related("provider").get(pk=likes.pk)
    else:
        service = None

    with pytest.raises(OrderError, match="This service is not available"):
        order_place(user=alice, service=service, link=LINK, quantity=100)

    assert not Order.objects.exists()


def test_insufficient_funds_creates_nothing(likes):
    poor = funded_user("0.10", username="bob")

    with pytest.raises(OrderError) as refused:
        order_place(user=poor, service=likes, link=LINK, quantity=1000)

    assert refused.value.code == "funds"
    assert "Insufficient funds" in refused.value.message
    assert not Order.objects.exists() and not LedgerEntry.objects.filter(kind="charge").exists()
    assert balance_of(poor) == Decimal("0.1")


def test_a_package_is_one_unit_at_its_rate(alice, synced):
    package = Service.objects.get(provider=synced, upstream_id="6")  # 2.90 upstream, sold at 3.77

    order = order_place(user=alice, service=package, link=LINK, quantity="5000")

    assert (order.quantity, order.charge, order.cost) == (1, Decimal("3.77"), Decimal("2.9"))


def test_custom_comments_count_their_lines(alice, synced):
    comments = Service.objects.get(provider=synced, upstream_id="4")  # min 5

    order = order_place(
        user=alice, service=comments, link=LINK, comments="Nice!\n\n  Love it \nWow\nGreat\nSuper\n"
    )

    assert order.quantity == 5
    assert order.comments == "Nice!\nLove it\nWow\nGreat\nSuper"


@pytest.mark.parametrize(
    ("lines", "message", "code"),
    [
        ("", "Enter the comments, one per line.", "comments"),
        (" \n\n  \n", "Enter the comments, one per line.", "comments"),
        ("one\ntwo", "Enter at least 5 comments, one per line.", "min"),
        (
            "\n".join(f"comment {n}" for n in range(10_001)),
            "Enter at most 10,000 comments, one per line.",
            "max",
        ),
        ("nice\x00", "Comments cannot contain control characters.", "quantity"),
    ],
)
def test_custom_comments_name_the_comments_when_they_are_missing_or_out_of_bounds(
    alice, synced, lines, message, code
):
    comments = Service.objects.get(provider=synced, upstream_id="4")  # min 5
    Service.objects.filter(pk=comments.pk).update(max_quantity=10_000)
    comments.refresh_from_db()

    with pytest.raises(OrderError) as refused:
        order_place(user=alice, service=comments, link=LINK, quantity="100", comments=lines)

    assert (str(refused.value), refused.value.code, refused.value.field) == (message, code, "comments")
    assert not Order.objects.exists()


def test_one_comment_is_singular(alice, synced):
    comments = Service.objects.get(provider=synced, upstream_id="4")
    Service.objects.filter(pk=comments.pk).update(min_quantity=1, max_quantity=1)
    comments.refresh_from_db()

    with pytest.raises(OrderError) as refused:
        order_place(user=alice, service=comments, link=LINK, comments="one\ntwo")

    assert str(refused.value) == "Enter at most 1 comment, one per line."


def test_messages_are_rendered_in_the_language_active_where_they_are_shown(alice, likes):
    Service.objects.filter(pk=likes.pk).update(max_quantity=10_000)
    likes.refresh_from_db()
    with translation.override("vi"), pytest.raises(OrderError) as refused:  # raised in one language...
        order_place(user=alice, service=likes, link=LINK, quantity="10001")

    with translation.override("en"):  # ...shown in another
        assert str(refused.value.message) == "The quantity can be at most 10,000."
    with translation.override("vi"):
        assert "10.000" in str(refused.value.message)  # the language's grouping


def test_a_customer_discount_lowers_the_charge_but_never_below_cost(likes):
    vip = funded_user("10", username="vip", discount_percent=Decimal("10"))
    friend = funded_user("10", username="friend", discount_percent=Decimal("90"))

    assert order_place(user=vip, service=likes, link=LINK, quantity=1000).charge == Decimal("0.4914")
    assert order_place(user=friend, service=likes, link=LINK, quantity=1000).charge == Decimal("0.42")


@pytest.mark.parametrize(
    "link", ["https://example.com/a\x00b", "https://example.com/a\nb", "https://example.com/\x7f"]
)
def test_links_with_control_characters_are_refused(alice, likes, link):
    with pytest.raises(OrderError, match="Enter a valid"):
        order_place(user=alice, service=likes, link=link, quantity=100)

    assert not Order.objects.exists()
