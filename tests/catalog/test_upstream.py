"""The upstream client against the simulator over real HTTP, and `responses` for what it cannot produce
(DNS failures and connect timeouts need a network we do not have; odd shapes only some providers send)."""

import logging
import socket
from decimal import Decimal

import pytest
import requests
import responses
import urllib3
from hypothesis import given
from hypothesis import strategies as st

from catalog import protocol, upstream
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.upstream import (
    Ambiguous,
    Client,
    ItemError,
    Overloaded,
    Rejected,
    Throttled,
    Unreachable,
    backs_off,
)
from tests.conftest import SIMULATOR_KEY


@pytest.fixture
def client(simulator):
    return Client(simulator.url, SIMULATOR_KEY, connect_timeout=1, read_timeout=1)


def place(client):
    """Places an order at the minimum quantity of a Default service."""
    service = default_service(client)
    return client.add(service=service.service_id, link="https://example.com/p/1", quantity=service.min)


def default_service(client, **flags):
    for service in client.services()[0]:
        if service.type == "Default" and all(getattr(service, k) == v for k, v in flags.items()):
            return service
    raise AssertionError(f"the simulator has no Default service with {flags}")


def finish_all(simulator):
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)


# services ---------------------------------------------------------------------------------------------------


def test_services_are_typed(client):
    services, problems = client.services()

    assert problems == []
    assert len(services) >= 10
    first = services[0]
    assert isinstance(first.rate, Decimal)
    assert isinstance(first.min, int) and isinstance(first.max, int)
    assert isinstance(first.refill, bool) and isinstance(first.cancel, bool)
    assert {s.type for s in services} >= {"Default", "Package", "Custom Comments"}
    assert len({s.category for s in services}) >= 3
    assert first.raw["service"] in (int(first.service_id), first.service_id)


def essentials(service):
    return (
        service.service_id,
        service.name,
        service.type,
        service.category,
        service.rate,
        service.min,
        service.max,
        service.refill,
        service.cancel,
    )


def test_services_read_the_same_when_the_provider_sends_quirks():
    plain = SimulatorServer(Simulator(SimulatorConfig(key="k", seed=3))).start()
    quirky = SimulatorServer(Simulator(SimulatorConfig(key="k", seed=3, quirks=True))).start()
    try:
        plain_services, _ = Client(plain.url, "k").services()
        quirky_services, problems = Client(quirky.url, "k").services()
    finally:
        plain.stop()
        quirky.stop()

    assert problems == []
    assert [essentials(s) for s in quirky_services] == [essentials(s) for s in plain_services]
    assert any(not isinstance(s.raw["rate"], str) for s in quirky_services), "quirks should send numbers"


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(key=SIMULATOR_KEY, seed=5, quirks=True)])
def test_statuses_read_cleanly_when_the_provider_sends_quirks(client, simulator):
    service = default_service(client)
    ids = [
        client.add(service=service.service_id, link="https://example.com/q", quantity=service.min)
        for _ in range(20)
    ]
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 1.5)

    middle = client.statuses([*ids, "999999"])
    finish_all(simulator)
    final = client.statuses(ids)

    assert middle["999999"] == ItemError("Incorrect order ID")
    assert all(middle[i].status == "In progress" for i in ids)
    assert all(final[i].status in {"Completed", "Partial", "Canceled"} for i in ids)
    assert all(isinstance(final[i].remains, int) and isinstance(final[i].charge, Decimal) for i in ids)


# add and status ---------------------------------------------------------------------------------------------


def test_add_returns_the_upstream_order_id_and_status_follows_it(client, simulator):
    service = default_service(client)
    order_id = client.add(service=service.service_id, link="https://example.com/x", quantity=service.min)

    status = client.status(order_id)

    assert order_id.isdigit()
    assert status.status == protocol.OrderStatus.PENDING
    assert status.charge == (service.rate * service.min / 1000).quantize(Decimal("0.00001"))
    assert status.remains == service.min
    assert int(order_id) in simulator.simulator.orders


def test_status_of_many_orders_is_keyed_by_id_with_per_id_errors(client):
    first, second = place(client), place(client)

    answers = client.statuses([first, "999999999", second])

    assert set(answers) == {first, second, "999999999"}
    assert answers["999999999"] == ItemError("Incorrect order ID")
    assert answers[first].status == protocol.OrderStatus.PENDING


