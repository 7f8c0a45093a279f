"""Real Celery workers (prefork, each its own process group) on a Redis broker of the test's own, against
simulators over HTTP.

One killed with SIGKILL in the middle of a burst of submissions, a second taking over: the orders it had
claimed go to review (the sweeper; never resent), the queued ones whose task was lost are sent again. In the
end every order is placed upstream once or is in review, none twice; the ledger is clean.

Two workers and two beat sweeps racing over the same due orders: each order is asked about once."""

import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from orders import placement, sweeper
from orders.models import Order, Status
from reseller.wallet.selectors import ledger_check
from tests.factories import funded_user
from tests.helpers import RedisServer, celery_on
from tests.orders.test_poll_scale import Counted

pytestmark = [
    pytest.mark.postgresql,  # the worker is another process: it needs the test database as a server
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which("redis-server") and not os.environ.get("CI"),
        reason="needs redis-server (CI installs it)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
ORDERS = 40


def start_worker(broker_url: str, log: Path, **settings: str) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reseller.settings_test",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # A killed worker's task comes back after this; it must outlast a task and the longest retry.
        "CELERY_VISIBILITY_TIMEOUT": "6",
        "CELERY_TASK_TIME_LIMIT": "5",
        "CELERY_TASK_SOFT_TIME_LIMIT": "4",
        "ORDER_SUBMIT_RETRY_BASE": "1",
        "ORDER_SUBMIT_MAX_RETRIES": "2",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    command = [sys.executable, "-m", "celery", "-A", "reseller", "worker", "-c", "2", "--loglevel", "WARNING"]
    with log.open("a") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def kill(worker: subprocess.Popen, sig=signal.SIGKILL) -> None:
    os.killpg(worker.pid, sig)  # the main process and its pool's children together
    worker.wait(10)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_worker_killed_mid_burst_loses_and_doubles_nothing(alice, likes, simulator, tmp_path, monkeypatch):
    server = RedisServer().start()
    log = tmp_path / "worker.log"
    simulator.simulator.config.latency = 0.1  # each `add` takes a while: the kill lands mid-burst
    monkeypatch.setattr(placement, "order_submission_enqueue", lambda **kwargs: None)  # sent below
    orders = [
        placement.order_place(user=alice, service=likes, link=f"https://instagram.com/p/k{i}", quantity=100)
        for i in range(ORDERS)
    ]
    upstream = simulator.simulator.orders
    with celery_on(server.url) as app:
        for order in orders:
            app.send_task("orders.tasks.order_submit", args=[order.pk])
        worker = start_worker(server.url, log)
        try:
            _kill_mid_burst_and_take_over(worker, server, upstream, log)
        finally:
            server.stop()

    statuses = collections.Counter(Order.objects.values_list("status", flat=True))
    per_link = collections.Counter(order.link for order in upstream.values())
    placed = Order.objects.filter(status=Status.PENDING)

    assert set(statuses) <= {Status.PENDING, Status.NEEDS_REVIEW}, (statuses, log.read_text()[-3000:])
    assert sum(statuses.values()) == ORDERS
    assert max(per_link.values()) == 1  # no order reached the upstream twice
    assert all(per_link[order.link] == 1 for order in placed)  # each placed one is there, once
    assert statuses[Status.NEEDS_REVIEW] <= 2  # at most what the killed worker's two processes held
    assert ledger_check().ok


def _kill_mid_burst_and_take_over(worker, server, upstream, log):
    try:
        wait_until(lambda: len(upstream) >= ORDERS // 4, 60, "the first submissions")
        kill(worker)
        assert len(upstream) < ORDERS, "the worker finished before it was killed"
        worker = start_worker(server.url, log)

        def settled():
            # The sweeper, as beat runs it, with its minute gone by for the orders still queued: their task
            # may have been the killed worker's (back after the visibility timeout, or sent again here).
            Order.objects.filter(status=Status.QUEUED).update(
                updated_at=timezone.now() - timedelta(minutes=2)
            )
            sweeper.orders_sweep()
            # Nothing queued, and no submission in flight but what the killed worker's processes held.
            left = collections.Counter(
                Order.objects.filter(status__in=[Status.QUEUED, Status.SUBMITTING]).values_list(
                    "status", flat=True
                )
            )
            return not left[Status.QUEUED] and left[Status.SUBMITTING] <= 2

        wait_until(settled, 60, "the second worker to take the rest")
        time.sleep(1)  # a submission the second worker had in flight ends meanwhile
        assert settled()
        # What the killed worker held: claimed (maybe sent) orders stay submitting until the sweeper
        # sends them to review; here their time has come at once.
        Order.objects.filter(status=Status.SUBMITTING).update(
            submitted_at=timezone.now() - timedelta(hours=1)
        )
        sweeper.orders_sweep()
    finally:
        kill(worker)


def test_two_workers_and_two_beat_sweeps_ask_about_each_order_once(tmp_path):
    provider = Counted("racing")
    orders = provider.orders(funded_user("1000"), 400)
    server = RedisServer().start()
    # 50 orders a claim: each sweep fans out 4 tasks, for 4 worker processes to race over 8 batches.
    settings = {"ORDER_POLL_BATCH": "50", "ORDER_POLL_FAN_OUT": "4"}
    with celery_on(server.url) as app:
        workers = [start_worker(server.url, tmp_path / f"worker{n}.log", **settings) for n in (1, 2)]
        try:
            for _ in range(2):
                app.send_task("orders.tasks.orders_poll")  # two beats' sweeps at once
            upstream_ids = {order.upstream_id for order in orders}
            wait_until(lambda: set(provider.asked) >= upstream_ids, 60, "every order to be asked about")
            time.sleep(1)  # anything asked twice would be by now
        finally:
            for worker in workers:
                kill(worker)
            server.stop()
            provider.stop()

    assert set(provider.asked) == upstream_ids
    assert set(provider.asked.values()) == {1}  # none twice in the interval, none skipped
    assert ledger_check().ok
