"""Batched enqueueing (reseller/enqueue.py): what many commits of one process queue goes in few tasks, each
item once, through the configured broker; a batch the broker refuses waits and goes with the next one."""

import time
import uuid

import pytest
from celery import current_app
from kombu.simple import SimpleQueue

from reseller import enqueue


@pytest.fixture
def batch_task():
    """A task of its own name, so its messages are told apart from whatever else waits in the queue."""
    name = f"tests.batch_{uuid.uuid4().hex}"

    def batch(items):
        pass

    current_app.task(name=name)(batch)
    yield name
    current_app.tasks.pop(name, None)


def _messages(name: str, *, expected: int, timeout: float = 10.0) -> list[list]:
    """The item lists of `name`'s messages in the default queue, waiting up to `timeout` for `expected`
    items in all; other tasks' messages are acknowledged and left (nothing consumes this queue in tests)."""
    batches, deadline = [], time.monotonic() + timeout
    with current_app.connection_for_read() as connection:
        queue = SimpleQueue(connection, current_app.conf.task_default_queue)
        try:
            while sum(map(len, batches)) < expected and time.monotonic() < deadline:
                try:
                    message = queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                message.ack()
                if message.headers.get("task") == name:
                    args, _kwargs, _embed = message.decode()
                    batches.append(args[0])
        finally:
            queue.close()
    return batches


@pytest.mark.django_db
def test_items_committed_meanwhile_go_in_few_tasks_each_once(batch_task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for item in range(50):
            enqueue.enqueue_batched_after_commit(batch_task, item)

    batches = _messages(batch_task, expected=50)

    assert sorted(item for batch in batches for item in batch) == list(range(50))
    assert len(batches) < 5  # one task per BATCH_EVERY, not one per item


@pytest.mark.django_db
def test_nothing_is_sent_before_commit_nor_after_a_rollback(batch_task, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue.enqueue_batched_after_commit(batch_task, 1)
    assert enqueue._batches.waiting.get(batch_task) is None  # the commit has not happened
    assert len(callbacks) == 1


def test_a_batch_the_broker_refuses_waits_for_the_next_attempt(batch_task, monkeypatch):
    """The broker's refusal is forced here (a real outage is the fault tests' part): the items stay, in
    order, and go with the next attempt; the caller never sees the error."""
    batches = enqueue._Batches()
    sent = []
    refusals = iter([ConnectionRefusedError("broker down")])

    def delay(items):
        if (refusal := next(refusals, None)) is not None:
            raise refusal
        sent.append(items)

    monkeypatch.setattr(current_app.tasks[batch_task], "delay", delay)
    monkeypatch.setattr(enqueue, "BATCH_EVERY", 0.01)
    monkeypatch.setattr(enqueue, "RETRY_EVERY", 0.05)
    batches.add(batch_task, 1)
    batches.add(batch_task, 2)
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.01)
    batches.add(batch_task, 3)
    while sum(map(len, sent)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert [item for batch in sent for item in batch] == [1, 2, 3]
    assert sent[0] == [1, 2]
