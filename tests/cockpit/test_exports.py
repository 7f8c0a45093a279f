"""CSV exports of the orders, the ledger and the deposits from admin: exactly the rows the list shows for
the same query string, streamed, with exact amounts and no formula a spreadsheet would run."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, Status
from payments.amounts import deposit_quote
from payments.credit import deposit_create, deposit_credit
from payments.methods import method_config
from payments.models import Method
from reseller.csv_export import csv_cell, plain_decimal
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import wallet_move
from tests.factories import OrderFactory, ServiceFactory, StaffFactory, UserFactory, funded_user

pytestmark = pytest.mark.django_db
D = Decimal

ORDERS = "/admin/orders/order/export.csv"
LEDGER = "/admin/wallet/ledgerentry/export.csv"
DEPOSITS = "/admin/payments/deposit/export.csv"


@pytest.fixture
def staff(client):
    member = StaffFactory()
    client.force_login(member)
    return member


def export(client, url, params=None):
    """The header and the rows of an export, read as a spreadsheet would (the BOM dropped)."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response
    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())
    header, *rows = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    return header, rows


def column(header, rows, name):
    return [row[header.index(name)] for row in rows]


def order(user=None, service=None, **fields):
    return OrderFactory(user=user or UserFactory(), **({"service": service} if service else {}), **fields)


# Orders


def test_the_orders_export_has_the_headers_and_a_row_per_order_newest_first(client, staff):
    first, second = order(), order()

    header, rows = export(client, ORDERS)

    assert header == [
        "id", "public id", "created", "customer", "service", "provider", "type", "link", "quantity",
        "status", "charge", "refund", "cost", "profit", "upstream id", "finished",
    ]  # fmt: skip
    assert column(header, rows, "id") == [str(second.pk), str(first.pk)]


def test_the_orders_export_has_exactly_the_rows_filtered_by_status(client, staff):
    done = [order(status=Status.COMPLETED) for _ in range(2)]
    order(status=Status.PENDING)
    order(status=Status.CANCELED)

    header, rows = export(client, ORDERS, {"status__exact": Status.COMPLETED})

    assert column(header, rows, "id") == [str(o.pk) for o in reversed(done)]
    assert set(column(header, rows, "status")) == {"Completed"}


def test_the_orders_export_has_exactly_the_rows_found_by_the_search(client, staff):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    hers = [order(alice), order(alice)]
    order(bob)

    header, rows = export(client, ORDERS, {"q": "alice"})

    assert column(header, rows, "id") == [str(o.pk) for o in reversed(hers)]
    assert set(column(header, rows, "customer")) == {"alice"}


def test_the_orders_export_follows_the_date_drill_down_and_the_filters_together(client, staff):
    january, february, pending_in_january = order(status="completed"), order(), order(status="pending")
    Order.objects.filter(pk__in=[january.pk, pending_in_january.pk]).update(
        created_at=datetime(2025, 1, 15, 12, tzinfo=UTC)
    )
    Order.objects.filter(pk=february.pk).update(created_at=datetime(2025, 2, 15, 12, tzinfo=UTC))

    header, rows = export(
        client, ORDERS, {"created_at__year": "2025", "created_at__month": "1", "status__exact": "completed"}
    )

    assert column(header, rows, "id") == [str(january.pk)]
    assert column(header, rows, "created") == ["2025-01-15 12:00:00"]


def test_the_orders_export_follows_the_lists_ordering(client, staff):
    big, small = order(quantity=5000), order(quantity=100)  # newest first would be small, big

    quantity = admin.site._registry[Order].list_display.index("quantity") + 1  # after the checkbox
    header, rows = export(client, ORDERS, {"o": f"-{quantity}"})  # by quantity, descending

    assert column(header, rows, "id") == [str(big.pk), str(small.pk)]


def test_the_orders_export_has_every_page_not_only_the_first(client, staff):
    OrderFactory.create_batch(60, user=UserFactory(), service=ServiceFactory())  # the list shows 50 a page

    _, rows = export(client, ORDERS)

    assert len(rows) == 60


def test_order_money_is_exact_plain_decimals_that_a_spreadsheet_sums(client, staff):
    order(
        charge=D("1.30050"),
        refund=D("0.00001"),
        cost=D("1.00000"),
        upstream_charge=D("0.00250"),
        exchange_rate=D("400.00000000"),
        status=Status.PARTIAL,
        service_type="Default",
        link="https://instagram.com/p/x",
        upstream_id="77",
        quantity=1000,
    )

    header, [row] = export(client, ORDERS)
    cells = dict(zip(header, row, strict=True))

    assert (cells["charge"], cells["refund"], cells["cost"], cells["profit"]) == (
        "1.3005",
        "0.00001",
        "1.00",
        "0.30049",
    )
    assert (cells["type"], cells["link"], cells["quantity"], cells["upstream id"]) == (
        "Default",
        "https://instagram.com/p/x",
        "1000",
        "77",
    )
    assert cells["finished"] == "" and "$" not in ",".join(row)


def test_the_changelist_has_an_export_button_with_the_lists_query_string(client, staff):
    page = client.get("/admin/orders/order/", {"status__exact": "completed", "q": "alice"}).content.decode()

    assert 'href="/admin/orders/order/export.csv?status__exact=completed&amp;q=alice"' in page
    assert "Export CSV" in page


def test_an_unknown_filter_sends_back_to_the_list_and_its_error(client, staff):
    response = client.get(ORDERS, {"no_such_field": "1"})

    assert response.status_code == 302 and response["Location"] == "/admin/orders/order/?e=1"


