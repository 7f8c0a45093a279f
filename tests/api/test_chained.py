"""A chained panel: panel B (this test's database) buys from panel A's /api/v2, and A buys from the simulator.

Panel A is a real second process (`manage.py runserver`) on its own SQLite database, with Celery eager so it
submits each order to the simulator right after committing it; the simulator runs in this process, so the
test moves its clock. An order placed on B must reach A and the simulator, and its status, partial refund
and refill must come back.
"""

import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from catalog import upstream
from catalog.models import Provider, Service
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from orders.models import OrderCheck, Refill, RefillStatus, Status
from orders.placement import order_place
from orders.polling import orders_poll
from orders.refills import refill_request, refills_poll, refills_submit
from orders.submission import order_submit
from reseller.wallet.models import Wallet
from tests.conftest import SIMULATOR_KEY
from tests.factories import funded_user

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parents[2]
LINK = "https://instagram.com/p/chained"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PanelA:
    """A second instance of the panel, run and prepared through its management commands."""

    def __init__(self, var_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "reseller.settings",
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{var_dir / 'a.sqlite3'}",
            "RESELLER_VAR_DIR": str(var_dir),
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "CELERY_BROKER_URL": "memory://",  # eager: never used, and never the shared broker
            "CACHE_URL": "locmemcache://",  # its own rate limits, not this process's cache
            "ORDER_POLL_INTERVAL": "0",  # every placed order (and refill) is due for a check at once
            "REFILL_POLL_INTERVAL": "0",
            "PANEL_CURRENCY": "USD",
        }
        self.server: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.server.poll() is None, "panel A exited"
            try:
                # Up and reaching its database; no beat nor worker runs there, so /healthz says 503.
                if requests.get(f"{self.url}/healthz", timeout=1).json()["checks"]["database"]["ok"]:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "panel A did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


@pytest.fixture
def simulator():
    """Its clock only moves when the test says so."""
    server = SimulatorServer(Simulator(SimulatorConfig(key=SIMULATOR_KEY, seed=7, step_seconds=1000))).start()
    yield server
    server.stop()


@pytest.fixture
def panel_a(tmp_path, simulator):
    """Panel A selling the simulator's catalog, with a customer "panelb" (panel B's account there)."""
    panel = PanelA(tmp_path)
    try:
        panel.manage("migrate", "--noinput")
        panel.manage("add_provider", "--name", "Simulator", "--url", simulator.url, "--key", SIMULATOR_KEY)
        panel.manage("sync_services", "--enable-new")
        panel.manage(
            "shell",
            "-c",
            "from reseller.accounts.models import User; User.objects.create_user('panelb', password='x')",
        )
        panel.manage("credit", "panelb", "100", "--note", "Panel B's deposit")
        panel.key = panel.manage("create_api_key", "panelb").strip().splitlines()[-1]
        panel.start()
        yield panel
    finally:
        panel.stop()


@pytest.fixture
def panel_b_provider(panel_a):
    """In panel B: panel A registered as a provider, its catalog imported and for sale."""
    provider = Provider.objects.create(
        name="Panel A", api_url=f"{panel_a.url}/api/v2", api_key=panel_a.key, currency="USD"
    )
    provider_sync_services(provider=provider, enable_new=True)
    return provider


def a_client(panel_a):
    return upstream.Client(f"{panel_a.url}/api/v2", panel_a.key)


def finish_upstream(simulator, outcome, remains):
    (placed,) = simulator.simulator.orders.values()
    placed.outcome, placed.final_remains = outcome, remains
    simulator.simulator.advance(10_000)
    return placed


