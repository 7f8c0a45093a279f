"""Brute-force lockout by username and address together; TOTP two-factor, required of staff when set."""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, login, password=PASSWORD, ip="10.0.0.1"):
    return client.post(reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip)


def is_logged_in(client):
    return client.get(reverse("dashboard")).status_code == 200


@pytest.fixture
def limit_3(settings):
    settings.AXES_FAILURE_LIMIT = 3


def fail_3_times(client, login="alice", ip="10.0.0.1"):
    for _ in range(3):
        log_in(client, login, "wrong-password", ip=ip)


def test_repeated_failures_lock_the_account_from_that_address(client, limit_3):
    UserFactory(username="alice")
    fail_3_times(client)

    response = log_in(client, "alice")

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert not is_logged_in(client)


@pytest.mark.parametrize("login", ["ALICE", "alice@example.com"])
def test_the_lock_holds_whatever_the_account_is_called(client, limit_3, login):
    UserFactory(username="alice")
    fail_3_times(client)

    assert log_in(client, login).status_code == 429


def test_the_same_account_can_still_log_in_from_another_address(client, limit_3):
    UserFactory(username="alice")
    fail_3_times(client)

    log_in(client, "alice", ip="10.0.0.2")

    assert is_logged_in(client)


def test_another_account_can_still_log_in_from_the_same_address(client, limit_3):
    UserFactory(username="alice")
    UserFactory(username="bob")
    fail_3_times(client)

    log_in(client, "bob")

    assert is_logged_in(client)


def test_fewer_failures_than_the_limit_do_not_lock(client, limit_3):
    UserFactory(username="alice")
    log_in(client, "alice", "wrong-password")
    log_in(client, "alice", "wrong-password")

    log_in(client, "alice")

    assert is_logged_in(client)


def test_the_admin_login_is_locked_too(client, limit_3):
    StaffFactory(username="boss")
    fail_3_times(client, login="boss")

    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": "boss", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
    )

    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_client_login_still_works_in_tests(client):
    UserFactory(username="alice")

    assert client.login(username="alice", password=PASSWORD)


# Two-factor authentication


def totp_now(secret):
    """The current RFC 6238 code for a base32 secret (what an authenticator app shows)."""
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def activate_totp(client):
    """What a person does: confirm the password, scan the code, type what the app shows."""
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_now(secret)})
    assert response.status_code == 302, response.content.decode()
    return secret


def test_a_customer_can_turn_on_totp_and_then_login_asks_for_a_code(client):
    UserFactory(username="alice")
    log_in(client, "alice")
    secret = activate_totp(client)
    client.post(reverse("account_logout"))

    response = log_in(client, "alice")

    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert not is_logged_in(client)
    client.post(reverse("mfa_authenticate"), {"code": "000000" if totp_now(secret) != "000000" else "111111"})
    assert not is_logged_in(client)
    client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})
    assert is_logged_in(client)


def test_staff_need_no_two_factor_unless_it_is_required(client, settings):
    settings.STAFF_REQUIRE_2FA = False
    client.force_login(StaffFactory())

    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/", "/dashboard/", "/transactions/"])
def test_when_required_staff_without_two_factor_are_sent_to_set_it_up(client, settings, path):
    settings.STAFF_REQUIRE_2FA = True
    client.force_login(StaffFactory())

    response = client.get(path)

    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")


def test_when_required_staff_can_still_set_it_up_and_log_out(client, settings):
    settings.STAFF_REQUIRE_2FA = True
    StaffFactory(username="boss")
    log_in(client, "boss")

    setup = client.get(reverse("mfa_activate_totp"), follow=True)  # allauth asks for the password first
    assert setup.status_code == 200 and setup.request["PATH_INFO"] == reverse("account_reauthenticate")
    activate_totp(client)
    assert client.get("/admin/").status_code == 200
    assert Authenticator.objects.filter(user__username="boss", type=Authenticator.Type.TOTP).exists()


def test_when_required_customers_are_not_asked_for_two_factor(client, settings):
    settings.STAFF_REQUIRE_2FA = True
    client.force_login(UserFactory())

    assert client.get(reverse("dashboard")).status_code == 200


def test_when_required_the_api_still_answers_json_to_a_staff_browser(client, settings):
    settings.STAFF_REQUIRE_2FA = True
    client.force_login(StaffFactory())

    response = client.post("/api/v2", {"action": "balance"})

    assert response.status_code == 200 and response.json() == {"error": "Invalid API key"}


def test_guessing_two_factor_codes_is_cut_off_even_with_the_right_password(client):
    UserFactory(username="alice")
    log_in(client, "alice")
    secret = activate_totp(client)
    client.post(reverse("account_logout"))
    log_in(client, "alice")
    wrong = "000000" if totp_now(secret) != "000000" else "111111"

    for _ in range(6):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
    client.post(reverse("mfa_authenticate"), {"code": totp_now(secret)})

    assert not is_logged_in(client), "after a run of wrong codes even the right one is refused for a while"
