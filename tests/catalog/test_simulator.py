"""The simulated provider, spoken to over raw HTTP as any client would."""

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest
import requests

from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer

KEY = "sim-key"
LINK = "https://instagram.com/p/abc"
ROOT = Path(__file__).resolve().parents[2]

# Services of the built-in catalog, by what the tests need of them.
FOLLOWERS = 1  # Default, 1.85 per 1000, 100..100000, refill and cancel
LIKES = 2  # Default, 0.42, 10..50000, cancel but no refill
REEL_VIEWS = 3  # Default, tiny rate 0.0042, neither refill nor cancel
COMMENTS = 4  # Custom Comments, 12.5, 5..500
MENTIONS = 5  # Mentions (unsupported type), 3.2, 100..10000
PACKAGE = 6  # Package at 2.9
TIKTOK_LIKES = 9  # Default, 0.65, refill but no cancel


@pytest.fixture
def server(make_server):
    return make_server()


def call(server, **fields):
    response = requests.post(server.url, data={"key": KEY, **fields}, timeout=5)
    assert response.status_code == 200
    return response.json()


def place(server, service=FOLLOWERS, quantity=1000, **fields):
    answer = call(server, action="add", service=service, link=LINK, quantity=quantity, **fields)
    return answer["order"]


def status(server, order_id):
    return call(server, action="status", order=order_id)


def balance(server):
    return Decimal(call(server, action="balance")["balance"])


def raw_add(server, timeout=5):
    """An add request whose answer the test inspects itself."""
    fields = {"key": KEY, "action": "add", "service": FOLLOWERS, "link": LINK, "quantity": 1000}
    return requests.post(server.url, data=fields, timeout=timeout)


def finish_orders(server):
    server.simulator.advance(3 * server.simulator.config.step_seconds)


# Requests and errors


def test_it_rejects_a_wrong_key(server):
    assert call(server, action="balance", key="nope") == {"error": "Invalid API key"}
    response = requests.post(server.url, data={"action": "balance"}, timeout=5)
    assert response.json() == {"error": "Invalid API key"}


def test_it_rejects_an_unknown_or_missing_action(server):
    assert call(server, action="transfer") == {"error": "Incorrect request"}
    assert call(server) == {"error": "Incorrect request"}


