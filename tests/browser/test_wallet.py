"""A customer in Chromium: logs in, is credited by staff, sees the money arrive."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url, username):
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/$"))


def test_a_credited_customer_sees_the_new_balance_and_the_transaction(live_server, page):
    UserFactory(username="alice")
    log_in(page, live_server.url, "alice")
    expect(page.locator("#header-balance")).to_have_text("$0.00")

    call_command("credit", "alice", "42.50", "--note", "Bank transfer 8812", stdout=StringIO())
    page.reload()

    expect(page.locator("#header-balance")).to_have_text("$42.50")
    expect(page.locator("#dashboard-balance")).to_have_text("$42.50")
    page.click("#site-nav >> text=Transactions")
    row = page.locator("table.ledger tbody tr").first
    expect(row).to_contain_text("Deposit")
    expect(row).to_contain_text("+$42.50")
    expect(row).to_contain_text("Bank transfer 8812")


def test_filtering_transactions_by_kind_swaps_the_table_and_updates_the_address(live_server, page):
    UserFactory(username="alice")
    call_command("credit", "alice", "10", "--note", "Top-up", stdout=StringIO())
    call_command("credit", "alice", "-3", "--note", "Correction", stdout=StringIO())
    log_in(page, live_server.url, "alice")
    page.goto(live_server.url + "/transactions/")
    page.evaluate("window.fullLoads = (window.fullLoads || 0) + 1")

    page.click("nav.chips >> text=Adjustment")

    expect(page).to_have_url(re.compile(r"/transactions/\?kind=adjustment$"))
    rows = page.locator("table.ledger tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Correction")
    assert page.evaluate("window.fullLoads") == 1  # swapped by htmx, not a new page load
