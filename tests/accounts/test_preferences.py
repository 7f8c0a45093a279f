"""A customer's language, time zone and email choice: the account page's form, the middleware that applies
them to every page, and the header's language switcher."""

from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reseller.wallet.models import LedgerEntry
from tests.helpers import reload

pytestmark = pytest.mark.django_db

PREFERENCES = reverse("accounts:preferences")


def test_the_account_page_has_the_preferences_form_with_common_time_zones_first(alice_client):
    page = alice_client.get(reverse("accounts:account")).content.decode()

    assert '<article class="card" id="preferences">' in page
    assert f'action="{PREFERENCES}"' in page
    assert page.index('value="Asia/Ho_Chi_Minh"') < page.index('value="Africa/Abidjan"')
    assert (
        'name="email_notifications"' in page and "checked" in page.split('name="email_notifications"')[1][:80]
    )


def test_the_form_saves_the_three_preferences(alice, alice_client):
    response = alice_client.post(
        PREFERENCES, {"language": "vi", "time_zone": "Asia/Ho_Chi_Minh", "email_notifications": ""}
    )

    assert response.status_code == 302 and response.url == reverse("accounts:account") + "#preferences"
    alice = reload(alice)
    assert (alice.language, alice.time_zone, alice.email_notifications) == ("vi", "Asia/Ho_Chi_Minh", False)
    assert response.cookies["django_language"].value == "vi"
    page = alice_client.get(reverse("accounts:account"))
    assert len(list(page.context["messages"])) == 1


def test_blank_means_the_browsers_language_and_the_panels_time_zone(alice, alice_client):
    alice.language, alice.time_zone = "vi", "Asia/Ho_Chi_Minh"
    alice.save()

    alice_client.post(PREFERENCES, {"language": "", "time_zone": "", "email_notifications": "on"})

    alice = reload(alice)
    assert (alice.language, alice.time_zone, alice.email_notifications) == ("", "", True)
    assert alice.zone == ZoneInfo("UTC")


@pytest.mark.parametrize(
    "field, value",
    [("time_zone", "Mars/Olympus_Mons"), ("time_zone", "utc+7"), ("language", "xx")],
)
def test_a_time_zone_or_language_the_panel_does_not_know_is_refused(alice, alice_client, field, value):
    data = {"language": "", "time_zone": "", "email_notifications": "on", field: value}

    response = alice_client.post(PREFERENCES, data)

    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    alice = reload(alice)
    assert (alice.language, alice.time_zone) == ("", "")


def test_the_model_refuses_an_unknown_time_zone_too(alice):
    from django.core.exceptions import ValidationError

    from reseller.accounts.services import user_preferences_update

    with pytest.raises(ValidationError):
        user_preferences_update(user=alice, language="", time_zone="Nowhere/City", email_notifications=True)
    assert reload(alice).time_zone == ""


def test_the_preferences_need_a_login_and_a_post(client, alice_client):
    assert client.post(PREFERENCES, {"language": "vi"}).status_code == 302  # to the login page
    assert alice_client.get(PREFERENCES).status_code == 405


# The middleware


def _when(page: str) -> str:
    return page.split('<time datetime="')[1].split('"')[0]


def test_times_are_shown_in_the_customers_time_zone(alice, alice_client):
    entry = LedgerEntry.objects.get(user=alice)
    url = reverse("wallet:transaction_detail", args=[entry.public_id])
    in_utc = _when(alice_client.get(url).content.decode())
    alice.time_zone = "Asia/Ho_Chi_Minh"
    alice.save()

    in_saigon = _when(alice_client.get(url).content.decode())

    assert in_utc == timezone.localtime(entry.created_at, ZoneInfo("UTC")).isoformat()
    assert in_saigon == timezone.localtime(entry.created_at, ZoneInfo("Asia/Ho_Chi_Minh")).isoformat()
    assert in_saigon.endswith("+07:00")


def test_a_customers_language_wins_over_the_browsers(alice, alice_client):
    alice.language = "vi"
    alice.save()

    response = alice_client.get(reverse("dashboard"), headers={"accept-language": "en"})

    assert '<html lang="vi"' in response.content.decode()
    assert response["Content-Language"] == "vi"


def test_without_a_choice_the_browsers_language_is_used(alice_client, client):
    for visitor in (alice_client, client):
        response = visitor.get(reverse("home"), headers={"accept-language": "vi"})
        assert '<html lang="vi"' in response.content.decode()
        assert response["Content-Language"] == "vi"


def test_a_customers_time_zone_ends_with_their_request(alice, alice_client):
    alice.time_zone = "Asia/Ho_Chi_Minh"
    alice.save()

    assert alice_client.get(reverse("dashboard")).status_code == 200

    assert timezone.get_current_timezone_name() == "UTC"  # the thread's next visitor gets the panel's


# The header's language switcher


def test_the_switcher_saves_the_customers_language_and_the_next_page_is_in_it(alice):
    client = Client()
    client.force_login(alice)

    response = client.post(reverse("set_language"), {"language": "vi", "next": reverse("orders:list")})

    assert response.status_code == 302 and response.url == reverse("orders:list")
    assert reload(alice).language == "vi"
    page = client.get(response.url)
    assert '<html lang="vi"' in page.content.decode() and page["Content-Language"] == "vi"
    # Remembered on the account: another browser, without the cookie, is in Vietnamese too.
    elsewhere = Client()
    elsewhere.force_login(alice)
    assert elsewhere.get(reverse("dashboard"))["Content-Language"] == "vi"


def test_the_switcher_for_a_visitor_sets_only_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "vi", "next": "/services/"})

    assert response.status_code == 302 and response.url == "/services/"
    assert response.cookies["django_language"].value == "vi"
    assert client.get("/")["Content-Language"] == "vi"


def test_the_switcher_ignores_an_unknown_language_and_an_unsafe_next(alice, alice_client):
    response = alice_client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})

    assert response.status_code == 302 and response.url == "/"
    assert reload(alice).language == ""
    assert alice_client.get(reverse("set_language")).status_code == 405


@pytest.mark.parametrize("value", ["", "Asia/Ho_Chi_Minh", "Europe/Berlin"])
def test_the_quick_time_zone_select_is_the_html_django_s_select_makes(value):
    """The time zone list is written without a template per option: the same elements, attributes, groups,
    labels (escaped) and choice as Django's own Select."""
    from django import forms
    from django.test.html import parse_html

    from reseller.accounts.forms import QuickSelect, time_zone_choices

    choices = [*time_zone_choices(), ("<b>", "Tom & Jerry's <zone>")]
    attrs = {"id": "id_time_zone", "aria-describedby": "help"}
    quick = QuickSelect(choices=choices).render("time_zone", value, attrs)
    django = forms.Select(choices=choices).render("time_zone", value, attrs)

    assert parse_html(quick) == parse_html(django)
    assert quick.count(" selected") == 1
