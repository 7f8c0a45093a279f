import pytest

from catalog.models import Service
from orders.models import Order
from tests.factories import funded_user


@pytest.fixture
def customer(db):
    return funded_user("100", username="alice")


@pytest.fixture
def likes(synced):
    """Instagram Likes: Default, 0.42 upstream, sold at 0.5460 per 1000, min 10, max 50000, cancel."""
    return Service.objects.get(provider=synced, upstream_id="2")


def balance_of(user):
    from reseller.wallet.models import Wallet

    return Wallet.objects.get(user=user).balance


def reload(order):
    return Order.objects.get(pk=order.pk)
