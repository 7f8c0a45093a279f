"""Payouts: available earnings move to the balance on request above the minimum, as one ledger row of kind
commission, exactly once; with approval on, only when staff approve (once), and a rejection gives the
commissions back."""

import re
from decimal import Decimal

import pytest

from affiliates import payouts
from affiliates.commissions import commissions_earn
from affiliates.models import Affiliate, Commission, Payout, PayoutStatus
from affiliates.payouts import PayoutRefused, payout_approve, payout_request
from orders.models import Status
from reseller.wallet.models import LedgerEntry
from reseller.wallet.selectors import ledger_check
from tests.factories import OrderFactory, StaffFactory
from tests.helpers import balance_of, meet_before, reload, run_together

HUNDRED = Decimal(100)


def earn(user, *charges):
    """Finished orders of `user` for these charges, their commissions earned (5% each)."""
    orders = [OrderFactory(user=user, charge=Decimal(charge), status=Status.COMPLETED) for charge in charges]
    commissions_earn(orders=orders)
    return orders


def commission_rows(alice):
    return LedgerEntry.objects.filter(user=alice, kind=LedgerEntry.Kind.COMMISSION)


@pytest.fixture
def approval(settings):
    settings.AFFILIATE_PAYOUT_APPROVAL = True


@pytest.mark.django_db
def test_below_the_minimum_a_request_is_refused_and_nothing_changes(alice, bob):
    earn(bob, "150", "49.99")  # 7.5 + 2.4995 = 9.9995, under 10

    with pytest.raises(PayoutRefused, match=r"once they reach \$10\.00; you have \$9\.9995\."):
        payout_request(user=alice)

    assert not Payout.objects.exists()
    assert not Commission.objects.filter(payout__isnull=False).exists()
    assert not commission_rows(alice).exists()
    assert balance_of(alice) == HUNDRED


@pytest.mark.django_db
def test_with_nothing_earned_a_request_says_so(alice, affiliate):
    with pytest.raises(PayoutRefused, match="no earnings to move yet"):
        payout_request(user=alice)


@pytest.mark.django_db
def test_above_the_minimum_the_exact_available_amount_moves_to_the_balance_once(alice, bob):
    earn(bob, "150", "49.99", "12.34567")  # 7.5 + 2.4995 + 0.61728
    available = Decimal("10.61678")

    payout = payout_request(user=alice)

    (row,) = commission_rows(alice)
    assert (row.amount, row.balance_after, row.request_token) == (
        available,
        HUNDRED + available,
        f"affiliate-payout:{payout.pk}",
    )
    assert (payout.status, payout.amount) == (PayoutStatus.PAID, available)
    assert list(reload(payout).events.values_list("from_status", "to_status")) == [
        ("", "requested"),
        ("requested", "paid"),
    ]
    assert set(Commission.objects.values_list("payout_id", flat=True)) == {payout.pk}
    assert balance_of(alice) == HUNDRED + available

    with pytest.raises(PayoutRefused):
        payout_request(user=alice)  # a second click: nothing left to move
    assert commission_rows(alice).count() == 1 and balance_of(alice) == HUNDRED + available

    earn(bob, "300")  # 15 more, later: a new payout of just that
    assert payout_request(user=alice).amount == Decimal("15")
    assert balance_of(alice) == HUNDRED + available + 15
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_button_moves_the_money_and_says_so(alice, alice_client, bob):
    earn(bob, "400")

    response = alice_client.post("/affiliates/payout/", follow=True)

    assert response.redirect_chain == [("/affiliates/", 302)]
    assert "$20.00 moved to your balance." in response.content.decode()
    assert balance_of(alice) == HUNDRED + 20

    response = alice_client.post("/affiliates/payout/", follow=True)  # the double click's second POST
    assert "no earnings to move yet" in response.content.decode()
    assert balance_of(alice) == HUNDRED + 20 and commission_rows(alice).count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_pay_one_ledger_row(alice, bob, monkeypatch):
    """Both requests have looked the affiliate up before either locks it: the row lock and the claim of
    commissions whose payout is still null make the second find nothing to move."""
    earn(bob, "400", "100")
    lock = meet_before(2, payouts.Affiliate.objects.for_user)
    monkeypatch.setattr(payouts.Affiliate.objects, "for_user", lock)

    results = run_together(2, lambda i: payout_request(user=alice))

    paid = [result for result in results if isinstance(result, Payout)]
    refused = [result for result in results if isinstance(result, PayoutRefused)]
    assert (len(paid), len(refused)) == (1, 1), results
    (row,) = commission_rows(alice)
    assert row.amount == Decimal("25") == paid[0].amount
    assert balance_of(alice) == HUNDRED + 25
    assert ledger_check().ok


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_staff_approving_at_once_pay_one_ledger_row(alice, bob, approval):
    earn(bob, "400")
    payout = payout_request(user=alice)
    copies = [Payout.objects.select_related("affiliate__user").get(pk=payout.pk) for _ in range(3)]
    staff = StaffFactory()

    results = run_together(3, lambda i: payout_approve(payout=copies[i], by=staff))

    assert sorted(results) == [False, False, True], results
    assert commission_rows(alice).count() == 1 and balance_of(alice) == HUNDRED + 20
    assert ledger_check().ok


