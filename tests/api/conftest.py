import pytest

from catalog.models import Service
from reseller.accounts.services import api_key_rotate
from tests.factories import funded_user

LINK = "https://instagram.com/p/abc"


class Customer:
    """A customer with an API key, and a way to call the API as them."""

    def __init__(self, client, user, key):
        self.client, self.user, self.key = client, user, key

    def call(self, action, *, method="post", path="/api/v2", headers=None, **fields):
        data = {"key": self.key, "action": action, **{k: str(v) for k, v in fields.items()}}
        response = getattr(self.client, method)(path, data, headers=headers or {})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        return response.json()


@pytest.fixture
def alice(db, client):
    user = funded_user("100", username="alice")
    return Customer(client, user, api_key_rotate(user=user))


@pytest.fixture
def charlie(db, client):
    """Should have no access to Alice's stuff."""
    user = funded_user("100", username="charlie")
    return Customer(client, user, api_key_rotate(user=user))


@pytest.fixture
def likes(synced):
    """Instagram Likes: Default, 0.42 upstream, sold at 0.5460 per 1000, min 10, max 50000, cancel."""
    return Service.objects.get(provider=synced, upstream_id="2")


@pytest.fixture
def followers(synced):
    """Instagram Followers: Default, refill and cancel, min 100."""
    return Service.objects.get(provider=synced, upstream_id="1")


@pytest.fixture
def package(synced):
    return Service.objects.get(provider=synced, upstream_id="6")


@pytest.fixture
def comments(synced):
    """Instagram Custom Comments: min 5, max 500."""
    return Service.objects.get(provider=synced, upstream_id="4")


@pytest.fixture
def eager_celery():
    """Tasks run inline when queued (after commit), so a placed order reaches the simulator for real."""
    from reseller.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
