"""What a deposit is worth: exchange rate, the method's fee, the bonus tier; the bonus's own ledger row."""

from decimal import Decimal

import pytest

from payments.amounts import NoExchangeRate, deposit_quote
from payments.credit import deposit_create, deposit_credit
from payments.models import BonusTier, Deposit, ExchangeRate, Method, PaymentMethod
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check, wallet_balance
from tests.payments.conftest import post_sepay, sepay_body

pytestmark = pytest.mark.django_db
D = Decimal


def method(**fields) -> PaymentMethod:
    return PaymentMethod(method=Method.STRIPE, **fields)


def quote(amount, currency="USD", **fields):
    return deposit_quote(config=method(**fields), amount=D(amount), currency=currency)


@pytest.fixture
def tiers(db):
    BonusTier.objects.create(min_amount=D(50), percent=D(5))
    BonusTier.objects.create(min_amount=D(200), percent=D(10))


def test_without_fee_or_bonus_the_whole_amount_is_credited():
    q = quote("25")

    assert (q.amount, q.currency, q.rate, q.value, q.fee, q.credited, q.bonus) == (
        D("25.00000"),
        "USD",
        D(1),
        D("25.00000"),
        D("0.00000"),
        D("25.00000"),
        D("0.00000"),
    )
    assert q.total == D(25)


def test_a_percent_and_a_fixed_fee_come_off_the_amount():
    q = quote("100", fee_percent=D("2.9"), fee_fixed=D("0.30"))

    assert (q.fee, q.credited, q.total) == (D("3.20000"), D("96.80000"), D("96.80000"))


def test_the_fee_is_rounded_up_at_five_places():
    q = quote("1.23441", fee_percent=D(1))

    assert q.fee == D("0.01235")
    assert q.credited == D("1.22206")


def test_the_fee_is_never_more_than_the_amount():
    q = quote("0.50", fee_fixed=D(1))

    assert (q.fee, q.credited, q.bonus) == (D("0.50000"), D(0), D(0))


@pytest.mark.parametrize(
    ("amount", "bonus"),
    [
        ("49.99999", "0"),
        ("50", "2.50000"),
        ("199.99999", "9.99999"),  # 5% of 199.99999 = 9.9999995, rounded down
        ("200", "20.00000"),
        ("1000", "100.00000"),
    ],
)
def test_the_bonus_is_the_highest_tier_reached(tiers, amount, bonus):
    assert quote(amount).bonus == D(bonus)


def test_the_bonus_tier_applies_to_the_amount_after_the_fee(tiers):
    below_50 = quote("51", fee_fixed=D(2))  # 49 credited
    at_200 = quote("202", fee_fixed=D(2))  # 200 credited
    below_200 = quote("201", fee_fixed=D(2))  # 199 credited

    assert (below_50.credited, below_50.bonus) == (D(49), D(0))
    assert (at_200.credited, at_200.bonus, at_200.total) == (D(200), D(20), D(220))
    assert (below_200.credited, below_200.bonus) == (D(199), D("9.95"))


def test_no_bonus_when_asked_for_none(tiers):
    q = deposit_quote(config=method(), amount=D(500), currency="USD", bonus=False)

    assert q.bonus == 0


def test_vnd_is_converted_at_the_operators_rate():
    ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))

    q = quote("250000", currency="vnd")

    assert (q.currency, q.rate, q.value, q.credited) == ("VND", D("0.00004"), D("10.00000"), D("10.00000"))


def test_the_converted_value_is_rounded_down_at_five_places():
    ExchangeRate.objects.create(currency="VND", rate=D("0.000012345678"))

    assert quote("3", currency="VND").value == D("0.00003")  # 0.000037037034


def test_the_fee_is_taken_in_the_panel_currency_after_conversion(tiers):
    ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))

    q = quote("1300000", currency="VND", fee_percent=D(1), fee_fixed=D(1))  # 52 USD

    assert (q.value, q.fee, q.credited, q.bonus) == (D(52), D("1.52"), D("50.48"), D("2.524"))


def test_a_currency_without_a_rate_cannot_be_quoted():
    with pytest.raises(NoExchangeRate):
        quote("250000", currency="VND")


def test_a_given_rate_is_used_instead_of_the_stored_one():
    ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))

    q = deposit_quote(config=method(), amount=D(100000), currency="VND", rate=D("0.00005"))

    assert (q.rate, q.value) == (D("0.00005"), D(5))


def test_a_credited_deposit_puts_its_bonus_on_the_balance_as_its_own_ledger_row(alice, tiers):
    q = quote("60", fee_fixed=D(1))  # 59 credited, 2.95 bonus
    deposit = deposit_create(user=alice, method=Method.STRIPE, quote=q)

    assert deposit_credit(deposit=deposit, txn_id="pi_1", amount_paid=D(60), reason="test")
    assert not deposit_credit(deposit=deposit, txn_id="pi_1", amount_paid=D(60), reason="again")

    rows = LedgerEntry.objects.filter(deposit=deposit).order_by("id")
    assert [(row.kind, row.amount) for row in rows] == [("deposit", D(59)), ("bonus", D("2.95"))]
    assert wallet_balance(user=alice) == D("161.95")
    assert ledger_check().ok


def test_a_bank_transfer_with_a_bonus_credits_two_rows_linked_to_its_deposit(
    client, alice, configured, tiers
):
    ExchangeRate.objects.create(currency="VND", rate=D("0.00004"))

    response = post_sepay(client, sepay_body(sepay_id=77, amount=1_500_000, content=f"NAP{alice.pk}"))

    assert response.status_code == 200
    deposit = Deposit.objects.get(user=alice)
    assert (deposit.method, deposit.status, deposit.credited, deposit.bonus) == ("bank", "paid", D(60), D(3))
    rows = LedgerEntry.objects.filter(user=alice, deposit=deposit).order_by("id")
    assert [(row.kind, row.amount) for row in rows] == [("deposit", D(60)), ("bonus", D(3))]
    assert wallet_balance(user=alice) == D(163)