def test_it_answers_json_404_on_other_paths(server):
    response = requests.post(server.url.replace("/api/v2", "/api/v1"), data={"key": KEY}, timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_it_accepts_a_trailing_slash_and_a_get_query_string(server):
    response = requests.get(server.url + "/", params={"key": KEY, "action": "balance"}, timeout=5)
    assert response.json() == {"balance": "1000.00000", "currency": "USD"}


def test_it_keeps_the_connection_alive_between_requests(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(2):
        connection.request("POST", "/api/v2", body=f"key={KEY}&action=balance", headers=headers)
        response = connection.getresponse()
        assert json.loads(response.read())["balance"] == "1000.00000"
        assert not response.will_close
    connection.close()


def test_it_logs_each_request_without_the_key_or_the_link(server, caplog):
    caplog.set_level(logging.INFO, logger="catalog.simulator")
    order_id = place(server)
    status(server, 999)
    messages = [record.getMessage() for record in caplog.records if record.name == "catalog.simulator"]
    assert len(messages) == 2
    assert f"order {order_id}" in messages[0]
    assert "Incorrect order ID" in messages[1]
    assert all(KEY not in message and LINK not in message for message in messages)


# Services


def test_it_lists_the_built_in_catalog_in_the_cards_shapes(server):
    services = call(server, action="services")
    assert len(services) == 39
    assert [service["service"] for service in services] == list(range(1, len(services) + 1))
    for service in services:
        assert {"service", "name", "type", "category", "rate", "min", "max", "refill", "cancel"} <= set(
            service
        )
        assert isinstance(service["rate"], str) and isinstance(service["min"], str)
        assert isinstance(service["refill"], bool) and isinstance(service["cancel"], bool)
    types = {service["type"] for service in services}
    assert {"Default", "Package", "Custom Comments", "Mentions", "Poll", "Subscriptions", "SEO"} <= types
    assert {"Instagram", "TikTok", "YouTube", "Facebook", "Telegram", "Twitter"} <= {
        s["category"] for s in services
    }
    assert any("dripfeed" in service and "desc" in service for service in services)
    assert all(s["min"] == s["max"] == "1" for s in services if s["type"] == "Package")
    assert services[REEL_VIEWS - 1]["rate"] == "0.0042"


def test_it_generates_a_large_catalog_from_the_seed(make_server):
    first = call(make_server(services=10000, seed=7), action="services")
    again = call(make_server(services=10000, seed=7), action="services")
    other = call(make_server(services=10000, seed=8), action="services")
    assert len(first) == 10000
    assert [service["service"] for service in first] == list(range(1, 10001))
    assert first == again
    assert first != other
    categories = ["Instagram", "TikTok", "YouTube", "Facebook", "Telegram", "Twitter"]
    assert [service["category"] for service in first[:12]] == categories * 2


# Placing orders


def test_it_places_an_order_and_charges_the_balance(server):
    assert place(server, quantity=1000) == 10001
    assert place(server, service=REEL_VIEWS, quantity=1234) == 10002
    # 1.85 * 1000 / 1000 + 0.0042 * 1234 / 1000 = 1.85 + 0.0051828 -> 0.00518
    assert balance(server) == Decimal("1000") - Decimal("1.85") - Decimal("0.00518")
    order = server.simulator.orders[10002]
    assert (order.service, order.link, order.quantity) == (REEL_VIEWS, LINK, 1234)
    assert order.charge == Decimal("0.00518")
    assert status(server, 10001) == {
        "charge": "1.85000",
        "start_count": str(server.simulator.orders[10001].start_count),
        "status": "Pending",
        "remains": "1000",
        "currency": "USD",
    }


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"service": "999", "quantity": "1000"}, "Incorrect service ID"),
        ({"service": "abc", "quantity": "1000"}, "Incorrect service ID"),
        ({"quantity": "1000"}, "Incorrect service ID"),
        ({"service": FOLLOWERS, "quantity": "1000", "link": "instagram.com/p/abc"}, "Incorrect link"),
        ({"service": FOLLOWERS, "quantity": "1000", "link": ""}, "Incorrect link"),
        ({"service": FOLLOWERS, "quantity": "99"}, "Quantity less than minimal 100"),
        ({"service": FOLLOWERS, "quantity": "-5"}, "Quantity less than minimal 100"),
        ({"service": FOLLOWERS, "quantity": "100001"}, "Quantity more than maximum 100000"),
        ({"service": FOLLOWERS, "quantity": "12.5"}, "Incorrect request"),
        ({"service": FOLLOWERS}, "Incorrect request"),
        ({"service": COMMENTS, "comments": "one\ntwo"}, "Quantity less than minimal 5"),
    ],
)
def test_it_refuses_an_invalid_order_and_changes_nothing(server, fields, error):
    assert call(server, action="add", **{"link": LINK, **fields}) == {"error": error}
    assert server.simulator.orders == {}
    assert balance(server) == Decimal("1000")


def test_it_refuses_an_order_the_balance_cannot_pay(make_server):
    server = make_server(balance=Decimal("1.84"))
    assert call(server, action="add", service=FOLLOWERS, link=LINK, quantity=1000) == {
        "error": "Not enough funds on balance"
    }
    assert server.simulator.orders == {}
    assert balance(server) == Decimal("1.84")


def test_it_sells_a_package_whole_at_its_rate(server):
    order_id = call(server, action="add", service=PACKAGE, link=LINK)["order"]
    assert server.simulator.orders[order_id].quantity == 1
    assert status(server, order_id)["charge"] == "2.90000"
    assert balance(server) == Decimal("997.1")


def test_it_counts_custom_comments_as_the_quantity(server):
    comments = "Great!\n\nLove it\r\nWow\nNice\nSo good\n"
    order_id = call(server, action="add", service=COMMENTS, link=LINK, comments=comments)["order"]
    assert server.simulator.orders[order_id].quantity == 5
    assert status(server, order_id)["charge"] == "0.06250"


