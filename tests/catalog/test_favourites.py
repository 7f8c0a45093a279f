"""Favourites: a customer stars services and lists only those; nobody sees another's stars."""

import pytest

from catalog.models import FavouriteService, Provider, Service
from catalog.services import favourite_set, favourite_toggle
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def star_url(service):
    return f"/services/{service.pk}/favourite/"


def favourites_of(user):
    return set(FavouriteService.objects.filter(user=user).values_list("service_id", flat=True))


def test_it_stars_and_unstars_a_service(alice, alice_client, followers):
    response = alice_client.post(star_url(followers), {"favourite": "1"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-pressed="true"' in html and "Remove from favourites" in html
    assert 'name="favourite" value="0"' in html  # the next click takes it out
    assert f'hx-post="/services/{followers.pk}/favourite/"' in html and 'hx-swap="outerHTML"' in html
    assert favourites_of(alice) == {followers.pk}

    response = alice_client.post(star_url(followers), {"favourite": "0"}, headers=HTMX)

    html = response.content.decode()
    assert 'aria-pressed="false"' in html and "Add to favourites" in html
    assert favourites_of(alice) == set()


def test_a_double_click_stars_it_once(alice, alice_client, followers):
    for _ in range(2):
        response = alice_client.post(star_url(followers), {"favourite": "1"}, headers=HTMX)
        assert 'aria-pressed="true"' in response.content.decode()

    assert FavouriteService.objects.filter(user=alice).count() == 1


def test_unstarring_twice_is_harmless(alice, alice_client, followers):
    favourite_set(user=alice, service=followers, favourite=True)

    for _ in range(2):
        alice_client.post(star_url(followers), {"favourite": "0"}, headers=HTMX)

    assert favourites_of(alice) == set()


def test_without_a_wanted_state_it_toggles(alice, followers):
    assert favourite_toggle(user=alice, service=followers) is True
    assert favourite_toggle(user=alice, service=followers) is False
    assert favourites_of(alice) == set()


def test_without_javascript_it_goes_back_to_the_catalog_page_it_was_on(alice, alice_client, followers):
    response = alice_client.post(star_url(followers), {"favourite": "1", "next": "/services/?q=insta&page=2"})

    assert response.status_code == 302
    assert response.url == "/services/?q=insta&page=2"
    assert favourites_of(alice) == {followers.pk}


@pytest.mark.parametrize("next_url", ["", "https://evil.example/services/", "//evil.example/"])
def test_it_never_goes_back_to_another_site(alice_client, followers, next_url):
    response = alice_client.post(star_url(followers), {"favourite": "1", "next": next_url})

    assert response.url == "/services/"


def test_charlies_favourites_are_not_alices(alice, charlie, alice_client, charlie_client, followers, likes):
    alice_client.post(star_url(followers), {"favourite": "1"})
    charlie_client.post(star_url(likes), {"favourite": "1"})
    charlie_client.post(star_url(followers), {"favourite": "0"})  # Charlie unstarring his own, not hers

    assert favourites_of(alice) == {followers.pk}
    assert favourites_of(charlie) == {likes.pk}
    assert charlie_client.get("/services/").context["favourite_ids"] == {likes.pk}


def test_favourites_only_lists_hers(alice, charlie, alice_client, followers, likes, comments):
    favourite_set(user=alice, service=followers, favourite=True)
    favourite_set(user=alice, service=comments, favourite=True)
    favourite_set(user=charlie, service=likes, favourite=True)

    response = alice_client.get("/services/", {"favourites": "1"})

    assert [service.pk for service in response.context["page"]] == sorted([followers.pk, comments.pk])
    assert response.context["favourites"] is True
    assert response.context["favourite_ids"] == {followers.pk, comments.pk}
    assert "favourites=1" in response.context["query"]  # kept by the pagination links


def test_favourites_only_combines_with_search_and_the_htmx_table(alice, alice_client, followers, comments):
    favourite_set(user=alice, service=followers, favourite=True)
    favourite_set(user=alice, service=comments, favourite=True)

    response = alice_client.get("/services/", {"favourites": "1", "q": "Comments"}, headers=HTMX)

    assert [service.pk for service in response.context["page"]] == [comments.pk]


def test_the_whole_catalog_still_says_which_are_hers(alice, alice_client, followers, likes):
    favourite_set(user=alice, service=followers, favourite=True)

    response = alice_client.get("/services/")

    assert response.context["favourites"] is False
    assert response.context["favourite_ids"] == {followers.pk}
    assert likes.pk in {service.pk for service in response.context["page"]}


def test_an_anonymous_visitor_asking_for_favourites_sees_the_whole_catalog(client, followers, likes):
    response = client.get("/services/", {"favourites": "1"})

    assert response.status_code == 200
    assert {followers.pk, likes.pk} <= {service.pk for service in response.context["page"]}
    assert response.context["favourites"] is False
    assert response.context["favourite_ids"] == set()


def test_a_disabled_service_cannot_be_starred(alice, alice_client):
    disabled = ServiceFactory(is_enabled=False)

    assert alice_client.post(star_url(disabled), {"favourite": "1"}).status_code == 404
    assert favourites_of(alice) == set()


def test_an_unsellable_service_cannot_be_starred(alice, alice_client):
    unsellable = ServiceFactory(type="Subscriptions", is_enabled=False)  # the database refuses to enable it

    assert alice_client.post(star_url(unsellable), {"favourite": "1"}, headers=HTMX).status_code == 404
    assert favourites_of(alice) == set()


def test_a_service_of_an_inactive_provider_cannot_be_starred(alice, alice_client, followers):
    Provider.objects.filter(pk=followers.provider_id).update(is_active=False)

    assert alice_client.post(star_url(followers), {"favourite": "1"}).status_code == 404


def test_an_unknown_service_is_not_found(alice_client, followers):
    missing = Service.objects.order_by("-pk").first().pk + 1

    assert alice_client.post(f"/services/{missing}/favourite/", {"favourite": "1"}).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, followers):
    response = client.post(star_url(followers), {"favourite": "1", "next": "/services/?q=insta"})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")
    assert "favourite" not in response.url  # back to the catalog afterwards, not to a POST-only address
    assert not FavouriteService.objects.exists()


def test_an_anonymous_htmx_click_redirects_the_whole_page(client, followers):
    response = client.post(star_url(followers), {"favourite": "1"}, headers=HTMX)

    assert response.headers["HX-Redirect"].startswith("/accounts/login/")
    assert not FavouriteService.objects.exists()


def test_it_takes_posts_only(alice_client, followers):
    assert alice_client.get(star_url(followers)).status_code == 405


def test_the_star_renders_nothing_for_an_anonymous_visitor(rf, followers):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    request = rf.get("/services/")
    request.user = AnonymousUser()

    html = render_to_string("catalog/_favourite.html", {"service": followers, "is_favourite": False}, request)

    assert html.strip() == ""


def test_the_star_works_without_javascript(rf, alice, followers):
    from django.template.loader import render_to_string

    request = rf.get("/services/?category=3")
    request.user = alice

    html = render_to_string("catalog/_favourite.html", {"service": followers, "is_favourite": False}, request)

    assert f'method="post" action="/services/{followers.pk}/favourite/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="next" value="/services/?category=3"' in html
    assert 'type="submit"' in html and 'aria-pressed="false"' in html
