"""Sign-up, login, logout, password change and reset, through allauth; the admin logs in the same way."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from reseller.wallet.models import Wallet
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, login, password=PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def test_signing_up_makes_a_customer_with_a_zero_balance_and_logs_them_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "newcomer",
            "email": "new@example.com",
            "password1": "Tr1cky-Passw0rd",
            "password2": "Tr1cky-Passw0rd",
        },
    )

    user = get_user_model().objects.get(username="newcomer")
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert Wallet.objects.get(user=user).balance == 0
    assert not user.is_staff
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert '<span id="header-balance">$0.00</span>' in dashboard


def test_signing_up_needs_an_email_address(client):
    response = client.post(
        reverse("account_signup"),
        {"username": "newcomer", "password1": "Tr1cky-Passw0rd", "password2": "Tr1cky-Passw0rd"},
    )

    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com"])
def test_customers_log_in_with_username_or_email(client, login):
    UserFactory(username="alice")

    response = log_in(client, login)

    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_wrong_password_is_refused(client):
    UserFactory(username="alice")

    response = log_in(client, "alice", "not-it")

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_logging_out_ends_the_session(client):
    client.force_login(UserFactory())

    client.post(reverse("account_logout"))

    assert client.get(reverse("dashboard")).status_code == 302


def test_the_password_can_be_changed(client):
    user = UserFactory(username="alice")
    log_in(client, "alice")

    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "N3w-Secret-Words", "password2": "N3w-Secret-Words"},
    )

    user.refresh_from_db()
    assert user.check_password("N3w-Secret-Words")


def test_a_forgotten_password_is_reset_by_email(client):
    user = UserFactory(username="alice")

    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # allauth moves the key into the session, then redirects
    client.post(form_url, {"password1": "Fresh-Pass-2024", "password2": "Fresh-Pass-2024"})

    user.refresh_from_db()
    assert user.check_password("Fresh-Pass-2024")


def test_the_admin_sends_visitors_to_the_panel_login(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    login = client.get(response.url, follow=True)
    assert login.request["PATH_INFO"] == reverse("account_login")


def test_staff_reach_the_admin_after_logging_in_through_allauth(client):
    StaffFactory(username="boss")

    response = client.post(
        reverse("account_login") + "?next=/admin/", {"login": "boss", "password": PASSWORD}
    )

    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_customers_are_refused_the_admin(client):
    client.force_login(UserFactory())

    assert client.get("/admin/login/").status_code == 403


def test_the_plain_admin_login_form_cannot_be_used_to_bypass_allauth(client):
    StaffFactory(username="boss")

    client.post("/admin/login/", {"username": "boss", "password": PASSWORD})

    assert client.get("/admin/").status_code == 302


def test_a_customers_discount_starts_at_zero_and_stays_within_0_to_100():
    user = UserFactory()

    assert user.discount_percent == Decimal("0")
    user.discount_percent = Decimal("100.01")
    with pytest.raises(ValidationError):
        user.full_clean()