def test_status_of_many_asks_at_most_100_ids_per_call(client, monkeypatch):
    order_id = place(client)
    calls = []
    real_call = Client._call

    def spy(self, action, **params):
        calls.append(params)
        return real_call(self, action, **params)

    monkeypatch.setattr(Client, "_call", spy)

    answers = client.statuses([order_id, *range(900000, 900249)])

    assert [len(c["orders"].split(",")) for c in calls] == [100, 100, 50]
    assert len(answers) == 250
    assert answers[order_id].status == protocol.OrderStatus.PENDING


def test_final_statuses_carry_remains_and_the_reduced_charge(client, simulator):
    service = default_service(client)
    ids = [
        client.add(service=service.service_id, link="https://example.com/a", quantity=service.min * 2)
        for _ in range(30)
    ]
    finish_all(simulator)

    answers = client.statuses(ids)

    statuses = {a.status for a in answers.values()}
    assert statuses <= {"Completed", "Partial", "Canceled"}
    assert {"Completed", "Partial"} <= statuses
    for answer in answers.values():
        if answer.status == "Partial":
            assert 0 < answer.remains < service.min * 2
        if answer.status == "Canceled":
            assert answer.charge == 0


def test_a_provider_error_on_add_is_rejected_with_its_message(client):
    service = default_service(client)

    with pytest.raises(Rejected) as caught:
        client.add(service=service.service_id, link="https://example.com/x", quantity=service.min - 1)

    assert str(caught.value) == f"Quantity less than minimal {service.min}"


def test_a_wrong_key_is_rejected(simulator):
    with pytest.raises(Rejected, match="Invalid API key"):
        Client(simulator.url, "wrong-key").balance()


def test_status_of_an_unknown_order_is_rejected(client):
    with pytest.raises(Rejected, match="Incorrect order ID"):
        client.status("424242")


# balance, refill, cancel ------------------------------------------------------------------------------------


def test_balance_is_a_decimal_that_goes_down_with_orders(client):
    before = client.balance()
    place(client)
    after = client.balance()

    assert before.currency == "USD"
    assert isinstance(before.amount, Decimal)
    assert after.amount < before.amount


def test_refill_of_a_completed_order_then_its_status(client, simulator):
    service = default_service(client, refill=True)
    ids = [
        client.add(service=service.service_id, link="https://example.com/r", quantity=service.min)
        for _ in range(12)
    ]
    finish_all(simulator)
    completed = [i for i, s in client.statuses(ids).items() if s.status == "Completed"]
    assert len(completed) >= 2

    refill_id = client.refill(completed[0])
    many = client.refills([completed[1], "777777"])

    assert refill_id.isdigit()
    assert many["777777"] == ItemError("Incorrect order ID")
    assert client.refill_status(refill_id).status == "Pending"
    finish_all(simulator)
    statuses = client.refill_statuses([refill_id, many[completed[1]], "555"])
    assert statuses[refill_id].status in {"Completed", "Rejected"}
    assert statuses["555"] == ItemError("Refill not found")


def test_refill_of_an_unfinished_order_is_rejected(client):
    service = default_service(client, refill=True)
    order_id = client.add(service=service.service_id, link="https://example.com/r", quantity=service.min)

    with pytest.raises(Rejected):
        client.refill(order_id)


def test_cancel_is_accepted_while_pending_and_refused_otherwise(client, simulator):
    service = default_service(client, cancel=True)
    pending = client.add(service=service.service_id, link="https://example.com/c", quantity=service.min)
    no_cancel = default_service(client, cancel=False)
    other = client.add(service=no_cancel.service_id, link="https://example.com/c", quantity=no_cancel.min)

    answers = client.cancel([pending, other, "31337"])

    assert answers[pending] is True
    assert isinstance(answers[other], ItemError)
    assert answers["31337"] == ItemError("Incorrect order ID")
    assert client.status(pending).status == protocol.OrderStatus.CANCELED


# failures: what is safe to retry ----------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_unreachable():
    client = Client(f"http://127.0.0.1:{free_port()}/api/v2", "k")

    with pytest.raises(Unreachable):
        client.add(service="1", link="https://example.com", quantity=10)