def test_an_order_on_b_flows_to_a_and_the_simulator_and_its_partial_refund_flows_back(
    panel_a, panel_b_provider, simulator
):
    bob = funded_user("100", username="bob")
    likes = Service.objects.get(provider=panel_b_provider, upstream_name="Instagram Likes [Instant]")
    assert likes.rate == Decimal("0.5460"), "B's cost is A's rate"

    order = order_place(user=bob, service=likes, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == Status.PENDING and order.upstream_id
    (placed,) = simulator.simulator.orders.values()
    assert (placed.service, placed.link, placed.quantity) == (2, LINK, 1000)
    at_a = a_client(panel_a).status(order.upstream_id)
    assert (at_a.status, at_a.charge, at_a.remains) == ("Pending", Decimal("0.546"), 1000)

    finish_upstream(simulator, "Partial", 400)
    assert "1 changed, 1 refunded" in panel_a.manage("poll_orders")
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()

    order.refresh_from_db()
    assert (order.status, order.remains) == (Status.PARTIAL, 400)
    assert order.upstream_charge == Decimal("0.3276"), "A's charge net of A's refund"
    assert order.refund == (order.charge * 400 / 1000).quantize(Decimal("0.00001"))
    assert Wallet.objects.get(user=bob).balance == Decimal("100") - order.charge + order.refund
    assert a_client(panel_a).balance().amount == Decimal("100") - Decimal("0.546") + Decimal("0.2184")


def test_a_refill_on_b_flows_to_a_and_the_simulator_and_its_status_flows_back(
    panel_a, panel_b_provider, simulator
):
    bob = funded_user("100", username="bob")
    followers = Service.objects.get(
        provider=panel_b_provider, upstream_name="Instagram Followers [Real, 30 days refill]"
    )
    assert followers.refill, "A offers the simulator's refill"
    order = order_place(user=bob, service=followers, link=LINK, quantity=1000)
    order_submit(order_id=order.pk)
    finish_upstream(simulator, "Completed", 0)
    panel_a.manage("poll_orders")
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()
    order.refresh_from_db()
    assert order.status == Status.COMPLETED

    refill = refill_request(user=bob, order=order)
    refills_submit(refill_ids=[refill.pk])

    refill.refresh_from_db()
    assert refill.status == RefillStatus.PENDING and refill.upstream_id, "A took the refill"
    (upstream_refill,) = simulator.simulator.refills.values()
    (placed,) = simulator.simulator.orders.values()
    assert upstream_refill.order == placed.id, "and passed it on to the simulator"
    upstream_refill.outcome = "Completed"
    simulator.simulator.advance(10_000)
    assert "1 changed" in panel_a.manage("poll_refills")
    assert a_client(panel_a).refill_status(refill.upstream_id).status == "Completed"
    Refill.objects.update(next_check_at=None)
    refills_poll()

    refill.refresh_from_db()
    assert refill.status == RefillStatus.COMPLETED


def test_a_dripfeed_order_on_b_flows_to_a_and_the_simulator_and_its_partial_refund_flows_back(
    panel_a, panel_b_provider, simulator
):
    bob = funded_user("100", username="bob")
    likes = Service.objects.get(provider=panel_b_provider, upstream_name="Instagram Likes [Instant]")
    assert likes.dripfeed and likes.offers_dripfeed, "A lists its drip-feed services with dripfeed true"

    order = order_place(user=bob, service=likes, link=LINK, quantity=200, runs=5, interval=30)
    order_submit(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == Status.PENDING and (order.quantity, order.charge) == (1000, Decimal("0.7098"))
    (placed,) = simulator.simulator.orders.values()
    assert placed.fields == {"link": LINK, "quantity": "200", "runs": "5", "interval": "30"}
    assert (placed.quantity, placed.runs) == (1000, 5)
    assert a_client(panel_a).status(order.upstream_id).charge == Decimal("0.546"), "A charged runs x quantity"

    placed.outcome, placed.final_runs, placed.final_remains = "Partial", 3, 400
    simulator.simulator.advance(100_000)
    assert "1 changed, 1 refunded" in panel_a.manage("poll_orders")
    OrderCheck.objects.update(next_check_at=None)
    orders_poll()

    order.refresh_from_db()
    assert (order.status, order.remains) == (Status.PARTIAL, 400)
    assert order.refund == (order.charge * 400 / 1000).quantize(Decimal("0.00001"))
    assert Wallet.objects.get(user=bob).balance == Decimal("100") - order.charge + order.refund
