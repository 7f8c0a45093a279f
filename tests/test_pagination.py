"""A long list's pages, found by their keys first: the same pages as Django's paginator, in a fixed number
of queries whatever the page."""

import pytest
from django.core.paginator import Paginator

from orders.models import Order
from reseller.pagination import KeysFirstPaginator
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(alice):
    OrderFactory.create_batch(23, user=alice)
    OrderFactory.create_batch(3)  # another customer's: never listed
    return Order.objects.filter(user=alice).select_related("service").order_by("-id")


@pytest.mark.parametrize("orphans", [0, 2])
def test_every_page_is_django_s_page(listed, orphans):
    ours, django = KeysFirstPaginator(listed, 5, orphans=orphans), Paginator(listed, 5, orphans=orphans)

    assert (ours.count, ours.num_pages) == (django.count, django.num_pages)
    for number in django.page_range:
        page, expected = ours.page(number), django.page(number)
        assert [order.pk for order in page] == [order.pk for order in expected]
        assert (page.has_next(), page.start_index(), page.end_index()) == (
            expected.has_next(),
            expected.start_index(),
            expected.end_index(),
        )
    assert [o.pk for o in ours.get_page("999")] == [o.pk for o in django.get_page("999")]  # the last page


def test_a_deep_page_costs_what_the_first_costs(listed, django_assert_num_queries):
    paginator = KeysFirstPaginator(listed, 5)
    paginator.count  # noqa: B018 (counted once, then kept)

    for number in (1, 4):
        with django_assert_num_queries(2):  # the page's keys, then its rows with their service
            services = [order.service.upstream_id for order in paginator.page(number)]
        assert len(services) == 5