@responses.activate
def test_a_dns_failure_is_unreachable():
    # No DNS here: replay the exception requests raises when a name does not resolve.
    failure = requests.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, "/api/v2", urllib3.exceptions.NameResolutionError("nowhere.invalid", None, "no such name")
        )
    )
    responses.post("https://nowhere.invalid/api/v2", body=failure)

    with pytest.raises(Unreachable):
        Client("https://nowhere.invalid/api/v2", "k").balance()


@responses.activate
def test_a_connect_timeout_is_unreachable():
    # A connect timeout needs an address that swallows SYNs; this machine may not send to any.
    responses.post("https://slow.example/api/v2", body=requests.ConnectTimeout("connect timed out"))

    with pytest.raises(Unreachable):
        Client("https://slow.example/api/v2", "k").balance()


def test_an_answer_after_the_timeout_is_ambiguous_and_the_order_exists(client, simulator):
    simulator.simulator.config.hang_seconds = 2
    service = default_service(client)
    before = len(simulator.simulator.orders)
    simulator.simulator.inject("timeout", action="add")

    with pytest.raises(Ambiguous, match="read timeout"):
        client.add(service=service.service_id, link="https://example.com/t", quantity=service.min)

    assert len(simulator.simulator.orders) == before + 1


@pytest.mark.parametrize("fault", ["http500", "html", "broken", "reset"])
def test_faults_that_may_hide_a_processed_request_are_ambiguous(client, simulator, fault):
    service = default_service(client)
    simulator.simulator.inject(fault, action="add")

    with pytest.raises(Ambiguous):
        client.add(service=service.service_id, link="https://example.com/f", quantity=service.min)


def test_an_injected_error_answer_is_rejected(client, simulator):
    simulator.simulator.inject("error")

    with pytest.raises(Rejected, match="Simulated failure"):
        client.balance()


def test_the_client_recovers_after_a_fault(client, simulator):
    simulator.simulator.inject("reset")
    with pytest.raises(Ambiguous):
        client.balance()

    assert client.balance().currency == "USD"


# the key stays secret ---------------------------------------------------------------------------------------


def test_the_key_never_shows_in_logs_errors_or_reprs(simulator, caplog):
    caplog.set_level(logging.DEBUG)
    key = SIMULATOR_KEY
    client = Client(simulator.url, key, read_timeout=0.5)
    failures = []
    for fault in ["error", "http500", "html", "broken", "reset"]:
        simulator.simulator.inject(fault)
        with pytest.raises(upstream.UpstreamError) as caught:
            client.balance()
        failures.append(caught.value)
    with pytest.raises(Unreachable) as refused:
        Client(f"http://127.0.0.1:{free_port()}/api/v2", key).balance()
    failures.append(refused.value)

    assert caplog.records, "the client should log its calls"
    assert key not in caplog.text
    assert key not in repr(client) and key not in str(vars(client).get("url"))
    for failure in failures:
        assert key not in str(failure) and key not in repr(failure)
        assert failure.__cause__ is None or key not in repr(failure.__cause__)


@responses.activate
def test_a_provider_error_echoing_the_key_is_scrubbed():
    responses.post("https://p.example/api/v2", json={"error": "Invalid API key s3cr3t-key-123"})

    with pytest.raises(Rejected) as caught:
        Client("https://p.example/api/v2", "s3cr3t-key-123").balance()

    assert "s3cr3t-key-123" not in str(caught.value)


# shapes only some providers send ----------------------------------------------------------------------------

URL = "https://p.example/api/v2"


@responses.activate
def test_multi_status_accepts_bare_string_errors_cases_and_negative_remains():
    responses.post(
        URL,
        json={
            "7": {"charge": 1.5, "start_count": 12, "status": "In Progress", "remains": "-2", "x": 1},
            "8": "Incorrect order ID",
            "9": {"charge": "0.1", "start_count": "", "status": "Exploded", "remains": "1"},
        },
    )

    answers = Client(URL, "k").statuses(["7", 8, "9"])

    assert answers["7"].status == "In progress"
    assert answers["7"].remains == -2
    assert answers["7"].charge == Decimal("1.5")
    assert answers["8"] == ItemError("Incorrect order ID")
    assert isinstance(answers["9"], ItemError) and "unknown status" in answers["9"].message


