"""Work for the workers, sent once the transaction that made it commits (at once outside one).

Tasks are found by name, so that nothing that enqueues imports a tasks module: each app's config loads its
own tasks, which import the services, never the other way round.

`enqueue_batched_after_commit` is for work that arrives many times a second (an `add` is a placed order to
submit): after commit the item joins its process's batch, and a thread of the process sends one task per
batch, `BATCH_EVERY` later, with every item that came meanwhile. Sending a task was an eighth of an `add`'s
time; now the request neither waits for the broker nor fails with it: a batch that cannot be sent is tried
again, and what a dead process never sent, the beat's sweeps find (the work's own rows say it is to do).
"""

import atexit
import logging
import os
import threading
import time

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)

BATCH_EVERY = 0.05  # seconds an item may wait for others before its batch is sent
RETRY_EVERY = 1.0  # seconds between attempts while the broker refuses
MAX_WAITING = 10_000  # items kept per task while the broker refuses; older ones are left to the sweeps


def enqueue_after_commit(task_name: str, *args, robust: bool = False) -> None:
    """Sends `task_name(*args)` after commit. `robust`: a failure to send is logged, not raised (for work
    that must never break what it follows, such as an email)."""
    # current_app.tasks honours task_always_eager, which send_task would not.
    transaction.on_commit(lambda: current_app.tasks[task_name].delay(*args), robust=robust)


def enqueue_batched_after_commit(task_name: str, item) -> None:
    """After commit, `item` joins this process's next `task_name(items)` (sent within `BATCH_EVERY`).
    With tasks run eagerly (tests), the task runs at once with this item alone."""
    transaction.on_commit(lambda: _batches.add(task_name, item))


class _Batches:
    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: dict[str, list] = {}
        self.due = threading.Event()
        self.pid = None  # the process whose thread sends; a forked child starts its own

    def add(self, task_name: str, item) -> None:
        if current_app.conf.task_always_eager:
            current_app.tasks[task_name].delay([item])
            return
        with self.lock:
            self.waiting.setdefault(task_name, []).append(item)
            if self.pid != os.getpid():
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="enqueue-batches", daemon=True).start()
        self.due.set()

    def _run(self):
        while True:
            self.due.wait()
            time.sleep(BATCH_EVERY)  # what comes meanwhile goes with it
            self.due.clear()
            if not self.send():
                time.sleep(RETRY_EVERY)
                self.due.set()

    def send(self) -> bool:
        """Sends every waiting batch; False if the broker refused one (it waits for the next attempt)."""
        with self.lock:
            waiting, self.waiting = self.waiting, {}
        sent = True
        for task_name, items in waiting.items():
            try:
                current_app.tasks[task_name].delay(items)
            except Exception as exc:
                sent = False
                with self.lock:
                    kept = (items + self.waiting.get(task_name, []))[-MAX_WAITING:]
                    self.waiting[task_name] = kept
                log.warning(
                    "enqueue: %s for %d items not sent (%s), %d waiting for the broker",
                    task_name,
                    len(items),
                    exc.__class__.__name__,
                    len(kept),
                )
        return sent

    def flush(self) -> None:
        """At exit: what is waiting is sent now (once; what fails is left to the sweeps)."""
        if self.pid == os.getpid() and self.waiting:
            self.send()


_batches = _Batches()
atexit.register(_batches.flush)
