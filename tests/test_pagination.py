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


@pytest.mark.parametrize("orphans", [0, 2, 3])  # 3: the fourth page takes the last three in (8 rows)
@pytest.mark.parametrize("number", [1, 2, 4, 5, "5", 5.0, 6, 999, "x", 0, -1])
def test_a_fresh_paginator_finds_django_s_page(listed, orphans, number):
    """Each request makes its own paginator: the count comes with the page's keys, and every page, the
    last with its orphans, one past it, one far past it and nonsense, is Django's (get_page as the views
    call it)."""
    ours, django = KeysFirstPaginator(listed, 5, orphans=orphans), Paginator(listed, 5, orphans=orphans)

    page, expected = ours.get_page(number), django.get_page(number)

    assert [order.pk for order in page] == [order.pk for order in expected]
    assert (page.number, ours.count, ours.num_pages) == (expected.number, 23, django.num_pages)


def test_a_searched_list_is_counted_with_its_keys(listed, django_assert_num_queries):
    searched = listed.filter(quantity__gte=0)

    with django_assert_num_queries(2):  # the keys with the count, then the rows with their service
        page = KeysFirstPaginator(searched, 5).get_page(2)
        assert len([order.service.upstream_id for order in page]) == 5
    assert (page.paginator.count, page.has_next()) == (23, True)


def test_an_empty_list_has_one_empty_page(alice):
    page = KeysFirstPaginator(Order.objects.filter(user=alice).order_by("-id"), 5).get_page(1)

    assert (list(page), page.number, page.paginator.count) == ([], 1, 0)
