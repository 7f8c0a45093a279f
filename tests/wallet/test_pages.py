"""The customer's pages: dashboard, transactions, add funds; each shows only the customer's own money."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from reseller.wallet.models import FundsInstructions, LedgerEntry
from reseller.wallet.services import wallet_move
from tests.factories import OrderFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
Kind = LedgerEntry.Kind


@pytest.fixture
def alice(alice, client):
    """Alice (tests/conftest.py), logged in on `client`."""
    client.force_login(alice)
    return alice


def text(response):
    return response.content.decode()


@pytest.mark.parametrize("name", ["dashboard", "payments:transactions", "payments:funds", "accounts:account"])
def test_pages_ask_anonymous_visitors_to_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login") + "?next=")


def test_the_header_shows_the_balance(client, alice):
    response = client.get(reverse("home"))

    assert '<span id="header-balance">$100.00</span>' in text(response)


def test_the_dashboard_shows_balance_and_spend_this_month(client, alice):
    first, second, third = (OrderFactory(user=alice).pk for _ in range(3))
    wallet_move(user=alice, amount=Decimal("-30"), kind=Kind.CHARGE, order_id=first)
    wallet_move(user=alice, amount=Decimal("-10"), kind=Kind.CHARGE, order_id=second)
    wallet_move(user=alice, amount=Decimal("10"), kind=Kind.REFUND, order_id=second)
    last_month = wallet_move(user=alice, amount=Decimal("-5"), kind=Kind.CHARGE, order_id=third)
    LedgerEntry.objects.filter(pk=last_month.pk).update(created_at=timezone.now() - timedelta(days=40))
    Order.objects.filter(pk=third).update(created_at=timezone.now() - timedelta(days=40))
    wallet_move(user=alice, amount=Decimal("2"), kind=Kind.REFUND, order_id=third)  # refunded this month

    page = text(client.get(reverse("dashboard")))

    assert '<p class="stat-figure" id="dashboard-balance">$67.00</p>' in page
    assert re.search(r"Spent this month</p>\s*<p class=\"stat-figure\">\$30.00</p>", page)


def test_the_dashboard_says_when_there_are_no_orders_yet(client, alice):
    page = text(client.get(reverse("dashboard")))

    assert "No orders yet." in page


def test_transactions_are_listed_newest_first(client, alice):
    first, second = OrderFactory(user=alice).pk, OrderFactory(user=alice).pk
    wallet_move(user=alice, amount=Decimal("-1"), kind=Kind.CHARGE, order_id=first, note="first order")
    wallet_move(user=alice, amount=Decimal("-2"), kind=Kind.CHARGE, order_id=second, note="second order")

    page = text(client.get(reverse("payments:transactions")))

    assert page.index(f"Order #{second}") < page.index(f"Order #{first}") < page.index("Test funds")
    assert "first order" not in page, "an order's row names the order, not the wallet's note"


def test_transactions_are_paginated(client, alice, settings):
    settings.WALLET_PAGE_SIZE = 2
    for n in range(4):
        wallet_move(user=alice, amount=Decimal("1"), kind=Kind.DEPOSIT, note=f"deposit {n}")

    first = text(client.get(reverse("payments:transactions")))
    last = text(client.get(reverse("payments:transactions"), {"page": 3}))

    assert "Page 1 of 3" in first and "deposit 3" in first and "deposit 1" not in first
    assert "Page 3 of 3" in last and "Test funds" in last


def test_transactions_filter_by_kind(client, alice):
    order_id = OrderFactory(user=alice).pk
    wallet_move(user=alice, amount=Decimal("-1"), kind=Kind.CHARGE, order_id=order_id, note="an order")

    page = text(client.get(reverse("payments:transactions"), {"kind": "charge"}))

    assert f"Order #{order_id}" in page and "Test funds" not in page


def test_htmx_filtering_returns_only_the_table(client, alice):
    response = client.get(
        reverse("payments:transactions"), {"kind": "deposit"}, headers={"HX-Request": "true"}
    )

    page = text(response)
    assert page.lstrip().startswith('<div id="transaction-table">')
    assert "<html" not in page and "Test funds" in page


def test_an_unknown_kind_shows_everything(client, alice):
    page = text(client.get(reverse("payments:transactions"), {"kind": "bogus"}))

    assert "Test funds" in page


def test_a_transaction_has_its_own_page(client, alice):
    entry = LedgerEntry.objects.get(user=alice)

    page = text(client.get(reverse("wallet:transaction_detail", args=[entry.public_id])))

    assert "+$100.00" in page and "Deposit" in page and "Test funds" in page
    assert "$100.00" in page and "-$100" not in page


def test_another_customers_transactions_are_never_visible(client, alice):
    charlie = funded_user("777", username="charlie")
    wallet_move(
        user=charlie,
        amount=Decimal("-7"),
        kind=Kind.CHARGE,
        order_id=OrderFactory(user=charlie).pk,
        note="charlie's secret order",
    )
    charlies_entries = LedgerEntry.objects.filter(user=charlie)

    for entry in charlies_entries:
        assert client.get(reverse("wallet:transaction_detail", args=[entry.public_id])).status_code == 404
    pages = [
        client.get(reverse("dashboard")),
        client.get(reverse("payments:transactions")),
        client.get(reverse("payments:transactions"), {"kind": "charge"}),
        client.get(reverse("payments:transactions"), {"kind": "charge"}, headers={"HX-Request": "true"}),
        client.get(reverse("payments:funds")),
        client.get(reverse("accounts:account")),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "charlie" not in text(response) and "$777.00" not in text(response)


def test_add_funds_shows_the_operator_instructions_as_safe_markdown(client, alice):
    FundsInstructions.objects.create(text="Send USDT to T123\n<script>alert(1)</script>")

    page = text(client.get(reverse("payments:funds")))

    assert "Send USDT to T123" in page
    assert "<script" not in page.split("</head>")[1] and "alert(1)" not in page


def test_add_funds_says_so_when_there_are_no_instructions(client, alice):
    page = text(client.get(reverse("payments:funds")))

    assert "has not set up payments yet" in page


def test_a_new_customer_sees_zero_and_empty_states(client):
    client.force_login(UserFactory())

    dashboard = text(client.get(reverse("dashboard")))
    transactions = text(client.get(reverse("payments:transactions")))

    assert '<span id="header-balance">$0.00</span>' in dashboard
    assert "No transactions yet." in dashboard and "No transactions yet." in transactions
