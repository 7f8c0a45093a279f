"""Referral links and sign-ups: a visit counts once per browser and leaves a 30-day cookie; a sign-up with
the cookie is attributed to the affiliate once, never to the customer themself."""

import pytest
from django.test import Client

from affiliates.models import Affiliate, Referral
from affiliates.referrals import COOKIE_NAME, referral_attribute
from tests.factories import UserFactory
from tests.helpers import reload

pytestmark = pytest.mark.django_db

THIRTY_DAYS = 30 * 24 * 60 * 60


def sign_up(client, username, email=None):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email or f"{username}@example.org",
            "password1": "a-Long-pass-4821",
            "password2": "a-Long-pass-4821",
        },
    )


def test_a_visit_sets_the_cookie_for_thirty_days_counts_once_and_sends_to_sign_up(affiliate):
    client = Client()

    response = client.get(f"/r/{affiliate.code}")

    assert response.status_code == 302 and response["Location"] == "/accounts/signup/"
    cookie = response.cookies[COOKIE_NAME]
    assert cookie.value == affiliate.code
    assert int(cookie["max-age"]) == THIRTY_DAYS
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert reload(affiliate).visits == 1

    client.get(f"/r/{affiliate.code}/")  # again, with the cookie (and the trailing slash)
    assert reload(affiliate).visits == 1, "the same browser counts once"

    Client().get(f"/r/{affiliate.code.upper()}")  # another browser, the code typed in capitals
    assert reload(affiliate).visits == 2


def test_the_affiliates_own_visit_counts_nothing_and_leaves_no_cookie(affiliate, alice_client):
    response = alice_client.get(f"/r/{affiliate.code}")

    assert response.status_code == 302 and response["Location"] == "/"
    assert COOKIE_NAME not in response.cookies
    assert reload(affiliate).visits == 0


def test_a_customer_already_signed_up_counts_no_visit(affiliate, charlie_client):
    """No sign-up can follow a logged-in customer's visit: counting it would only lower the conversion.
    The cookie is still left, for a sign-up from that browser after logging out."""
    response = charlie_client.get(f"/r/{affiliate.code}")

    assert response.status_code == 302 and response["Location"] == "/"
    assert reload(affiliate).visits == 0
    assert response.cookies[COOKIE_NAME].value == affiliate.code


@pytest.mark.parametrize("code", ["nosuchcd", "x" * 200, "%20"])
def test_an_unknown_code_goes_home_without_a_cookie(affiliate, code):
    response = Client().get(f"/r/{code}")

    assert response.status_code == 302 and response["Location"] == "/"
    assert COOKIE_NAME not in response.cookies
    assert reload(affiliate).visits == 0


def test_the_code_of_a_deactivated_customer_is_unknown(affiliate, alice):
    alice.is_active = False
    alice.save()

    response = Client().get(f"/r/{affiliate.code}")

    assert response["Location"] == "/" and COOKIE_NAME not in response.cookies


def test_a_sign_up_through_the_link_is_attributed_to_the_affiliate(affiliate):
    client = Client()
    client.get(f"/r/{affiliate.code}")

    response = sign_up(client, "dora")

    assert response.status_code == 302, response.content[:500]
    referral = Referral.objects.get()
    assert (referral.affiliate, referral.referred.username) == (affiliate, "dora")


@pytest.mark.parametrize("code", ["%00", "a%00b", "\u00e9" * 8])
def test_a_code_that_cannot_be_one_is_never_looked_up(affiliate, code, django_assert_num_queries):
    """A NUL byte would make PostgreSQL refuse the query: such a code goes home before any."""
    with django_assert_num_queries(0):
        response = Client().get(f"/r/{code}")

    assert response.status_code == 302 and response["Location"] == "/"


def test_a_link_checker_asking_head_follows_the_redirect(affiliate):
    assert Client().head(f"/r/{affiliate.code}").status_code == 302


def test_a_broken_referral_cookie_never_fails_the_sign_up(affiliate):
    client = Client()
    client.cookies[COOKIE_NAME] = "ab\x00c"

    response = sign_up(client, "dora")

    assert response.status_code == 302
    assert not Referral.objects.exists()


def test_a_sign_up_without_the_cookie_is_nobodys(affiliate):
    assert sign_up(Client(), "dora").status_code == 302
    assert not Referral.objects.exists()


def test_a_sign_up_with_the_affiliates_own_email_is_not_attributed(affiliate, alice):
    """A second account of the affiliate's (allauth refuses a taken address; case aside, an old account
    may have one): no commission on their own spending."""
    referral_attribute(user=UserFactory(username="alice2", email=alice.email.upper()), code=affiliate.code)

    assert not Referral.objects.exists()


def test_nobody_refers_themself(affiliate, alice):
    assert referral_attribute(user=alice, code=affiliate.code) is None
    assert not Referral.objects.exists()


def test_a_referred_customer_stays_with_their_first_affiliate(affiliate, charlie):
    dora = UserFactory(username="dora")
    first = referral_attribute(user=dora, code=affiliate.code)
    other = Affiliate.objects.for_user(charlie)

    assert referral_attribute(user=dora, code=other.code) is None
    assert referral_attribute(user=dora, code=affiliate.code) is None

    assert list(Referral.objects.values_list("pk", "affiliate_id", "referred_id")) == [
        (first.pk, affiliate.pk, dora.pk)
    ]


def test_each_customer_gets_one_short_unambiguous_code(alice, charlie):
    codes = {Affiliate.objects.for_user(user).code for user in (alice, charlie, alice)}

    assert len(codes) == 2 and Affiliate.objects.count() == 2
    for code in codes:
        assert len(code) == 8 and not set(code) & set("01ilo")
