"""Schemathesis against our OpenAPI description (/api/v2/openapi.json), through the WSGI app: requests made
from the schema, with a real key so that actions run, must never get a 5xx or HTML, and every answer must
have a documented shape (an action's answer, or `{"error": ...}`) and status. (Schemathesis's own pytest
plugin does not run on pytest 9, so its cases are drawn here as a Hypothesis strategy.)"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

# Not `negative_data_rejection`: the protocol answers a bad request with HTTP 200 and {"error": "..."}, which
# its clients expect (a 4xx would make them raise before reading the message).
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance, status_code_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, called in the test's own transaction: as Django's test client does, the end of a
    request's start and end do not close the database connection."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def cases(wsgi_app):
    api = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", wsgi_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert {f"{operation.method.upper()} {operation.path}" for operation in operations} == {
        "GET /api/v2",
        "POST /api/v2",
    }
    return st.one_of(*(operation.as_strategy() for operation in operations))


@pytest.fixture
def key(alice, likes, settings):
    settings.API_RATE_LIMIT = settings.API_BAD_KEY_LIMIT = "100000/m"
    return alice.key  # tests/api/conftest.py's customer, with a service to order


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_endpoint_answers_what_its_description_says(cases, key, data):
    case = data.draw(cases)
    if isinstance(case.body, dict) and data.draw(st.booleans()):
        case.body["key"] = key  # half of them with the customer's key, so that actions run
    if case.query and "key" in case.query:
        case.query["key"] = key

    case.call_and_validate(checks=CHECKS)