@responses.activate
def test_multi_refill_accepts_the_cards_single_object_and_string_ids():
    responses.post(URL, json={"refill": "41"})
    responses.post(URL, json=[{"order": "7", "refill": 42}, {"order": 8, "refill": {"error": "Not allowed"}}])

    assert Client(URL, "k").refills([7, 8]) == {"7": "41", "8": "41"}
    assert Client(URL, "k").refills([7, 8]) == {"7": "42", "8": ItemError("Not allowed")}


@responses.activate
def test_a_single_refill_error_is_rejected():
    responses.post(URL, json={"refill": {"error": "Refill is disabled"}})

    with pytest.raises(Rejected, match="Refill is disabled"):
        Client(URL, "k").refill(5)


@responses.activate
def test_refill_status_single_error_inside_status_is_rejected():
    responses.post(URL, json={"status": {"error": "Refill not found"}})

    with pytest.raises(Rejected, match="Refill not found"):
        Client(URL, "k").refill_status(5)


@responses.activate
def test_services_skip_unreadable_records_and_report_them():
    responses.post(
        URL,
        json=[
            {
                "service": "1",
                "name": "Likes",
                "type": "Default",
                "category": "IG",
                "rate": 0.9,
                "min": "10",
                "max": 1000,
                "refill": "1",
                "cancel": 0,
                "dripfeed": True,
                "desc": "Fast",
                "extra": [1],
            },
            {"service": 2, "name": "Broken", "rate": "abc", "min": 1, "max": 2},
        ],
    )

    services, problems = Client(URL, "k").services()

    assert [s.name for s in services] == ["Likes"]
    assert services[0].refill is True and services[0].cancel is False and services[0].dripfeed is True
    assert services[0].rate == Decimal("0.9") and services[0].description == "Fast"
    assert len(problems) == 1 and "abc" in problems[0].message


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b'{"order": 12', "application/json"),
        (200, b"", "application/json"),
        (200, b"<html><body>Checking your browser</body></html>", "text/html"),
        (403, b"<html>Forbidden</html>", "text/html"),
        (502, b'{"error": "Bad gateway"}', "application/json"),
        (200, b'{"status": "ok"}', "application/json"),
        (200, b'{"order": null}', "application/json"),
    ],
)
@responses.activate
def test_an_add_answer_without_an_order_id_is_ambiguous(status, body, content_type):
    responses.post(URL, body=body, status=status, content_type=content_type)

    with pytest.raises(Ambiguous):
        Client(URL, "k").add(service="1", link="https://example.com", quantity=10)


@responses.activate
def test_a_json_error_with_a_4xx_status_is_still_rejected():
    responses.post(URL, json={"error": "Invalid API key"}, status=403)

    with pytest.raises(Rejected, match="Invalid API key"):
        Client(URL, "k").balance()


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, {"error": "Too many requests"}, {"Retry-After": "30"}),
        (429, "<html>Slow down</html>", {"Retry-After": "30"}),
        (200, {"error": "Rate limit exceeded, try again later"}, {}),
    ],
)
def test_a_provider_that_throttles_is_throttled_not_rejected(status, body, headers):
    """A 429, or an error that says "too many requests", refused the request for now: safe to send again
    (an `add` too, unlike a refusal that fails the order), and says how long to wait when it does."""
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    responses.post(URL, status=status, headers=headers, **kwargs)

    with pytest.raises(Throttled) as caught:
        Client(URL, "k").add(service="1", link="https://example.com", quantity=10)

    assert isinstance(caught.value, Unreachable) and not isinstance(caught.value, Rejected)
    assert caught.value.retry_after == (30.0 if headers else None)
    assert backs_off(caught.value)


@responses.activate
def test_a_5xx_is_overloaded_and_backs_off_while_a_refusal_does_not():
    responses.post(URL, body="<h1>502 Bad Gateway</h1>", status=502)
    responses.post(URL, json={"error": "Incorrect order ID"})

    with pytest.raises(Overloaded) as failed:
        Client(URL, "k").status("1")
    with pytest.raises(Rejected) as refused:
        Client(URL, "k").status("1")

    assert isinstance(failed.value, Ambiguous) and backs_off(failed.value)
    assert not backs_off(refused.value)


