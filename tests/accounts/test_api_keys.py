"""API keys: made and rotated on the account page, shown once, stored only as prefix and hash."""

import logging
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from reseller.accounts.models import ApiKey
from reseller.accounts.services import api_key_authenticate, api_key_rotate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_key_authenticates_its_owner():
    user = UserFactory()

    key = api_key_rotate(user=user)

    assert len(key) >= 40
    assert api_key_authenticate(key=key) == user


def test_the_key_is_stored_only_as_prefix_and_hash():
    user = UserFactory()

    key = api_key_rotate(user=user)

    stored = ApiKey.objects.get(user=user)
    assert stored.prefix == key[:8]
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64


@pytest.mark.parametrize("bad", ["", "short", "x" * 48, None, 12345])
def test_anything_but_a_real_key_authenticates_nobody(bad):
    api_key_rotate(user=UserFactory())

    assert api_key_authenticate(key=bad) is None


def test_a_key_with_the_right_prefix_but_wrong_rest_authenticates_nobody():
    key = api_key_rotate(user=UserFactory())

    assert api_key_authenticate(key=key[:8] + "0" * (len(key) - 8)) is None


def test_rotating_replaces_the_old_key_at_once():
    user = UserFactory()
    old = api_key_rotate(user=user)

    new = api_key_rotate(user=user)

    assert api_key_authenticate(key=old) is None
    assert api_key_authenticate(key=new) == user
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_deactivated_customers_key_stops_working():
    user = UserFactory()
    key = api_key_rotate(user=user)
    user.is_active = False
    user.save()

    assert api_key_authenticate(key=key) is None


def test_using_a_key_records_when_it_was_last_used():
    user = UserFactory()
    key = api_key_rotate(user=user)

    api_key_authenticate(key=key)

    assert ApiKey.objects.get(user=user).last_used_at is not None


def test_the_account_page_creates_a_key_and_shows_it_only_once(client):
    user = UserFactory()
    client.force_login(user)

    created = client.post(reverse("accounts:api_key_rotate"))
    later = client.get(reverse("accounts:account"))

    key = re.search(r'<code class="secret" id="new-api-key">(\w+)</code>', created.content.decode()).group(1)
    assert api_key_authenticate(key=key) == user
    assert "no-store" in created["Cache-Control"]
    assert key not in later.content.decode()
    assert f"<code>{key[:8]}…</code>" in later.content.decode()


def test_rotating_with_htmx_returns_only_the_key_card(client):
    user = UserFactory()
    client.force_login(user)
    api_key_rotate(user=user)

    response = client.post(reverse("accounts:api_key_rotate"), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert page.lstrip().startswith('<article class="card" id="api-key">')
    assert "shown only this once" in page and "<html" not in page


def test_the_account_page_links_to_password_and_two_factor_settings(client):
    client.force_login(UserFactory())

    page = client.get(reverse("accounts:account")).content.decode()

    assert reverse("account_change_password") in page and reverse("mfa_index") in page


def test_keys_can_only_be_made_by_post(client):
    client.force_login(UserFactory())

    assert client.get(reverse("accounts:api_key_rotate")).status_code == 405
    assert not ApiKey.objects.exists()


def test_the_key_is_never_logged(client, caplog):
    user = UserFactory()
    client.force_login(user)

    with caplog.at_level(logging.DEBUG):
        response = client.post(reverse("accounts:api_key_rotate"))
        key = re.search(r'id="new-api-key">(\w+)<', response.content.decode()).group(1)
        api_key_authenticate(key=key)
        api_key_authenticate(key=key[:-1] + "x")

    assert key not in caplog.text


def test_create_api_key_prints_a_working_key():
    user = UserFactory(username="alice")
    out = StringIO()

    call_command("create_api_key", "alice", stdout=out)

    assert api_key_authenticate(key=out.getvalue().strip()) == user


def test_create_api_key_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_key", "ghost")