def test_it_accepts_an_unsupported_type_with_a_quantity(server):
    order_id = place(server, service=MENTIONS, quantity=500, usernames="alice\nbob")
    assert status(server, order_id)["remains"] == "500"


# Order life and refunds


def test_it_moves_an_order_through_its_stages(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    order_id = place(server, quantity=1000)
    seen = [status(server, order_id)]
    for _ in range(3):
        server.simulator.advance(2.5)
        seen.append(status(server, order_id))
        server.simulator.advance(2.5)
        seen.append(status(server, order_id))
    stages = ["Pending", "In progress", "Processing"]
    assert [entry["status"] for entry in seen] == [stage for stage in stages for _ in "ab"] + ["Completed"]
    remains = [int(entry["remains"]) for entry in seen]
    assert remains[:2] == [1000, 1000]
    assert remains[2] > remains[3] > remains[4] > remains[5] > 0
    assert remains[6] <= 0
    assert seen[-1]["charge"] == "1.85000"
    assert balance(server) == Decimal("998.15")


def test_a_zero_step_finishes_orders_at_once(make_server):
    server = make_server(step_seconds=0, partial_share=0, cancel_share=1)
    order_id = place(server)
    assert status(server, order_id)["status"] == "Canceled"
    assert balance(server) == Decimal("1000")


def test_it_sometimes_reports_over_delivery_as_negative_remains(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    order_ids = [place(server) for _ in range(20)]
    finish_orders(server)
    remains = {int(status(server, order_id)["remains"]) for order_id in order_ids}
    assert 0 in remains
    assert min(remains) < 0
    assert all(value >= -5 for value in remains)


def test_it_refunds_a_partial_order_once(make_server):
    server = make_server(partial_share=1, cancel_share=0)
    order_id = place(server, quantity=1000)
    finish_orders(server)
    first, second = status(server, order_id), status(server, order_id)
    assert first == second
    remains = int(first["remains"])
    assert first["status"] == "Partial" and 0 < remains < 1000
    refund = (Decimal("1.85") * remains / 1000).quantize(Decimal("0.00001"), ROUND_DOWN)
    assert Decimal(first["charge"]) == Decimal("1.85") - refund
    assert balance(server) == Decimal("1000") - Decimal(first["charge"])
    assert balance(server) == Decimal("1000") - Decimal(first["charge"])


def test_it_refunds_a_canceled_order_in_full_once(make_server):
    server = make_server(partial_share=0, cancel_share=1)
    order_id = place(server, quantity=1000)
    finish_orders(server)
    expected = {"charge": "0.00000", "status": "Canceled", "remains": "1000"}
    assert expected.items() <= status(server, order_id).items()
    assert expected.items() <= status(server, order_id).items()
    assert balance(server) == Decimal("1000")


def test_it_applies_refunds_to_the_balance_without_a_status_read(make_server):
    server = make_server(partial_share=0, cancel_share=1)
    place(server)
    server.simulator.advance(20)
    assert balance(server) == Decimal("1000")
    assert server.simulator.balance == Decimal("1000")


def test_it_answers_many_statuses_keyed_by_order_id(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    first, second = place(server), place(server, service=LIKES, quantity=100)
    finish_orders(server)
    answer = call(server, action="status", orders=f"{first}, 42,abc,{second}")
    assert list(answer) == [str(first), "42", "abc", str(second)]
    assert answer["42"] == answer["abc"] == {"error": "Incorrect order ID"}
    assert answer[str(first)]["status"] == answer[str(second)]["status"] == "Completed"
    assert set(answer[str(first)]) == {"charge", "start_count", "status", "remains"}
    assert answer[str(second)]["charge"] == "0.04200"


def test_it_refuses_a_single_status_for_a_bad_order_id(server):
    for order_id in ("42", "abc", ""):
        assert status(server, order_id) == {"error": "Incorrect order ID"}


@pytest.mark.parametrize(
    ("action", "field"),
    [("status", "orders"), ("refill", "orders"), ("cancel", "orders"), ("refill_status", "refills")],
)
def test_it_refuses_more_than_100_ids_at_once(server, action, field):
    hundred = ",".join(str(i) for i in range(1, 101))
    assert call(server, action=action, **{field: f"{hundred},101"}) == {"error": "Incorrect request"}
    assert "error" not in call(server, action=action, **{field: hundred})


def test_it_reports_the_balance_with_five_decimals(make_server):
    server = make_server(balance=Decimal("100.842925"), currency="VND")
    assert call(server, action="balance") == {"balance": "100.84293", "currency": "VND"}


# Refills


def test_it_refills_a_completed_order(make_server):
    server = make_server(partial_share=0, cancel_share=0, refill_reject_share=0)
    order_id = place(server)
    finish_orders(server)
    assert call(server, action="refill", order=order_id) == {"refill": "1"}
    seen = []
    for _ in range(3):
        seen.append(call(server, action="refill_status", refill=1))
        server.simulator.advance(5)
    assert seen == [{"status": "Pending"}, {"status": "In progress"}, {"status": "Completed"}]
    assert server.simulator.refills[1].order == order_id
    assert call(server, action="refill", order=order_id) == {"refill": "2"}


def test_it_rejects_a_refill_by_its_share(make_server):
    server = make_server(partial_share=0, cancel_share=0, refill_reject_share=1)
    order_id = place(server)
    finish_orders(server)
    call(server, action="refill", order=order_id)
    server.simulator.advance(10)
    assert call(server, action="refill_status", refill=1) == {"status": "Rejected"}


def test_it_refuses_refills_that_are_not_allowed(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    no_refill, completed = place(server, service=LIKES), place(server)
    finish_orders(server)
    pending = place(server)
    assert call(server, action="refill", order=completed) == {"refill": "1"}

    def refused(order_id):
        return call(server, action="refill", order=order_id)["error"]

    assert refused(42) == "Incorrect order ID"
    assert refused("abc") == "Incorrect order ID"
    assert refused(no_refill) == "Refill is disabled for this service"
    assert refused(pending) == "Order is not completed"
    assert refused(completed) == "You have an active refill for this order"
    assert len(server.simulator.refills) == 1


def test_it_refuses_a_refill_for_a_partial_order(make_server):
    server = make_server(partial_share=1, cancel_share=0)
    order_id = place(server)
    finish_orders(server)
    assert call(server, action="refill", order=order_id) == {"error": "Order is not completed"}


def test_it_refills_many_orders_with_an_answer_per_order(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    first, second = place(server), place(server)
    finish_orders(server)
    assert call(server, action="refill", orders=f"{first},42,{second},x") == [
        {"order": first, "refill": 1},
        {"order": 42, "refill": {"error": "Incorrect order ID"}},
        {"order": second, "refill": 2},
        {"order": "x", "refill": {"error": "Incorrect order ID"}},
    ]


def test_it_reports_many_refill_statuses(make_server):
    server = make_server(partial_share=0, cancel_share=0, refill_reject_share=0)
    order_id = place(server)
    finish_orders(server)
    call(server, action="refill", order=order_id)
    assert call(server, action="refill_status", refills="1,3,abc") == [
        {"refill": 1, "status": "Pending"},
        {"refill": 3, "status": {"error": "Refill not found"}},
        {"refill": "abc", "status": {"error": "Refill not found"}},
    ]
    assert call(server, action="refill_status", refill=3) == {"error": "Refill not found"}


# Cancel


def test_it_cancels_a_pending_order_with_a_full_refund_once(make_server):
    server = make_server(partial_share=0, cancel_share=0)
    order_id = place(server)
    assert call(server, action="cancel", orders=f"9,{order_id}") == [
        {"order": 9, "cancel": {"error": "Incorrect order ID"}},
        {"order": order_id, "cancel": 1},
    ]
    finish_orders(server)
    expected = {"charge": "0.00000", "status": "Canceled", "remains": "1000"}
    assert expected.items() <= status(server, order_id).items()
    assert balance(server) == Decimal("1000")
    assert call(server, action="cancel", order=order_id) == [
        {"order": order_id, "cancel": {"error": "Order can not be canceled"}}
    ]
    assert balance(server) == Decimal("1000")


def test_it_cancels_only_while_pending_and_when_the_service_allows(server):
    not_cancelable, started = place(server, service=TIKTOK_LIKES), place(server)
    server.simulator.advance(5)
    assert call(server, action="cancel", orders=f"{not_cancelable},{started}") == [
        {"order": not_cancelable, "cancel": {"error": "Cancel is disabled for this service"}},
        {"order": started, "cancel": {"error": "Order can not be canceled"}},
    ]
    assert status(server, started)["status"] == "In progress"
    assert call(server, action="cancel") == {"error": "Incorrect request"}


# Determinism and quirks


def test_it_gives_the_same_outcomes_for_the_same_seed(make_server):
    def outcomes(server):
        order_ids = [place(server, quantity=1000 + i) for i in range(10)]
        server.simulator.advance(7)
        midway = call(server, action="status", orders=",".join(map(str, order_ids)))
        # Midway remains follow the real clock too, so only the stages are compared there.
        midway = {order_id: entry["status"] for order_id, entry in midway.items()}
        finish_orders(server)
        final = call(server, action="status", orders=",".join(map(str, order_ids)))
        return midway, final, call(server, action="balance")

    first = outcomes(make_server(seed=3, partial_share=0.4, cancel_share=0.3))
    again = outcomes(make_server(seed=3, partial_share=0.4, cancel_share=0.3))
    other = outcomes(make_server(seed=4, partial_share=0.4, cancel_share=0.3))
    assert first == again
    assert first[1] != other[1]
    assert {entry["status"] for entry in first[1].values()} == {"Completed", "Partial", "Canceled"}


def test_quirks_vary_the_representations_by_seed(make_server):
    server = make_server(quirks=True, seed=1)
    services = call(server, action="services")
    assert {str, float} <= {type(service["rate"]) for service in services}
    assert {str, int} <= {type(service["min"]) for service in services}
    assert {str, int} <= {type(service["service"]) for service in services}
    assert {bool, str, int} <= {type(service["refill"]) for service in services}
    assert any("description" in service for service in services)
    assert services == call(make_server(quirks=True, seed=1), action="services")

    order_ids = [place(server, quantity=1000) for _ in range(12)]
    server.simulator.advance(5)
    statuses = [status(server, order_id) for order_id in order_ids]
    assert {entry["status"] for entry in statuses} == {"In progress", "In Progress"}
    assert {str, int} <= {type(entry["remains"]) for entry in statuses}
    assert {str, int} <= {
        type(call(server, action="add", service=1, link=LINK, quantity=100)["order"]) for _ in range(12)
    }
    many = call(server, action="status", orders=",".join(str(i) for i in range(1, 13)))
    assert {str, dict} == {type(entry) for entry in many.values()}


def test_quirks_change_no_numbers(make_server, monkeypatch):
    # Only advance() moves the clock here: the two servers are asked a few milliseconds apart, and the
    # remains of an order in progress follow the clock.
    monkeypatch.setattr(Simulator, "_now", lambda self: self._clock_offset)
    plain, quirky = make_server(seed=5), make_server(seed=5, quirks=True)
    for server in (plain, quirky):
        place(server)
        server.simulator.advance(7)
    plain_status, quirky_status = status(plain, 10001), status(quirky, 10001)
    for field in ("charge", "start_count", "remains"):
        assert Decimal(str(plain_status[field])) == Decimal(str(quirky_status[field]))
    assert plain_status["status"].lower() == quirky_status["status"].lower()


# Faults


def test_an_injected_error_answers_an_error_and_changes_nothing(server):
    server.simulator.inject("error", action="add")
    assert raw_add(server).json() == {"error": "Simulated failure"}
    assert server.simulator.orders == {}
    assert place(server) == 10001


def test_an_injected_http500_changes_nothing(server):
    server.simulator.inject("http500")
    response = raw_add(server)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert server.simulator.orders == {}


def test_an_injected_html_page_changes_nothing(server):
    server.simulator.inject("html")
    response = raw_add(server)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "checking your browser" in response.text.lower()
    assert server.simulator.orders == {}


def test_an_injected_broken_body_is_cut_off_after_processing(server):
    server.simulator.inject("broken")
    response = raw_add(server)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()
    assert list(server.simulator.orders) == [10001]


def test_an_injected_timeout_hangs_after_processing(make_server):
    server = make_server(hang_seconds=1)
    server.simulator.inject("timeout", action="add")
    with pytest.raises(requests.ReadTimeout):
        raw_add(server, timeout=0.3)
    assert status(server, 10001)["status"] == "Pending"
    server.simulator.inject("timeout")
    started = time.monotonic()
    assert call(server, action="balance")["balance"] == "998.15000"
    assert time.monotonic() - started >= 1


def test_an_injected_reset_closes_the_connection_after_processing(server):
    server.simulator.inject("reset")
    with pytest.raises(requests.ConnectionError) as caught:
        raw_add(server)
    assert "reset" in str(caught.value).lower()
    assert list(server.simulator.orders) == [10001]
    assert place(server) == 10002


def test_faults_target_an_action_and_run_out(server):
    server.simulator.inject("error", action="status", times=2)
    assert call(server, action="balance") == {"balance": "1000.00000", "currency": "USD"}
    assert call(server, action="status", order=1) == {"error": "Simulated failure"}
    assert call(server, action="status", order=1) == {"error": "Simulated failure"}
    assert call(server, action="status", order=1) == {"error": "Incorrect order ID"}


def test_faults_can_be_cleared(server):
    server.simulator.inject("http500", times=5)
    server.simulator.clear_faults()
    assert call(server, action="balance")["balance"] == "1000.00000"


def test_it_refuses_an_unknown_fault(server):
    with pytest.raises(ValueError):
        server.simulator.inject("explode")


def test_it_adds_latency_before_answering(make_server):
    server = make_server(latency=0.3)
    started = time.monotonic()
    call(server, action="balance")
    assert time.monotonic() - started >= 0.3


def test_a_stopped_server_refuses_connections():
    with SimulatorServer(Simulator(SimulatorConfig())).start() as server:
        url = server.url
        session = requests.Session()
        assert session.post(url, data={"key": KEY, "action": "balance"}, timeout=5).ok
    with pytest.raises(requests.ConnectionError):
        session.post(url, data={"key": KEY, "action": "balance"}, timeout=5)


# The management command


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_management_command_serves_until_interrupted(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reseller.settings_test",
        "DEBUG": "true",
        "RESELLER_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'absent.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "manage.py",
        "simulate_provider",
        "--port",
        str(port),
        "--key",
        "secret-sim-key",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        answer = _wait_for_balance(f"http://127.0.0.1:{port}/api/v2", process)
        assert answer == {"balance": "1000.00000", "currency": "USD"}
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"http://127.0.0.1:{port}/api/v2" in stdout and "ready" in stdout
    assert "Traceback" not in stderr
    assert "balance" in stderr and "secret-sim-key" not in stderr
    assert not list(tmp_path.glob("*.sqlite3*"))


def _wait_for_balance(url, process):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            return requests.post(url, data={"key": "secret-sim-key", "action": "balance"}, timeout=2).json()
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the simulator did not start")


def test_random_faults_hit_the_configured_share_of_requests_deterministically():
    def faults_seen(seed):
        simulator = Simulator(SimulatorConfig(key="k", seed=seed, fault_rate=0.25, faults=("error", "html")))
        return [simulator.take_fault("balance") for _ in range(400)]

    seen = faults_seen(3)

    assert faults_seen(3) == seen
    assert set(seen) == {None, "error", "html"}
    assert 60 < sum(fault is not None for fault in seen) < 140


def test_an_unknown_fault_name_is_refused():
    with pytest.raises(ValueError, match="Unknown faults"):
        Simulator(SimulatorConfig(key="k", faults=("explode",)))
