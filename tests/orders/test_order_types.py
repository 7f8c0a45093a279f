"""Every service type of the protocol, placed through the order form, our API and admin: each sends exactly
its type's fields upstream (as the simulator recorded them), and a missing or bad field is refused with a
message naming it, charging nothing."""

from decimal import Decimal

import pytest

from catalog.models import Service
from catalog.protocol import ServiceType
from catalog.service_types import TYPES
from orders.models import Order
from orders.submission import order_submit
from reseller.accounts.services import api_key_rotate
from tests.factories import StaffFactory
from tests.helpers import LINK, balance_of, reload, valid_fields

pytestmark = pytest.mark.django_db
HUNDRED = Decimal(100)


def service_of(service_type) -> Service:
    return Service.objects.filter(type=service_type, is_enabled=True).order_by("pk").first()


def place_by_web(user, service, fields):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.post("/orders/new/", {"service": service.pk, "client_token": "form-1", **fields})


def place_by_api(user, service, fields):
    from django.test import Client

    data = {"key": api_key_rotate(user=user), "action": "add", "service": service.pk, **fields}
    return Client().post("/api/v2", data)


def place_by_admin(user, service, fields):
    from django.test import Client

    client = Client()
    client.force_login(StaffFactory())
    form = client.get("/admin/orders/order/place/")["Location"]  # with its one-time token
    return client.post(form, {"customer": user.pk, "service": service.pk, **fields})


CHANNELS = {"web": place_by_web, "api": place_by_api, "admin": place_by_admin}
ALL_TYPES = list(TYPES)


@pytest.mark.parametrize("channel", list(CHANNELS))
@pytest.mark.parametrize("service_type", ALL_TYPES, ids=[str(t) for t in ALL_TYPES])
def test_each_type_sends_exactly_its_fields_upstream(alice, synced, simulator, service_type, channel):
    service = service_of(service_type)
    assert service is not None, f"the simulator lists a {service_type} service, enabled by the sync"
    fields = valid_fields(service)

    response = CHANNELS[channel](alice, service, fields)

    assert response.status_code in (200, 302), response.content.decode()[:500]
    order = Order.objects.get()
    assert order.upstream_fields == fields
    order_submit(order_id=order.pk)
    placed = simulator.simulator.orders[int(reload(order).upstream_id)]
    assert placed.fields == fields, "the provider got the type's fields and nothing else"
    assert balance_of(alice) == HUNDRED - order.charge and order.charge > 0


@pytest.mark.parametrize(
    ("service_type", "field", "message"),
    [
        (service_type, field.name, None)
        for service_type, rule in TYPES.items()
        for field in rule.fields
        if field.required
    ],
)
def test_a_missing_field_is_named_and_nothing_is_charged(alice, synced, service_type, field, message):
    service = service_of(service_type)
    fields = valid_fields(service)
    del fields[field]

    web = place_by_web(alice, service, fields)
    api = place_by_api(alice, service, fields).json()
    admin = place_by_admin(alice, service, fields)

    html = web.content.decode()
    assert web.status_code == 422
    assert f'id="error-{field}"' in html, f"the web form marks {field}"
    assert set(api) == {"error"} and api["error"]
    assert admin.status_code == 200 and "errorlist" in admin.content.decode()
    assert not Order.objects.exists() and balance_of(alice) == HUNDRED


@pytest.mark.parametrize(
    ("service_type", "field", "value", "error"),
    [
        (ServiceType.POLL, "answer_number", "0", "Answer number: at least 1."),
        (ServiceType.POLL, "answer_number", "two", "Answer number: enter a whole number."),
        (
            ServiceType.MENTIONS_MEDIA_LIKERS,
            "media",
            "not a link",
            "Media link: enter a valid http:// or https://",
        ),
        (ServiceType.MENTIONS_USER_FOLLOWERS, "username", "a" * 201, "Username: at most 200 characters."),
        (ServiceType.MENTIONS_HASHTAG, "hashtag", "#a\x07b", "Hashtag: remove the control characters."),
        (ServiceType.SUBSCRIPTIONS, "posts", "0", "Posts: at least 1."),
        (ServiceType.SUBSCRIPTIONS, "posts", "1001", "Posts: at most 1,000."),
        (ServiceType.SUBSCRIPTIONS, "delay", "7", "Delay: choose one of 0, 5, 10, 15, 30, 60, 90."),
        (ServiceType.SUBSCRIPTIONS, "min", "1", "Quantity less than minimal"),
        (ServiceType.SUBSCRIPTIONS, "max", "99999999", "Quantity more than maximum"),
        (ServiceType.SUBSCRIPTIONS, "expiry", "01/01/2020", "Expiry: enter a day after today"),
        (ServiceType.SUBSCRIPTIONS, "expiry", "31/02/2030", "Expiry: enter a day after today"),
        (ServiceType.SUBSCRIPTIONS, "old_posts", "4", "Old posts: at most as many as the posts."),
    ],
)
def test_a_bad_field_is_refused_by_the_api_with_its_name(alice, synced, service_type, field, value, error):
    service = service_of(service_type)
    fields = {**valid_fields(service), field: value}

    answer = place_by_api(alice, service, fields).json()

    assert set(answer) == {"error"} and answer["error"].startswith(error), answer
    assert not Order.objects.exists() and balance_of(alice) == HUNDRED


