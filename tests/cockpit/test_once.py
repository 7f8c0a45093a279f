"""Back then Save never repeats a money move: the staff credit form and the place-an-order form carry a
signed one-time token in their address (reseller/once.py), and a token already used moves nothing again."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory
from django.urls import reverse

from orders.models import Order
from payments.models import Deposit
from reseller.once import PARAM, REFUSED, fresh_url, once_issue, once_read, once_redirect
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import wallet_balance
from tests.factories import StaffFactory, UserFactory, funded_user
from tests.helpers import balance_of

pytestmark = pytest.mark.django_db
D = Decimal
PLACE = "/admin/orders/order/place/"
LINK = "https://instagram.com/p/once"


@pytest.fixture
def staff(client):
    member = StaffFactory()
    client.force_login(member)
    return member


def credit_url(user):
    return reverse("admin:payments_deposit_credit", args=[Wallet.objects.get(user=user).pk])


def token_of(url):
    return parse_qs(urlsplit(url).query)[PARAM][0]


def page(response):
    return response.content.decode()


# The helper


def request_for(user, path="/form/", data=None, method="get"):
    request = getattr(RequestFactory(), method)(path, data or {})
    request.user = user
    return request


def test_a_token_is_valid_for_its_form_and_its_staff_member_only():
    alice, bob = StaffFactory(), StaffFactory()
    token = once_issue(request_for(alice), form="credit")

    mine = once_read(request_for(alice, data={PARAM: token}), form="credit", field="t")
    bobs = once_read(request_for(bob, data={PARAM: token}), form="credit", field="t")
    other_form = once_read(request_for(alice, data={PARAM: token}), form="place", field="t")
    forged = once_read(request_for(alice, data={PARAM: token[:-2] + "xx"}), form="credit", field="t")

    assert mine.valid and len(mine.key) == 32 and token.startswith(mine.key)
    assert not bobs.valid and not other_form.valid and not forged.valid


def test_a_post_reads_the_forms_field_before_the_address():
    staff = StaffFactory()
    posted, in_address = once_issue(request_for(staff), form="f"), once_issue(request_for(staff), form="f")
    request = request_for(staff, f"/form/?{PARAM}={in_address}", {"t": posted}, method="post")

    assert once_read(request, form="f", field="t").token == posted


def test_the_redirect_keeps_the_other_parameters_and_a_fresh_form_drops_only_the_token():
    staff = StaffFactory()

    response = once_redirect(request_for(staff, data={"customer": "7"}), form="f")

    assert response.status_code == 302 and "no-store" in response["Cache-Control"]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["customer"] == ["7"] and once_read(request_for(staff, data=query), form="f", field="t").valid
    assert fresh_url(request_for(staff, data={"customer": "7", PARAM: "x"})) == "/form/?customer=7"


# The credit form


def test_opening_the_credit_form_redirects_to_its_address_with_a_fresh_token(client, staff):
    customer = UserFactory()

    first, second = client.get(credit_url(customer)), client.get(credit_url(customer))

    assert first.status_code == 302 and first["Location"].startswith(credit_url(customer) + f"?{PARAM}=")
    assert token_of(first["Location"]) != token_of(second["Location"])


def test_the_form_carries_the_addresses_token_and_is_never_cached_nor_autocompleted(client, staff):
    url = client.get(credit_url(UserFactory()))["Location"]

    response = client.get(url)

    assert f'name="request_token" value="{token_of(url)}"' in page(response)
    assert 'autocomplete="off"' in page(response)
    assert "no-store" in response["Cache-Control"]


def test_the_same_credit_posted_again_credits_nothing_and_says_it_was_saved(client, staff):
    customer = UserFactory()
    url = client.get(credit_url(customer))["Location"]
    fields = {"amount": "20", "kind": "", "note": "Wire 55"}

    first = client.post(url, fields)
    again = client.post(url, fields)

    assert first.status_code == 302
    deposit = Deposit.objects.get(user=customer)
    assert again.status_code == 200 and "This form was already saved" in page(again)
    assert reverse("admin:payments_deposit_change", args=[deposit.pk]) in page(again)
    assert "Start a fresh form" in page(again) and 'name="amount"' not in page(again)
    assert wallet_balance(user=customer) == D(20) and LedgerEntry.objects.filter(user=customer).count() == 1


def test_going_back_to_a_saved_form_shows_what_it_saved_and_offers_a_fresh_one(client, staff):
    customer = UserFactory()
    url = client.get(credit_url(customer))["Location"]
    client.post(url, {"amount": "20", "kind": "", "note": "Wire 55"})

    back = client.get(url)  # Back, or a reload: the history entry has the token
    fresh = client.get(credit_url(customer))

    assert "This form was already saved" in page(back) and "no-store" in back["Cache-Control"]
    assert f'href="{credit_url(customer)}"' in page(back)
    assert token_of(fresh["Location"]) != token_of(url)
    client.post(fresh["Location"], {"amount": "5", "kind": "", "note": "Wire 56"})
    assert wallet_balance(user=customer) == D(25), "a fresh form credits again, on purpose"


def test_a_debit_posted_again_debits_once_and_links_to_its_ledger_row(client, staff):
    customer = funded_user("20")
    url = client.get(credit_url(customer))["Location"]
    fields = {"amount": "-5", "kind": "", "note": "Reversal"}

    client.post(url, fields)
    again = client.post(url, fields)

    entry = LedgerEntry.objects.filter(user=customer).latest("id")
    assert entry.kind == LedgerEntry.Kind.ADJUSTMENT and wallet_balance(user=customer) == D(15)
    assert reverse("admin:wallet_ledgerentry_change", args=[entry.pk]) in page(again)


def test_a_form_refused_for_its_amount_can_be_corrected_and_saved(client, staff):
    customer = funded_user("3")
    url = client.get(credit_url(customer))["Location"]

    refused = client.post(url, {"amount": "-5", "kind": "", "note": "Oops"})
    corrected = client.post(url, {"amount": "-2", "kind": "", "note": "Oops"})

    assert "Insufficient funds" in page(refused)
    assert corrected.status_code == 302 and wallet_balance(user=customer) == D(1)


def test_a_post_without_a_token_moves_nothing(client, staff):
    customer = UserFactory()

    response = client.post(credit_url(customer), {"amount": "20", "kind": "", "note": "Wire 55"})

    assert response.status_code == 200 and REFUSED in page(response)
    assert wallet_balance(user=customer) == 0 and not Deposit.objects.exists()


def test_a_forged_token_moves_nothing(client, staff):
    customer = UserFactory()
    url = client.get(credit_url(customer))["Location"]
    forged = token_of(url)[:-3] + "abc"

    response = client.post(url, {"amount": "20", "kind": "", "note": "x", "request_token": forged})

    assert REFUSED in page(response) and wallet_balance(user=customer) == 0


def test_another_staff_members_token_moves_nothing(client, staff):
    customer = UserFactory()
    url = client.get(credit_url(customer))["Location"]
    client.force_login(StaffFactory())

    response = client.post(url, {"amount": "20", "kind": "", "note": "x"})
    reopened = client.get(url)

    assert REFUSED in page(response) and wallet_balance(user=customer) == 0
    assert reopened.status_code == 302 and token_of(reopened["Location"]) != token_of(url), "theirs, not mine"


def test_a_token_of_another_customers_credit_form_moves_nothing(client, staff):
    alice, bob = UserFactory(), UserFactory()
    alices = token_of(client.get(credit_url(alice))["Location"])

    response = client.post(f"{credit_url(bob)}?{PARAM}={alices}", {"amount": "20", "kind": "", "note": "x"})

    assert REFUSED in page(response) and wallet_balance(user=bob) == 0


# The place-an-order form


def place_data(user, service, **fields):
    return {"customer": user.pk, "service": service.pk, "link": LINK, "quantity": "1000", **fields}


def test_opening_the_place_form_redirects_to_its_address_with_a_fresh_token(client, staff):
    response = client.get(PLACE)

    assert response.status_code == 302 and response["Location"].startswith(f"{PLACE}?{PARAM}=")
    form = client.get(response["Location"])
    assert f'name="client_token" value="{token_of(response["Location"])}"' in page(form)
    assert 'autocomplete="off"' in page(form) and "no-store" in form["Cache-Control"]


def test_the_same_order_posted_again_charges_once_and_says_it_was_saved(client, staff, alice, likes):
    url = client.get(PLACE)["Location"]

    first = client.post(url, place_data(alice, likes))
    again = client.post(url, place_data(alice, likes))
    back = client.get(url)

    order = Order.objects.get()
    assert first.status_code == 302 and order.client_token == token_of(url).split(":")[0]  # its key
    for response in (again, back):
        assert "This form was already saved" in page(response)
        assert reverse("admin:orders_order_change", args=[order.pk]) in page(response)
    assert balance_of(alice) == D(100) - order.charge


def test_back_then_another_customer_is_still_the_same_form(client, staff, alice, charlie, likes):
    url = client.get(PLACE)["Location"]
    client.post(url, place_data(alice, likes))

    again = client.post(url, place_data(charlie, likes))

    assert "This form was already saved" in page(again)
    assert Order.objects.count() == 1 and balance_of(charlie) == D(100)


def test_an_order_without_a_valid_token_is_not_placed(client, staff, alice, likes):
    without = client.post(PLACE, place_data(alice, likes))
    forged = client.post(PLACE, place_data(alice, likes, client_token="form-9"))

    assert REFUSED in page(without) and REFUSED in page(forged)
    assert not Order.objects.exists() and balance_of(alice) == D(100)


def test_a_credit_forms_token_does_not_place_an_order(client, staff, alice, likes):
    credit_token = token_of(client.get(credit_url(alice))["Location"])

    response = client.post(f"{PLACE}?{PARAM}={credit_token}", place_data(alice, likes))

    assert REFUSED in page(response) and not Order.objects.exists()
