import pytest

from catalog.models import Service
from orders.models import Order, Status
from orders.polling import orders_poll
from orders.services import order_place, order_submit
from tests.factories import funded_user

LINK = "https://instagram.com/p/abc"


@pytest.fixture
def customer(db):
    return funded_user("100", username="alice")


@pytest.fixture
def followers(synced):
    """Instagram Followers: refill and cancel allowed, min 100."""
    return Service.objects.get(provider=synced, upstream_id="1")


def place(customer, service, *, count=1):
    """Orders placed upstream (pending there); `finish` takes them to a final status."""
    orders = []
    for _ in range(count):
        order = order_place(user=customer, service=service, link=LINK, quantity=service.min_quantity)
        order_submit(order_id=order.pk)
        orders.append(Order.objects.get(pk=order.pk))
    return orders


def finish(simulator, orders, outcome="Completed", remains=0):
    for order in orders:
        placed = simulator.simulator.orders[int(order.upstream_id)]
        placed.outcome, placed.final_remains = outcome, remains
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(next_check_at=None)
    orders_poll(order_ids=[o.pk for o in orders])
    finished = list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk"))
    assert all(o.status == Status(outcome.lower()) for o in finished)
    return finished


@pytest.fixture
def completed(customer, followers, simulator):
    return finish(simulator, place(customer, followers, count=3))
