"""services, add, status (one and many) and balance, good and bad input, against the simulator."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.functional import lazy

from catalog.models import Service
from catalog.service_types import SELLABLE_TYPES
from orders.errors import OrderError
from orders.models import Order, OrderCheck, Status
from orders.polling import orders_poll
from orders.submission import order_submit
from reseller.api import actions
from reseller.wallet.models import Wallet
from tests.factories import OrderFactory
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


def balance_of(customer):
    return Wallet.objects.get(user=customer.user).balance


# services -------------------------------------------------------------------------------------------------


def test_services_lists_what_customers_can_buy_with_our_ids_rates_and_limits(alice, likes):
    answer = alice.call("services")

    sellable = Service.objects.filter(is_enabled=True)
    assert sorted(entry["service"] for entry in answer) == sorted(sellable.values_list("pk", flat=True))
    entry = next(entry for entry in answer if entry["service"] == likes.pk)
    assert entry == {
        "service": likes.pk,
        "name": "Instagram Likes [Instant]",
        "type": "Default",
        "category": "Instagram",
        "rate": "0.5460",
        "min": "10",
        "max": "50000",
        "refill": False,
        "cancel": True,
        "dripfeed": True,
    }


def test_services_leaves_out_disabled_and_unsupported_services(alice, likes):
    Service.objects.filter(pk=likes.pk).update(is_enabled=False)

    offered = {entry["service"] for entry in alice.call("services")}

    assert likes.pk not in offered
    unsupported = Service.objects.exclude(type__in=SELLABLE_TYPES)
    assert unsupported.exists() and not offered & set(unsupported.values_list("pk", flat=True))


def test_services_shows_the_customers_own_discounted_rate(alice, likes):
    type(alice.user).objects.filter(pk=alice.user.pk).update(discount_percent=Decimal("10"))

    entry = next(e for e in alice.call("services") if e["service"] == likes.pk)

    assert entry["rate"] == "0.4914"  # 0.5460 less 10%, never below the 0.42 cost


def test_services_names_refill_and_the_description(alice, followers):
    entry = next(e for e in alice.call("services") if e["service"] == followers.pk)

    assert (entry["refill"], entry["cancel"], entry["min"]) == (True, True, "100")
    assert entry["desc"].startswith("Real-looking accounts")


# add ------------------------------------------------------------------------------------------------------


def test_add_charges_the_customer_and_answers_the_order_id_at_once(
    alice, likes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        answer = alice.call("add", service=likes.pk, link=LINK, quantity=1000)

    order = Order.objects.get()
    assert answer == {"order": order.pk}
    assert (order.user, order.service, order.quantity, order.link) == (alice.user, likes, 1000, LINK)
    assert order.status == Status.QUEUED and len(queued) == 1, "submission is queued, not done inline"
    assert balance_of(alice) == Decimal("100") - Decimal("0.546")


def test_add_takes_a_package_without_quantity_and_comments_one_per_line(alice, package, comments):
    package_order = alice.call("add", service=package.pk, link=LINK)["order"]
    comments_order = alice.call(
        "add", service=comments.pk, link=LINK, comments="nice\n\ngreat\nwow\ncool\nsuper\n"
    )["order"]

    assert Order.objects.get(pk=package_order).quantity == 1
    assert Order.objects.get(pk=comments_order).comments == "nice\ngreat\nwow\ncool\nsuper"
    assert Order.objects.get(pk=comments_order).quantity == 5


def test_add_ignores_unknown_fields(alice, likes):
    answer = alice.call("add", service=likes.pk, link=LINK, quantity=100, dripfeed="0", foo="bar")

    assert set(answer) == {"order"}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "abc", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "999999", "link": LINK, "quantity": "100"}, "Incorrect service ID"),
        ({"service": "LIKES", "quantity": "100"}, "Incorrect link"),
        ({"service": "LIKES", "link": "not a link", "quantity": "100"}, "Incorrect link"),
        ({"service": "LIKES", "link": "ftp://x.example/p", "quantity": "100"}, "Incorrect link"),
        ({"service": "LIKES", "link": LINK}, "Incorrect request"),
        ({"service": "LIKES", "link": LINK, "quantity": "ten"}, "Incorrect request"),
        ({"service": "LIKES", "link": LINK, "quantity": "-5"}, "Incorrect request"),
        ({"service": "LIKES", "link": LINK, "quantity": "9"}, "Quantity less than minimal 10"),
        ({"service": "LIKES", "link": LINK, "quantity": "50001"}, "Quantity more than maximum 50000"),
        ({"service": "LIKES", "link": LINK, "quantity": "100", "runs": "5"}, "Interval: choose one of 0, 5"),
        (
            {"service": "LIKES", "link": LINK, "quantity": "100", "runs": "5", "interval": "7"},
            "Interval: choose one of 0, 5, 10, 15, 30, 60, 90.",
        ),
        (
            {"service": "LIKES", "link": LINK, "quantity": "9", "runs": "5", "interval": "0"},
            "Quantity less than",
        ),
        (
            {"service": "LIKES", "link": LINK, "quantity": "100", "runs": "101", "interval": "0"},
            "Runs: at most 100",
        ),
        (
            {"service": "LIKES", "link": LINK, "quantity": "100", "runs": "x", "interval": "0"},
            "Runs: enter a whole",
        ),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(alice, likes, fields, error):
    fields = {name: str(likes.pk) if value == "LIKES" else value for name, value in fields.items()}

    answer = alice.call("add", **fields)

    assert answer["error"].startswith(error) and set(answer) == {"error"}
    assert not Order.objects.exists()
    assert balance_of(alice) == Decimal("100")


def test_add_refuses_a_disabled_service(alice, likes):
    Service.objects.filter(pk=likes.pk).update(is_enabled=False)

    assert alice.call("add", service=likes.pk, link=LINK, quantity=100) == {"error": "Incorrect service ID"}
    assert not Order.objects.exists()


def test_add_refuses_a_service_whose_provider_is_inactive(alice, likes):
    likes.provider.__class__.objects.update(is_active=False)

    assert alice.call("add", service=likes.pk, link=LINK, quantity=100) == {"error": "Incorrect service ID"}


def test_add_refuses_an_order_the_balance_cannot_pay(alice, likes):
    answer = alice.call("add", service=likes.pk, link=LINK, quantity=50000)  # 27.30
    answer_2 = alice.call("add", service=likes.pk, link=LINK, quantity=50000)
    answer_3 = alice.call("add", service=likes.pk, link=LINK, quantity=50000)
    answer_4 = alice.call("add", service=likes.pk, link=LINK, quantity=50000)

    assert all("order" in a for a in (answer, answer_2, answer_3))
    assert answer_4 == {"error": "Not enough funds on balance"}
    assert Order.objects.count() == 3
    assert balance_of(alice) == Decimal("100") - 3 * Decimal("27.3")


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (None, "Comments are required: one per line"),
        ("", "Comments are required: one per line"),
        (" \n\n ", "Comments are required: one per line"),
        ("one\ntwo", "Quantity less than minimal 5"),
        ("\n".join(f"comment {n}" for n in range(501)), "Quantity more than maximum 500"),
    ],
)
def test_add_of_custom_comments_without_enough_comments_says_so(alice, comments, lines, error):
    fields = {"comments": lines} if lines is not None else {}

    answer = alice.call("add", service=comments.pk, link=LINK, quantity="100", **fields)

    assert answer == {"error": error}
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", ["1000000000000", "9" * 5000])
def test_add_of_a_huge_quantity_is_more_than_the_maximum(alice, likes, quantity):
    assert alice.call("add", service=likes.pk, link=LINK, quantity=quantity) == {
        "error": "Quantity more than maximum 50000"
    }


def in_vietnamese(client, how):
    """Request headers (or a cookie set on the client) that make the web pages Vietnamese."""
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
        return {}
    return {"Accept-Language": "vi"}


@pytest.mark.parametrize("how", ["Accept-Language", "cookie"])
def test_the_api_answers_in_english_whatever_the_request_s_language(alice, likes, how):
    headers = in_vietnamese(alice.client, how)
    assert alice.client.get("/", headers=headers)["Content-Language"] == "vi", "the pages would be Vietnamese"

    too_few = alice.call("add", service=likes.pk, link=LINK, quantity="5", headers=headers)
    not_a_number = alice.call("add", service=likes.pk, link=LINK, quantity="ten", headers=headers)
    response = alice.client.post("/api/v2", {"key": alice.key, "action": "balance"}, headers=headers)

    assert too_few == {"error": "Quantity less than minimal 10"}
    assert not_a_number == {"error": "Incorrect request"}
    assert response["Content-Language"] == "en"


def said_in_the_active_language():
    """A lazy text that says which language it was rendered in."""
    return lazy(lambda: f"said in {translation.get_language()}", str)()


def test_a_lazy_placement_message_is_answered_rendered_in_english(alice, likes, monkeypatch):
    def refuse(**fields):
        raise OrderError(said_in_the_active_language(), code="unforeseen")

    monkeypatch.setattr(actions, "order_place", refuse)

    answer = alice.call("add", service=likes.pk, link=LINK, quantity=100, headers={"Accept-Language": "vi"})

    assert answer == {"error": "said in en"}


def test_a_lazy_per_order_message_is_answered_rendered_in_english(alice, monkeypatch):
    order = OrderFactory(user=alice.user)
    monkeypatch.setattr(
        actions,
        "orders_cancel",
        lambda *, user, orders: {o.pk: OrderError(said_in_the_active_language()) for o in orders},
    )

    answer = alice.call("cancel", orders=str(order.pk), headers={"Accept-Language": "vi"})

    assert answer == [{"order": order.pk, "cancel": {"error": "said in en"}}]


# status ---------------------------------------------------------------------------------------------------


def test_status_of_a_new_order_reads_pending_with_nothing_delivered(alice, likes):
    order_id = alice.call("add", service=likes.pk, link=LINK, quantity=1000)["order"]

    assert alice.call("status", order=order_id) == {
        "charge": "0.54600",
        "start_count": "0",
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }


def test_status_follows_the_order_upstream_and_charges_net_of_the_partial_refund(alice, likes, simulator):
    order_id = alice.call("add", service=likes.pk, link=LINK, quantity=1000)["order"]
    order_submit(order_id=order_id)
    placed = simulator.simulator.orders[int(Order.objects.get(pk=order_id).upstream_id)]
    placed.outcome, placed.final_remains = "Partial", 250
    simulator.simulator.advance(1000)
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()

    answer = alice.call("status", order=order_id)

    assert answer == {
        "charge": "0.40950",  # 0.54600 less the refund of a quarter
        "start_count": str(placed.start_count),
        "status": "Partial",
        "remains": "250",
        "currency": "USD",
    }
    assert balance_of(alice) == Decimal("100") - Decimal("0.4095")


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (Status.QUEUED, "Pending"),
        (Status.SUBMITTING, "Pending"),
        (Status.NEEDS_REVIEW, "Pending"),
        (Status.PENDING, "Pending"),
        (Status.IN_PROGRESS, "In progress"),
        (Status.PROCESSING, "Processing"),
        (Status.COMPLETED, "Completed"),
        (Status.PARTIAL, "Partial"),
        (Status.CANCELED, "Canceled"),
        (Status.FAILED, "Canceled"),
    ],
)
def test_every_status_reads_as_a_protocol_status(alice, status, text):
    order = OrderFactory(user=alice.user, status=status, start_count=120, remains=-3)

    answer = alice.call("status", order=order.pk)

    assert (answer["status"], answer["start_count"], answer["remains"]) == (text, "120", "-3")


def test_a_failed_order_reads_canceled_with_nothing_charged(alice):
    order = OrderFactory(user=alice.user, status=Status.FAILED, charge=Decimal("1.3"), refund=Decimal("1.3"))

    assert alice.call("status", order=order.pk)["charge"] == "0.00000"


@pytest.mark.parametrize("bad", ["", "abc", "12abc", "-1", "999999", "1" * 40])
def test_status_of_an_unknown_or_malformed_id_is_an_incorrect_order_id(alice, bad):
    assert alice.call("status", order=bad) == {"error": "Incorrect order ID"}


def test_status_without_an_order_is_an_incorrect_order_id(alice):
    assert alice.call("status") == {"error": "Incorrect order ID"}


def test_status_of_many_is_keyed_by_the_ids_as_sent_with_errors_in_place(alice):
    first = OrderFactory(user=alice.user, status=Status.IN_PROGRESS, remains=10, start_count=234)
    second = OrderFactory(user=alice.user, status=Status.COMPLETED, remains=0, start_count=5)

    answer = alice.call("status", orders=f"{first.pk}, 0{second.pk},abc,999999,")

    assert answer == {
        str(first.pk): {"charge": "1.30000", "start_count": "234", "status": "In progress", "remains": "10"},
        f"0{second.pk}": {"charge": "1.30000", "start_count": "5", "status": "Completed", "remains": "0"},
        "abc": {"error": "Incorrect order ID"},
        "999999": {"error": "Incorrect order ID"},
    }


def test_status_of_many_takes_100_ids_and_refuses_more(alice):
    order = OrderFactory(user=alice.user)
    hundred = [str(order.pk)] + [str(900000 + n) for n in range(99)]

    answer = alice.call("status", orders=",".join(hundred))
    too_many = alice.call("status", orders=",".join([*hundred, "abc"]))

    assert len(answer) == 100 and answer[str(order.pk)]["status"] == "Pending"
    assert too_many == {"error": "Incorrect request"}


@pytest.mark.parametrize("empty", ["", " ", ",,"])
def test_status_of_many_with_no_ids_is_an_incorrect_request(alice, empty):
    assert alice.call("status", orders=empty) == {"error": "Incorrect request"}


# balance --------------------------------------------------------------------------------------------------


def test_balance_answers_the_balance_with_5_decimals_and_the_panel_currency(alice, likes):
    assert alice.call("balance") == {"balance": "100.00000", "currency": "USD"}

    alice.call("add", service=likes.pk, link=LINK, quantity=999)

    assert alice.call("balance") == {"balance": "99.45454", "currency": "USD"}
