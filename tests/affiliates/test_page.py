"""The affiliate page: Alice's link, her figures (visits, sign-ups, conversion, pending, earned, available)
and her commissions and payouts; nothing of another affiliate's."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from affiliates.commissions import commissions_earn
from affiliates.models import Affiliate, Referral
from orders.models import Status
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def figure(html, name):
    match = re.search(rf'id="figure-{name}">.*?class="stat-figure">([^<]*)<', html, re.S)
    return match.group(1).strip()


def test_a_visitor_is_asked_to_log_in():
    response = Client().get("/affiliates/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_shows_the_link_the_rate_and_nothing_yet(alice_client, alice):
    html = alice_client.get("/affiliates/").content.decode()

    code = Affiliate.objects.get(user=alice).code
    assert f'value="http://testserver/r/{code}"' in html
    assert "You earn 5% of what the customers you refer spend" in html
    assert figure(html, "visits") == "0" and figure(html, "conversion") == "&mdash;"
    assert re.search(r'id="payout-button"\s+disabled', html)
    assert "Available from $10.00; you have $0.00." in html
    assert 'href="/affiliates/" aria-current="page">Affiliates<' in html


def test_the_page_shows_alices_figures_and_none_of_charlies(alice_client, affiliate, bob, charlie):
    Affiliate.objects.filter(pk=affiliate.pk).update(visits=8)
    Referral.objects.create(affiliate=affiliate, referred=UserFactory(username="dora"))
    done = OrderFactory(user=bob, charge=Decimal("150"), status=Status.COMPLETED)
    partial = OrderFactory(user=bob, charge=Decimal("100"), refund=Decimal("60"), status=Status.PARTIAL)
    commissions_earn(orders=[done, partial])  # 7.5 + 2
    OrderFactory(user=bob, charge=Decimal("30"), status=Status.IN_PROGRESS)  # 1.5 pending
    OrderFactory(user=bob, charge=Decimal("10"), status=Status.PENDING)  # 0.5 pending
    # Charlie's own affiliate business, which Alice must not see.
    theirs = Affiliate.objects.for_user(charlie)
    erin = UserFactory(username="erin")
    Referral.objects.create(affiliate=theirs, referred=erin)
    commissions_earn(orders=[OrderFactory(user=erin, charge=Decimal("1000"), status=Status.COMPLETED)])

    html = alice_client.get("/affiliates/").content.decode()

    assert figure(html, "visits") == "8"
    assert figure(html, "sign-ups") == "2"
    assert figure(html, "conversion") == "25%"
    assert figure(html, "pending") == "$2.00"
    assert figure(html, "earned") == "$9.50"
    assert figure(html, "available") == "$9.50"
    assert f"#{done.pk}" in html and f"#{partial.pk}" in html and "bo***" in html
    assert "er***" not in html and "$50.00" not in html
    assert "bob" not in html.split('id="commissions"')[1], "a referred customer's name is masked"


def test_once_paid_the_figures_say_where_the_money_went(alice_client, affiliate, bob):
    commissions_earn(orders=[OrderFactory(user=bob, charge=Decimal("400"), status=Status.COMPLETED)])

    alice_client.post("/affiliates/payout/")
    html = alice_client.get("/affiliates/").content.decode()

    assert figure(html, "earned") == "$20.00" and figure(html, "available") == "$0.00"
    assert "$20.00 moved to your balance so far." in html
    assert 'id="header-balance">$120.00<' in html
    payouts = html.split('id="payouts"')[1]
    assert "$20.00" in payouts and "Paid" in payouts
