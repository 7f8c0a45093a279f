"""The API page: generated from the same definitions as the endpoint, with working examples."""

import html
import json
import re

import pytest
import requests
from playwright.sync_api import expect

from reseller.accounts.models import ApiKey
from reseller.api.actions import ACTIONS, action_for, perform
from tests.browser.test_wallet import log_in
from tests.factories import UserFactory
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


def test_the_page_is_public_and_documents_every_action_from_the_definitions(client):
    response = client.get("/api/")

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    for action in ACTIONS:
        section = page.split(f'id="{action.anchor}"', 1)[1].split("</section>", 1)[0]
        assert str(action.title) in section and f"action={action.name}" in section
        assert action.example_json() in section
        for param in action.params:
            assert f"<code>{param.name}</code>" in section
        assert "curl -X POST http://testserver/api/v2" in section
        assert 'requests.post(\n    "http://testserver/api/v2"' in section
    assert "to create your API key" in page and "Create API key" not in page


def test_the_nav_links_to_the_page(client):
    assert 'href="/api/"' in client.get("/").content.decode()


def test_a_logged_in_customer_gets_the_key_button_from_the_account_page(client):
    client.force_login(UserFactory())

    page = client.get("/api/").content.decode()

    assert "Create API key" in page and 'action="/account/api-key/"' in page


def fits(example, real) -> bool:
    """The real answer has the documented structure: the same keys (a service's `desc` may be missing) and
    value types; every row of a list, and every slot of an id map, like one of the documented ones."""
    if isinstance(example, dict) and isinstance(real, dict):
        if real and all(str(key).isdigit() for key in real):
            return all(any(fits(slot, value) for slot in example.values()) for value in real.values())
        return (
            set(real) <= set(example)
            and set(example) - set(real) <= {"desc"}
            and all(fits(example[key], value) for key, value in real.items())
        )
    if isinstance(example, list) and isinstance(real, list):
        return all(any(fits(row, value) for row in example) for value in real)
    return type(example) is type(real)


def as_sent(answer):
    """An answer as a client reads it: JSON, round-tripped."""
    return json.loads(json.dumps(answer))


def test_every_example_answer_has_the_shape_the_endpoint_answers(alice, followers, likes, simulator):
    """The examples on the page cannot drift from what the endpoint answers: same keys, same value types."""
    from orders.refills import refill_request, refills_submit
    from reseller.api.actions import Call
    from tests.helpers import finish, place

    done, refillable, other = finish(simulator, place(alice.user, followers, count=3))
    (running,) = place(alice.user, followers)
    refill = refill_request(user=alice.user, order=done)
    refills_submit(refill_ids=[refill.pk])
    fields = {
        ("services", None): {},
        ("add", None): {"service": str(likes.pk), "link": LINK, "quantity": "100"},
        ("status", None): {"order": str(done.pk)},
        ("status", "orders"): {"orders": f"{done.pk},{running.pk}"},
        ("balance", None): {},
        ("refill", None): {"order": str(refillable.pk)},
        ("refill", "orders"): {"orders": str(other.pk)},
        ("refill_status", None): {"refill": str(refill.pk)},
        ("refill_status", "refills"): {"refills": str(refill.pk)},
        ("cancel", None): {"orders": str(running.pk)},
    }
    assert {(action.name, action.when) for action in ACTIONS} == set(fields), "every action is checked"

    for action in ACTIONS:
        real = as_sent(perform(action, Call(user=alice.user, data=fields[action.name, action.when])))
        assert "error" not in json.dumps(real), (action.name, real)
        assert fits(as_sent(action.example()), real), (action.name, action.example(), real)


def test_the_curl_example_is_a_real_request(alice, client):
    action = action_for("balance", {})
    fields = dict(re.findall(r"-d '?([a-z_]+)=([^'\s]*)'?", action.curl("http://testserver/api/v2")))
    fields["key"] = alice.key

    assert client.post("/api/v2", fields).json() == json.loads(action.example_json()) | {
        "balance": "100.00000"
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_creates_a_key_on_the_api_page_and_it_works(live_server, page):
    UserFactory(username="alice")
    log_in(page, live_server.url, "alice")

    page.goto(live_server.url + "/api/")
    expect(page.locator("#api-url")).to_have_text(live_server.url + "/api/v2")
    page.click("text=Create API key")
    key = page.locator("#new-api-key").inner_text()

    assert page.url == live_server.url + "/api/", "made in place, without leaving the page"
    assert ApiKey.objects.get().prefix == key[:8]
    answer = requests.post(f"{live_server.url}/api/v2", data={"key": key, "action": "balance"}, timeout=10)
    assert answer.json() == {"balance": "0.00000", "currency": "USD"}


@pytest.mark.django_db(transaction=True)
def test_the_python_example_runs_as_printed(live_server, alice, capsys):
    action = action_for("balance", {})
    code = action.python(f"{live_server.url}/api/v2").replace("YOUR_API_KEY", alice.key)

    exec(compile(code, "example.py", "exec"), {})  # noqa: S102  (our own example, as a customer runs it)

    assert capsys.readouterr().out.strip() == "{'balance': '100.00000', 'currency': 'USD'}"
