"""Every call to a provider is counted in the database, per provider, action and outcome (catalog/calls.py),
against the simulator over real HTTP."""

import logging
import socket

import pytest
from django.db import DatabaseError, connection, transaction

from catalog import calls, upstream
from catalog.calls import record_call
from catalog.models import Outcome, Provider, UpstreamCallCount
from catalog.services import provider_refresh_balance
from tests.conftest import SIMULATOR_KEY
from tests.helpers import finish, place, run_together

pytestmark = pytest.mark.django_db


def counts(provider=None):
    rows = UpstreamCallCount.objects.order_by("provider_id", "action", "outcome")
    if provider is not None:
        rows = rows.filter(provider=provider)
    return {(row.action, row.outcome): row.calls for row in rows}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_each_call_is_counted_by_action_and_outcome(synced, simulator):
    provider_refresh_balance(provider=synced)
    provider_refresh_balance(provider=synced)
    simulator.simulator.inject("error", action="balance")
    with pytest.raises(upstream.Rejected):
        provider_refresh_balance(provider=synced)
    simulator.simulator.inject("http500", action="balance")
    with pytest.raises(upstream.Ambiguous):
        provider_refresh_balance(provider=synced)

    assert counts(synced) == {
        ("balance", Outcome.AMBIGUOUS): 1,
        ("balance", Outcome.OK): 2,
        ("balance", Outcome.REJECTED): 1,
        ("services", Outcome.OK): 1,  # the sync
    }
    row = UpstreamCallCount.objects.get(provider=synced, action="balance", outcome=Outcome.OK)
    assert row.seconds > 0 and row.last_at is not None


def test_orders_placed_and_polled_count_their_add_and_status_calls(alice, likes, simulator):
    finish(simulator, place(alice, likes, count=2))

    assert counts(likes.provider) == {
        ("add", Outcome.OK): 2,
        ("services", Outcome.OK): 1,
        ("status", Outcome.OK): 1,  # both orders in one multi-status call
    }


def test_an_unreachable_provider_is_counted_as_unreachable(db):
    provider = Provider.objects.create(
        name="Gone", api_url=f"http://127.0.0.1:{closed_port()}/api/v2", api_key=SIMULATOR_KEY
    )

    with pytest.raises(upstream.Unreachable):
        provider_refresh_balance(provider=provider)

    assert counts(provider) == {("balance", Outcome.UNREACHABLE): 1}


def test_two_providers_are_counted_apart(synced, make_server):
    other_server = make_server(key="other-key-123456")
    other = Provider.objects.create(name="Other", api_url=other_server.url, api_key="other-key-123456")

    provider_refresh_balance(provider=other)
    provider_refresh_balance(provider=other)
    provider_refresh_balance(provider=synced)

    assert counts(other) == {("balance", Outcome.OK): 2}
    assert counts(synced) == {("balance", Outcome.OK): 1, ("services", Outcome.OK): 1}


def test_a_failure_to_count_never_fails_the_call(synced, monkeypatch, caplog):
    # A database that refuses one statement cannot be had on demand here: the counting UPDATE is made to fail.
    def refuse(*args):
        raise DatabaseError("counter table is locked")

    monkeypatch.setattr(calls, "_add", refuse)
    with caplog.at_level(logging.WARNING, logger="catalog.calls"):
        balance = provider_refresh_balance(provider=synced)

    assert balance.amount > 0
    assert "not counted" in caplog.text and "DatabaseError" in caplog.text
    assert SIMULATOR_KEY not in caplog.text


@pytest.mark.postgresql
def test_a_count_that_fails_leaves_the_callers_transaction_usable(synced):
    with transaction.atomic():
        record_call(provider_id=synced.pk, action="x" * 40, outcome="ok", seconds=0.1)  # too long: DataError
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)

    assert not UpstreamCallCount.objects.filter(provider=synced, action__startswith="x").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql
def test_first_calls_made_at_once_create_one_row_and_count_each(provider):
    run_together(
        8, lambda i: record_call(provider_id=provider.pk, action="status", outcome="ok", seconds=0.5)
    )

    row = UpstreamCallCount.objects.get(provider=provider, action="status")
    assert (row.calls, row.seconds) == (8, 4.0)
