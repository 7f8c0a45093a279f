"""The Content-Security-Policy: customer pages run the panel's own files only; the admin gets what
django-unfold needs and nothing from elsewhere. (tests/conftest.py's `watch_csp` makes every browser test
fail on anything the policy refused in real Chromium.)"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("name", ["home", "account_login", "api:docs"])
def test_pages_allow_no_inline_script_or_style(client, name):
    policy = directives(client.get(reverse(name)))

    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_a_signed_in_customer_s_pages_have_it_too(client, alice):
    client.force_login(alice)

    assert directives(client.get(reverse("dashboard")))["script-src"] == ["'self'"]


def test_the_admin_gets_inline_code_from_its_own_origin_only(admin_client):
    policy = directives(admin_client.get("/admin/"))

    assert policy["script-src"] == ["'self'", "'unsafe-inline'", "'unsafe-eval'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