def approve_in_admin(staff_client, payout, action="approve"):
    return staff_client.post(
        "/admin/affiliates/payout/", {"action": action, "_selected_action": [payout.pk]}, follow=True
    )


@pytest.mark.django_db
def test_with_approval_on_the_balance_waits_for_staff_and_approving_twice_pays_once(
    alice, bob, approval, staff_client
):
    earn(bob, "400")

    payout = payout_request(user=alice)

    assert payout.status == PayoutStatus.REQUESTED and balance_of(alice) == HUNDRED
    assert not commission_rows(alice).exists()

    response = approve_in_admin(staff_client, payout)
    assert "1 payout(s) paid to the balance: $20.00." in response.content.decode()
    response = approve_in_admin(staff_client, payout)
    assert "1 payout(s) were not awaiting approval: nothing paid for them." in response.content.decode()

    payout = reload(payout)
    assert (payout.status, payout.decided_by.is_staff) == (PayoutStatus.PAID, True)
    (row,) = commission_rows(alice)
    assert row.amount == Decimal("20") and balance_of(alice) == HUNDRED + 20
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_rejected_payout_returns_its_commissions_to_available(alice, bob, approval, staff_client):
    earn(bob, "400")
    payout = payout_request(user=alice)

    response = approve_in_admin(staff_client, payout, action="reject")

    assert "1 payout(s) rejected" in response.content.decode()
    assert reload(payout).status == PayoutStatus.REJECTED
    assert not Commission.objects.filter(payout__isnull=False).exists()
    assert balance_of(alice) == HUNDRED and not commission_rows(alice).exists()
    assert approve_in_admin(staff_client, payout).status_code == 200  # a rejected payout is not paid later
    assert balance_of(alice) == HUNDRED

    again = payout_request(user=alice)  # the same earnings can be asked for again
    assert again.amount == Decimal("20") and again.status == PayoutStatus.REQUESTED


@pytest.mark.django_db
def test_the_admin_lists_payouts_affiliates_commissions_and_referrals(alice, bob, approval, staff_client):
    earn(bob, "400")
    payout_request(user=alice)

    for page in ("payout", "affiliate", "commission", "referral"):
        response = staff_client.get(f"/admin/affiliates/{page}/")
        assert response.status_code == 200, page
        assert "alice" in response.content.decode()
    assert staff_client.get("/admin/affiliates/payout/?status__exact=requested").status_code == 200


def affiliate_code(user):
    return Affiliate.objects.get(user=user).code


def test_the_admin_lists_each_affiliates_sign_ups_and_earnings(alice, bob, staff_client):
    earn(bob, "400", "100")  # 20 + 5

    page = staff_client.get("/admin/affiliates/affiliate/").content.decode()

    at = page.index(">alice<")
    row = page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]
    cells = re.sub(r"<[^>]+>", " ", row).split()
    # user, code, (the override: an input), visits, sign-ups, earned
    assert cells[:5] == ["alice", affiliate_code(alice), "0", "1", "$25.00"]


def test_saving_an_affiliates_percent_in_admin_keeps_visits_counted_meanwhile(alice, affiliate, staff_client):
    form = staff_client.get(f"/admin/affiliates/affiliate/{affiliate.pk}/change/")
    assert form.status_code == 200
    Affiliate.objects.filter(pk=affiliate.pk).update(visits=7)  # visits while the form was open

    response = staff_client.post(
        f"/admin/affiliates/affiliate/{affiliate.pk}/change/", {"commission_percent": "12.5"}
    )

    assert response.status_code == 302
    affiliate.refresh_from_db()
    assert affiliate.commission_percent == Decimal("12.5") and affiliate.visits == 7


def test_a_payout_reads_as_affiliate_earnings_on_the_transactions_pages_in_each_language(
    alice, alice_client, bob
):
    earn(bob, "400")
    payout_request(user=alice)
    entry = commission_rows(alice).get()

    english = alice_client.get("/transactions/").content.decode()
    alice_client.post("/i18n/setlang/", {"language": "vi", "next": "/"})
    vietnamese = alice_client.get("/transactions/").content.decode()
    detail = alice_client.get(f"/transactions/{entry.public_id}/").content.decode()

    assert "Affiliate earnings" in english
    assert "Thu nhập giới thiệu" in vietnamese and "Thu nhập giới thiệu" in detail
    assert "Affiliate earnings" not in vietnamese + detail