def test_a_subscription_charges_posts_times_the_maximum_and_sends_its_optional_fields(
    alice, synced, simulator
):
    service = service_of(ServiceType.SUBSCRIPTIONS)
    fields = {**valid_fields(service), "posts": "4", "max": "500", "expiry": "2030-06-30", "old_posts": "1"}

    response = place_by_web(alice, service, fields)

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.quantity, order.posts, order.per_post, order.link) == (2000, 4, 500, "")
    assert order.charge == (service.price_rate * 2000 / 1000).quantize(Decimal("0.00001"))
    assert order.upstream_fields["expiry"] == "30/06/2030", "sent as d/m/Y, as the protocol writes it"
    order_submit(order_id=order.pk)
    assert simulator.simulator.orders[int(reload(order).upstream_id)].fields["old_posts"] == "1"


def test_the_order_form_shows_the_chosen_types_fields(alice_client, synced):
    subscription = service_of(ServiceType.SUBSCRIPTIONS)
    poll = service_of(ServiceType.POLL)

    sub_html = alice_client.get("/orders/new/", {"service": subscription.pk}).content.decode()
    poll_html = alice_client.get("/orders/new/", {"service": poll.pk}).content.decode()

    for name in ("username", "min", "max", "posts", "delay", "expiry", "old_posts"):
        assert f'name="{name}"' in sub_html
    assert 'name="link"' not in sub_html and 'name="quantity"' not in sub_html
    assert 'name="answer_number"' in poll_html and 'name="link"' in poll_html
    assert 'name="runs"' not in poll_html, "drip-feed is offered on Default services only"


def test_changing_the_service_swaps_the_fields_and_the_quote(alice_client, synced):
    seo = service_of(ServiceType.SEO)

    response = alice_client.get(
        "/orders/new/", {"service": seo.pk}, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="service"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="type-fields"') and 'name="keywords"' in html
    assert 'id="quote"' in html and 'hx-swap-oob="true"' in html and seo.display_name in html


def test_unknown_types_stay_imported_and_unsellable(alice, synced):
    unknown = Service.objects.exclude(type__in=[str(t) for t in TYPES])

    assert unknown.exists() and not unknown.filter(is_enabled=True).exists()
    answer = place_by_api(alice, unknown.first(), {"link": LINK, "quantity": "100"}).json()
    assert answer == {"error": "Incorrect service ID"}


def test_runs_on_a_service_that_stopped_offering_dripfeed_are_explained_on_the_form(
    alice, alice_client, likes
):
    Service.objects.filter(pk=likes.pk).update(dripfeed_enabled=False)

    response = alice_client.post(
        "/orders/new/",
        {
            "service": likes.pk,
            "link": LINK,
            "quantity": "100",
            "runs": "5",
            "interval": "15",
            "client_token": "t",
        },
    )

    html = response.content.decode()
    assert response.status_code == 422 and 'name="runs"' not in html
    assert '<div class="form-error" role="alert">Drip-feed is not available for this service.</div>' in html
    assert not Order.objects.exists() and balance_of(alice) == HUNDRED


def test_the_admin_place_form_places_once_when_submitted_twice(alice, likes):
    from django.test import Client

    client = Client()
    client.force_login(StaffFactory())
    form = client.get("/admin/orders/order/place/")["Location"]  # with its one-time token
    data = {"customer": alice.pk, "service": likes.pk, "link": LINK, "quantity": "100"}

    first, second = (client.post(form, data) for _ in range(2))

    order = Order.objects.get()
    assert first.status_code == 302 and first["Location"] == f"/admin/orders/order/{order.pk}/change/"
    page = second.content.decode()
    assert "This form was already saved" in page and first["Location"] in page
    assert balance_of(alice) == HUNDRED - order.charge


@pytest.mark.parametrize("value", ["\t", "a\nb"])
def test_a_control_character_in_a_subscriptions_limit_is_an_incorrect_request(alice, synced, value):
    service = service_of(ServiceType.SUBSCRIPTIONS)

    answer = place_by_api(alice, service, {**valid_fields(service), "max": value}).json()

    assert answer == {"error": "Incorrect request"}, "not the limit's text: the value is no number at all"
    assert not Order.objects.exists()