def test_the_export_is_an_attachment_in_utf8_csv(client, staff):
    response = client.get(ORDERS)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    assert "no-store" in response["Cache-Control"]


# Who may export


def test_staff_without_the_view_permission_cannot_export(client):
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    order()

    assert client.get(ORDERS).status_code == 403
    assert client.get(LEDGER).status_code == 403
    assert client.get(DEPOSITS).status_code == 403
    assert "Export CSV" not in client.get("/admin/orders/order/").content.decode()


def test_staff_with_the_view_permission_may_export(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    order()

    _, rows = export(client, ORDERS)

    assert len(rows) == 1


def test_customers_cannot_reach_an_export(client):
    customer = funded_user("10")
    client.force_login(customer)

    response = client.get(LEDGER)

    assert response.status_code == 302 and "/login/" in response["Location"]


# The number of queries does not grow with the rows


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("url", [ORDERS, LEDGER, DEPOSITS])
def test_an_export_takes_as_many_queries_for_100_rows_as_for_10(client, staff, url):
    service = ServiceFactory()

    def add(count):
        for _ in range(count):
            user = funded_user("10")  # a deposit row in the ledger
            deposit_for(user, "5", paid=True)  # a deposit, and its row
            OrderFactory(user=user, service=service)

    add(10)
    ten = queries_for(client, url)
    add(90)
    hundred = queries_for(client, url)

    assert ten == hundred


# The ledger


def test_the_ledger_export_has_its_columns_and_exact_amounts(client, staff):
    customer = funded_user("10", username="alice")
    entry = wallet_move(
        user=customer, amount=D("-0.00400"), kind=LedgerEntry.Kind.ADJUSTMENT, note="Fee", created_by=staff
    )

    header, rows = export(client, LEDGER)

    assert header == [
        "id",
        "created",
        "customer",
        "kind",
        "amount",
        "balance after",
        "order",
        "deposit",
        "note",
        "by",
    ]
    newest = dict(zip(header, rows[0], strict=True))
    assert newest == {
        "id": str(entry.pk),
        "created": timezone.localtime(entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "customer": "alice",
        "kind": "Adjustment",
        "amount": "-0.004",
        "balance after": "9.996",
        "order": "",
        "deposit": "",
        "note": "Fee",
        "by": staff.username,
    }


def test_the_ledger_export_has_exactly_the_rows_of_the_kind_filter_and_search(client, staff):
    alice, bob = funded_user("10", username="alice"), funded_user("10", username="bob")
    wallet_move(user=alice, amount=D("-1"), kind=LedgerEntry.Kind.ADJUSTMENT, note="x")
    wallet_move(user=bob, amount=D("-1"), kind=LedgerEntry.Kind.ADJUSTMENT, note="x")

    _, rows = export(client, LEDGER, {"kind__exact": "adjustment", "q": "alice"})

    assert [(row[2], row[3]) for row in rows] == [("alice", "Adjustment")]


@pytest.mark.parametrize("note", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(client, staff, note):
    customer = funded_user("10")
    wallet_move(user=customer, amount=D("-5"), kind=LedgerEntry.Kind.ADJUSTMENT, note=note)

    header, rows = export(client, LEDGER)

    newest = dict(zip(header, rows[0], strict=True))
    assert newest["note"] == f"'{note}"
    assert newest["amount"] == "-5.00", "a negative amount is a number, not a formula"


def test_text_and_numbers_are_written_as_they_are_otherwise():
    assert csv_cell("Wire 55") == "Wire 55"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "yes"
    assert csv_cell(-3) == "-3"
    assert [plain_decimal(D(v)) for v in ["12.50000", "0.00400", "-0", "250000.00000", "3"]] == [
        "12.50",
        "0.004",
        "0.00",
        "250000.00",
        "3.00",
    ]


# Deposits


def deposit_for(user, amount, *, method=Method.STRIPE, paid=False, currency="USD"):
    quote = deposit_quote(config=method_config(method), amount=D(amount), currency=currency)
    deposit = deposit_create(user=user, method=method, quote=quote)
    if paid:
        deposit_credit(deposit=deposit, txn_id=f"pi_{deposit.pk}", amount_paid=D(amount), reason="test")
        deposit.refresh_from_db()
    return deposit


def test_the_deposits_export_has_amount_currency_fee_credited_bonus_and_gateway_ids(client, staff):
    alice = UserFactory(username="alice")
    paid = deposit_for(alice, "20.50", paid=True)
    deposit_for(alice, "7")

    header, rows = export(client, DEPOSITS, {"status__exact": "paid"})

    assert header == [
        "id", "created", "customer", "method", "status", "amount", "currency", "fee", "credited", "bonus",
        "reversed", "gateway id", "gateway payment id", "payOS order code", "paid at",
    ]  # fmt: skip
    [row] = rows
    cells = dict(zip(header, row, strict=True))
    assert (cells["id"], cells["customer"], cells["method"], cells["status"]) == (
        str(paid.pk),
        "alice",
        "Card (Stripe)",
        "Paid",
    )
    assert (cells["amount"], cells["currency"]) == ("20.50", "USD")
    assert (cells["fee"], cells["credited"], cells["bonus"], cells["reversed"]) == (
        plain_decimal(paid.fee),
        plain_decimal(paid.credited),
        plain_decimal(paid.bonus),
        "0.00",
    )
    assert cells["gateway payment id"] == f"pi_{paid.pk}"
    assert cells["paid at"] == timezone.localtime(paid.paid_at).strftime("%Y-%m-%d %H:%M:%S")
