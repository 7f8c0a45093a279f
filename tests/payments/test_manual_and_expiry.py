"""Staff credits as manual deposits (`manage.py credit`, deposit_manual), deposits nobody paid closed after
DEPOSIT_EXPIRE_AFTER, and the data migration that made old staff credits manual deposits."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from payments.amounts import deposit_quote
from payments.credit import deposit_create
from payments.expiry import deposits_expire
from payments.manual import deposit_manual
from payments.methods import method_config, method_currency
from payments.models import Deposit, ExchangeRate, Method
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from reseller.wallet.services import InvalidMovement

D = Decimal


def credit(*args) -> str:
    out = StringIO()
    call_command("credit", *args, stdout=out)
    return out.getvalue()


# Manual deposits


@pytest.mark.django_db
def test_the_credit_command_makes_a_manual_deposit(alice):
    output = credit("alice", "12.50", "--note", "Wire 1")

    deposit = Deposit.objects.get(user=alice)
    assert (deposit.method, deposit.status, deposit.amount, deposit.credited, deposit.note) == (
        "manual",
        "paid",
        D("12.5"),
        D("12.5"),
        "Wire 1",
    )
    assert deposit.created_by is None and deposit.paid_at is not None
    entry = LedgerEntry.objects.get(deposit=deposit)
    assert (entry.kind, entry.amount, entry.note) == ("deposit", D("12.5"), "Wire 1")
    assert wallet_balance(user=alice) == D("112.50")
    assert "balance now $112.50" in output


@pytest.mark.django_db
def test_the_credit_command_with_a_negative_amount_makes_an_adjustment(alice):
    credit("alice", "-5", "--note", "Chargeback")

    entry = LedgerEntry.objects.filter(user=alice).latest("id")
    assert (entry.kind, entry.amount, entry.deposit) == ("adjustment", D(-5), None)
    assert not Deposit.objects.exists()
    assert wallet_balance(user=alice) == D(95)


@pytest.mark.django_db
def test_the_credit_command_as_an_adjustment_makes_no_deposit(alice):
    credit("alice", "5", "--note", "Goodwill", "--kind", "adjustment")

    assert LedgerEntry.objects.filter(user=alice).latest("id").kind == "adjustment"
    assert not Deposit.objects.exists()


@pytest.mark.django_db
def test_the_credit_command_refuses_an_unknown_user_and_changes_nothing(alice):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        credit("nobody", "5", "--note", "x")

    assert not Deposit.objects.exists() and wallet_balance(user=alice) == 100


@pytest.mark.django_db
def test_the_same_request_token_twice_makes_one_manual_deposit(alice):
    first = deposit_manual(user=alice, amount=D(20), note="Wire 2", created_by=None, request_token="tok-1")
    second = deposit_manual(user=alice, amount=D(20), note="Wire 2", created_by=None, request_token="tok-1")
    other = deposit_manual(user=alice, amount=D(20), note="Wire 3", created_by=None, request_token="tok-2")

    assert first.pk == second.pk != other.pk
    assert Deposit.objects.count() == 2
    assert wallet_balance(user=alice) == D(140)
    assert ledger_check().ok


@pytest.mark.django_db
def test_without_a_request_token_each_call_is_a_new_deposit(alice):
    deposit_manual(user=alice, amount=D(1), note="a", created_by=None)
    deposit_manual(user=alice, amount=D(1), note="b", created_by=None)

    assert Deposit.objects.count() == 2 and wallet_balance(user=alice) == D(102)


@pytest.mark.django_db
@pytest.mark.parametrize(("amount", "note"), [("0", "why"), ("-1", "why"), ("5", "  ")])
def test_a_manual_deposit_needs_a_positive_amount_and_a_note(alice, amount, note):
    with pytest.raises(InvalidMovement):
        deposit_manual(user=alice, amount=D(amount), note=note, created_by=None)

    assert not Deposit.objects.exists() and wallet_balance(user=alice) == 100


# Expiry


def deposit_at(user, method, age: timedelta, status="pending") -> Deposit:
    if method_currency(method) == "VND" and not ExchangeRate.objects.exists():
        ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))
    amount = D(100000) if method_currency(method) == "VND" else D(10)
    q = deposit_quote(config=method_config(method), amount=amount, currency=method_currency(method))
    deposit = deposit_create(user=user, method=method, quote=q)
    Deposit.objects.filter(pk=deposit.pk).update(created_at=timezone.now() - age, status=status)
    return deposit


@pytest.mark.django_db
def test_unpaid_card_and_payos_deposits_expire_after_the_setting(alice, settings):
    settings.DEPOSIT_EXPIRE_AFTER = 3600
    hour, minute = timedelta(hours=1), timedelta(minutes=1)
    stale_card = deposit_at(alice, Method.STRIPE, hour + minute)
    stale_payos = deposit_at(alice, Method.PAYOS, hour + minute)
    young_card = deposit_at(alice, Method.STRIPE, hour - minute)
    young_payos = deposit_at(alice, Method.PAYOS, hour - minute)
    old_bank = deposit_at(alice, Method.BANK, timedelta(days=3))
    old_manual = deposit_at(alice, Method.MANUAL, timedelta(days=3))
    old_paid = deposit_at(alice, Method.STRIPE, timedelta(days=3), status="paid")

    assert deposits_expire() == 2
    assert deposits_expire() == 0

    statuses = {d.pk: d.status for d in Deposit.objects.all()}
    assert statuses == {
        stale_card.pk: "expired",
        stale_payos.pk: "expired",
        young_card.pk: "pending",
        young_payos.pk: "pending",
        old_bank.pk: "pending",
        old_manual.pk: "pending",
        old_paid.pk: "paid",
    }
    history = Deposit.objects.get(pk=stale_card.pk).history.get()
    assert (history.from_status, history.to_status, history.reason) == (
        "pending",
        "expired",
        "not paid in time",
    )
    assert wallet_balance(user=alice) == 100


@pytest.mark.django_db
def test_a_shorter_expiry_setting_closes_younger_deposits(alice, settings):
    settings.DEPOSIT_EXPIRE_AFTER = 60
    deposit = deposit_at(alice, Method.STRIPE, timedelta(minutes=5))

    assert deposits_expire() == 1
    deposit.refresh_from_db()
    assert deposit.status == "expired"


@pytest.mark.django_db
def test_the_expiry_task_runs_by_its_name_and_beat_schedules_it(alice, settings):
    from reseller.celery import app

    settings.DEPOSIT_EXPIRE_AFTER = 3600
    deposit = deposit_at(alice, Method.STRIPE, timedelta(hours=2))

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "payments.tasks.deposits_expire" in tasks
    assert app.tasks["payments.tasks.deposits_expire"].apply().get() == 1
    deposit.refresh_from_db()
    assert deposit.status == "expired"


# The data migration: staff credits made before payments existed


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to run inside a test's transaction
def test_the_migration_turns_old_staff_credits_into_manual_deposits(alice, request):
    old = LedgerEntry.objects.get(user=alice)  # alice's 100, written as a deposit row without a Deposit
    assert old.deposit_id is None and old.kind == "deposit"
    rows_before = LedgerEntry.objects.count()
    target_back = [("payments", "0001_initial")]
    target_forward = [("payments", "0002_staff_credits_as_manual_deposits")]

    executor = MigrationExecutor(connection)
    executor.migrate(target_back)
    executor.loader.build_graph()
    executor.migrate(target_forward)
    request.addfinalizer(lambda: _migrate_to_the_end(executor))

    old.refresh_from_db()
    deposit = Deposit.objects.get(pk=old.deposit_id)
    assert (deposit.user_id, deposit.method, deposit.status, deposit.currency) == (
        alice.pk,
        "manual",
        "paid",
        settings.PANEL_CURRENCY,
    )
    assert (deposit.amount, deposit.amount_paid, deposit.credited, deposit.bonus) == (
        D(100),
        D(100),
        D(100),
        0,
    )
    assert (deposit.note, deposit.created_at, deposit.paid_at) == (
        "Test funds",
        old.created_at,
        old.created_at,
    )
    assert deposit.gateway_txn_id == f"ledger-{old.public_id}"
    assert LedgerEntry.objects.count() == rows_before, "the migration moves no money"
    assert wallet_balance(user=alice) == 100
    assert ledger_check().ok


def _migrate_to_the_end(executor):
    """Going back to payments 0001 unapplied the later migrations that depend on it (the ledger's commission
    kind among them): every app goes forward again, so the tests after this one get the whole schema."""
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
