"""The OpenAPI description at /api/v2/openapi.json: valid OpenAPI 3.1, made from the action definitions,
and what the endpoint really answers has the shapes it documents."""

import jsonschema
import pytest
from openapi_spec_validator import validate

from reseller.api.actions import ACTIONS
from tests.helpers import LINK

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def conforms(document, name: str, answer) -> bool:
    schema = {"anyOf": [{"$ref": f"#/components/schemas/{name}"}, {"$ref": "#/components/schemas/Error"}]}
    try:
        jsonschema.validate(answer, {**schema, "components": document["components"]})
    except jsonschema.ValidationError:
        return False
    return True


def test_the_description_is_valid_openapi_with_every_action(document):
    validate(document)

    schemas = document["components"]["schemas"]
    assert len([name for name in schemas if name.endswith("Request")]) == len(ACTIONS)
    assert schemas["AddRequest"]["properties"]["action"] == {
        "const": "add",
        "description": "The action's name, as in each heading below.",
    }
    assert set(schemas["AddRequest"]["required"]) == {"key", "action", "service"}
    assert "orders" in schemas["StatusOrdersRequest"]["required"]
    assert document["servers"] == [{"url": "http://testserver"}]


def test_the_docs_page_links_to_it(client):
    assert 'href="/api/v2/openapi.json"' in client.get("/api/").content.decode()


def test_the_endpoint_answers_what_the_description_says(document, alice, likes):
    placed = alice.call("add", service=likes.pk, link=LINK, quantity=100)
    order = placed["order"]
    calls = {
        "ServicesAnswer": alice.call("services"),
        "AddAnswer": placed,
        "StatusAnswer": alice.call("status", order=order),
        "StatusOrdersAnswer": alice.call("status", orders=f"{order},99999999"),
        "BalanceAnswer": alice.call("balance"),
        "RefillAnswer": alice.call("refill", order=order),  # not refillable yet: an error
        "RefillOrdersAnswer": alice.call("refill", orders=f"{order},5"),
        "RefillStatusAnswer": alice.call("refill_status", refill=1),
        "RefillStatusRefillsAnswer": alice.call("refill_status", refills="1,2"),
        "CancelAnswer": alice.call("cancel", orders=f"{order}"),
    }

    assert {name for name, answer in calls.items() if not conforms(document, name, answer)} == set()
    assert not conforms(document, "BalanceAnswer", {"balance": 5})  # it can tell a wrong shape


def test_errors_have_the_documented_shape(document, client):
    answer = client.post("/api/v2", {"key": "wrong", "action": "balance"}).json()

    jsonschema.validate(answer, document["components"]["schemas"]["Error"])
