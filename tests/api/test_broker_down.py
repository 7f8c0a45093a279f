"""The broker stopped and started again during API traffic, and an order by the form meanwhile: a Redis
server of the test's own (its data kept on disk across the restart, as a production Redis with an
append-only file keeps it), the panel's Celery pointed at it, `add`s sent all along. Every answer is an order
id, every id an order charged once, the ledger clean, and once the broker is back every order's submission
reaches it (from the batches that waited in the process), none lost."""

import os
import shutil
import time

import pytest
from django.test import Client
from kombu.simple import SimpleQueue

from orders.models import Order
from orders.queue import SUBMIT_ORDERS
from reseller.wallet.selectors import ledger_check
from tests.helpers import LINK, RedisServer, celery_on

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which("redis-server") and not os.environ.get("CI"),
        reason="needs redis-server (CI installs it)",
    ),
]


@pytest.fixture
def broker(tmp_path):
    """The panel's Celery app, for this test, on a Redis server that the test can stop."""
    server = RedisServer(folder=tmp_path).start()
    retry = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
    with celery_on(server.url, task_default_queue="faults", task_publish_retry_policy=retry) as app:
        yield server, app
    server.stop()


def submitted_ids(app, *, expected: set[int], timeout: float = 20.0) -> set[int]:
    """The order ids of the submission tasks in the broker's queue, once `expected` are all there."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    with app.connection_for_read() as connection:
        queue = SimpleQueue(connection, "faults")
        try:
            while not expected <= seen and time.monotonic() < deadline:
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                message.ack()
                if message.headers.get("task") == SUBMIT_ORDERS:
                    seen.update(message.decode()[0][0])
        finally:
            queue.close()
    return seen


def test_every_add_answers_an_order_while_the_broker_stops_and_comes_back(broker, alice, likes, caplog):
    server, app = broker
    answers = []

    def add(count):
        for _ in range(count):
            answers.append(alice.call("add", service=likes.pk, link=LINK, quantity=100))

    add(10)
    server.stop()
    started = time.monotonic()
    add(15)  # the broker is down: each answer still comes at once
    answered_in = time.monotonic() - started
    web = Client()
    web.force_login(alice.user)
    form = {"service": likes.pk, "client_token": "form-1", "link": LINK, "quantity": 100}
    ordered = web.post("/orders/new/", form)  # the order form too: no 500 page
    time.sleep(2)  # long enough for the batches to be refused and tried again
    server.start()
    add(10)

    ids = {answer.get("order") for answer in answers}
    assert [answer for answer in answers if "order" not in answer] == []
    assert ordered.status_code == 302
    ids |= set(Order.objects.exclude(pk__in=ids).values_list("pk", flat=True))  # the form's one
    assert ids == set(Order.objects.values_list("pk", flat=True)) and len(ids) == 36
    assert ledger_check().ok
    assert answered_in < 5  # no add waited for the broker
    assert "waiting for the broker" in caplog.text  # the outage was real: batches were refused
    assert submitted_ids(app, expected=ids) == ids  # the waiting batches went out once it was back
