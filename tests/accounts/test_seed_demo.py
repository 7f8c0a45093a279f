"""The demo data gives the demo customer money to order with, once."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from reseller.wallet.services import wallet_move
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", simulator_url="http://127.0.0.1:9999/api/v2", verbosity=0, stdout=StringIO())


def test_the_demo_customer_is_funded_once_however_often_the_seed_runs(django_user_model):
    seed()
    seed()

    demo = django_user_model.objects.get(username="demo")
    assert wallet_balance(user=demo) == Decimal("100")
    assert LedgerEntry.objects.filter(user=demo, kind=LedgerEntry.Kind.DEPOSIT).count() == 1
    assert wallet_balance(user=django_user_model.objects.get(username="admin")) == 0
    assert ledger_check().ok


def test_a_demo_customer_who_spent_the_money_is_not_topped_up_again(django_user_model):
    seed()
    demo = django_user_model.objects.get(username="demo")
    order_id = OrderFactory(user=demo).pk
    wallet_move(user=demo, amount=Decimal("-100"), kind=LedgerEntry.Kind.CHARGE, order_id=order_id)

    seed()

    assert wallet_balance(user=demo) == 0


def test_in_a_currency_without_minor_units_the_demo_gets_a_usable_amount(settings, django_user_model):
    settings.PANEL_CURRENCY = "VND"

    seed()

    assert wallet_balance(user=django_user_model.objects.get(username="demo")) == Decimal("1000000")


def test_staff_start_with_canned_replies_once_however_often_the_seed_runs():
    from support.models import CannedReply

    seed()
    seed()

    titles = list(CannedReply.objects.values_list("title", flat=True))
    assert "Refill requested" in titles
    assert len(titles) == len(set(titles)) >= 3
