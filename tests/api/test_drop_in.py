"""The drop-in proof: our own upstream client, written for the protocol, works against our endpoint."""

from decimal import Decimal

import pytest

from catalog import upstream
from orders.models import Order
from tests.helpers import LINK

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def our_api(live_server, alice):
    client = upstream.Client(f"{live_server.url}/api/v2", alice.key)
    yield client
    # The client pools kept-alive connections per URL for the whole process; this server is going away.
    upstream._sessions.pop(client.url).close()


def test_our_client_reads_our_catalog_and_balance(our_api, likes):
    services, problems = our_api.services()
    balance = our_api.balance()

    assert problems == []
    offered = {service.service_id: service for service in services}
    assert offered[str(likes.pk)].rate == Decimal("0.5460")
    assert (offered[str(likes.pk)].min, offered[str(likes.pk)].max, offered[str(likes.pk)].cancel) == (
        10,
        50000,
        True,
    )
    assert (balance.amount, balance.currency) == (Decimal("100"), "USD")


def test_our_client_places_an_order_and_follows_it(our_api, likes, simulator, eager_celery):
    order_id = our_api.add(service=likes.pk, link=LINK, quantity=1000)

    one = our_api.status(order_id)
    many = our_api.statuses([order_id, "999999"])

    order = Order.objects.get(pk=int(order_id))
    assert order.upstream_id, "submitted to the simulator right after the answer"
    assert (one.status, one.charge, one.remains, one.currency) == ("Pending", Decimal("0.546"), 1000, "USD")
    assert (many[order_id].status, many[order_id].charge, many[order_id].remains) == (
        "Pending",
        one.charge,
        1000,
    )
    assert many["999999"] == upstream.ItemError("Incorrect order ID")
    assert our_api.balance().amount == Decimal("99.454")


def test_our_errors_reach_our_client_as_rejections(our_api, likes, live_server):
    with pytest.raises(upstream.Rejected, match="Quantity less than minimal 10"):
        our_api.add(service=likes.pk, link=LINK, quantity=5)
    with pytest.raises(upstream.Rejected, match="Incorrect order ID"):
        our_api.status("424242")
    with pytest.raises(upstream.Rejected, match="Invalid API key"):
        upstream.Client(f"{live_server.url}/api/v2", "wrong-key-123").balance()
    assert not Order.objects.exists()