@responses.activate
def test_a_provider_error_is_cleaned_for_customers():
    responses.post(URL, json={"error": "<b>Link</b>\n  is   invalid " + "x" * 500})

    with pytest.raises(Rejected) as caught:
        Client(URL, "k").add(service="1", link="https://example.com", quantity=10)

    assert str(caught.value).startswith("Link is invalid x")
    assert len(str(caught.value)) <= upstream.MESSAGE_LIMIT


def test_clients_of_one_provider_share_one_pooled_session():
    a, b = Client("https://a.example/api/v2", "k1"), Client("https://a.example/api/v2", "k1")
    other = Client("https://b.example/api/v2", "k2")

    assert a._session is b._session
    assert a._session is not other._session


def _ask_own_order(url, order_id, expected, go, answers):
    """In a forked child: the status of this child's order, three times, at once with its sibling."""
    client = Client(url, SIMULATOR_KEY, connect_timeout=2, read_timeout=5)
    go.wait()
    results = []
    for _ in range(3):
        try:
            results.append(str(client.status(order_id).charge))
        except upstream.UpstreamError as exc:
            results.append(f"error: {exc}")
    answers.put((expected, results))


def test_processes_forked_after_a_call_never_read_each_others_answers(client, simulator, monkeypatch):
    """Celery's prefork workers and the benchmarks fork after the parent may have called a provider: the
    children must not share its kept-alive connection, or one reads the answer meant for the other."""
    import multiprocessing

    from catalog import simulator as simulated

    peers = []  # the server runs in this process: the client address of every request it serves
    serve = simulated._Handler._serve

    def recorded(handler, body):
        peers.append(handler.client_address)
        serve(handler, body)

    monkeypatch.setattr(simulated._Handler, "_serve", recorded)
    service = default_service(client)
    small = client.add(service=service.service_id, link="https://example.com/p/1", quantity=service.min)
    large = client.add(service=service.service_id, link="https://example.com/p/2", quantity=service.min * 3)
    charges = {order: str(client.status(order).charge) for order in (small, large)}  # keeps a connection
    assert len(set(charges.values())) == 2
    assert len(set(peers)) == 1
    parents, before = set(peers), len(peers)
    simulator.simulator.config.latency = 0.1  # both children's requests are on the wire at once

    context = multiprocessing.get_context("fork")
    go, answers = context.Event(), context.Queue()
    children = [
        context.Process(target=_ask_own_order, args=(simulator.url, order, charge, go, answers))
        for order, charge in charges.items()
    ]
    for child in children:
        child.start()
    go.set()
    results = [answers.get(timeout=30) for _ in children]
    for child in children:
        child.join(10)

    for expected, got in results:
        assert got == [expected] * 3
    childrens = set(peers[before:])
    assert len(peers) == before + 6
    assert len(childrens) == 2 and not childrens & parents  # a connection of each child's own


# parsing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        ("1", True),
        (1, True),
        (0, False),
        ("0", False),
        ("true", True),
        (False, False),
        (None, False),
    ],
)
def test_booleans_in_every_spelling(raw, expected):
    assert upstream.parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["abc", "", None, True, "1.5", "NaN"])
def test_counts_must_be_whole_numbers(raw):
    with pytest.raises(ValueError):
        upstream.parse_int(raw)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=5, min_value=-(10**9), max_value=10**9))
def test_amounts_read_the_same_as_strings_or_numbers(amount):
    assert upstream.parse_decimal(str(amount)) == amount
    assert upstream.parse_decimal(float(amount)) == Decimal(str(float(amount)))


@given(st.integers(min_value=0, max_value=10**12))
def test_ids_are_canonical_whether_int_or_string(number):
    assert protocol.parse_id(number) == protocol.parse_id(str(number)) == str(number)


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.SSLError("bad record mac while reading"),
        requests.exceptions.ProxyError("proxy reset"),
    ],
)
@responses.activate
def test_tls_and_proxy_errors_may_come_after_sending_so_they_are_ambiguous(failure):
    # A TLS record corrupted after the provider read the request raises SSLError, like a handshake failure.
    responses.post("https://tls.example/api/v2", body=failure)

    with pytest.raises(Ambiguous):
        Client("https://tls.example/api/v2", "k").add(service="1", link="https://example.com", quantity=10)
