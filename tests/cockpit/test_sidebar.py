"""The admin sidebar counts what waits for a person: tickets waiting for an answer, payouts to approve."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from affiliates.commissions import commissions_earn
from affiliates.models import Affiliate, Referral
from affiliates.payouts import payout_request
from cockpit.sidebar import navigation
from orders.models import Status
from support.services import ticket_open, ticket_reply
from tests.factories import OrderFactory, StaffFactory, UserFactory, funded_user


def _items(user) -> dict[str, dict]:
    request = RequestFactory().get("/admin/")
    request.user = user
    return {item["title"]: item for group in navigation(request) for item in group["items"]}


@pytest.mark.django_db
def test_tickets_waiting_for_an_answer_show_as_a_badge_until_answered(alice):
    staff = StaffFactory()
    assert "badge" not in _items(staff)["Tickets"]

    first = ticket_open(user=alice, subject="order", order_ids=[], body="Where is my order?")
    ticket_open(user=alice, subject="payment", order_ids=[], body="My deposit?")
    assert _items(staff)["Tickets"]["badge"] == "2"

    ticket_reply(ticket=first, author=staff, body="On its way.", by_staff=True)
    assert _items(staff)["Tickets"]["badge"] == "1"


@pytest.mark.django_db
def test_payouts_waiting_for_approval_show_as_a_badge(alice, settings):
    settings.AFFILIATE_PAYOUT_APPROVAL = True
    staff = StaffFactory()
    bob = funded_user("100", username="bob")
    Referral.objects.create(affiliate=Affiliate.objects.for_user(alice), referred=bob)
    commissions_earn(orders=[OrderFactory(user=bob, charge=Decimal("400"), status=Status.COMPLETED)])

    payout_request(user=alice)

    assert _items(staff)["Payouts"]["badge"] == "1"


@pytest.mark.django_db
def test_staff_without_the_permission_see_neither_the_page_nor_its_count(alice):
    ticket_open(user=alice, subject="order", order_ids=[], body="Where is my order?")
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))

    items = _items(clerk)

    assert "Tickets" not in items
    assert "Payouts" not in items
