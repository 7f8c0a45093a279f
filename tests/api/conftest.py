import pytest

from reseller.accounts.services import api_key_rotate


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
def alice(alice, client):
    """Alice (tests/conftest.py) with an API key; `alice.user` is her user."""
    return Customer(client, alice, api_key_rotate(user=alice))


@pytest.fixture
def charlie(charlie, client):
    """Should have no access to Alice's stuff."""
    return Customer(client, charlie, api_key_rotate(user=charlie))
