"""What many tests do: place orders through the real services, let the simulator finish them, read back,
race threads against each other."""

import contextlib
import os
import threading

from django.db import connections

from orders.models import Order, OrderCheck, Status
from orders.placement import order_place
from orders.polling import orders_poll
from orders.submission import order_submit

LINK = "https://instagram.com/p/abc"


def place(user, service, *, count=1, quantity=None):
    """Orders placed and submitted upstream (pending there); `finish` takes them to a final status."""
    orders = []
    for _ in range(count):
        order = order_place(user=user, service=service, link=LINK, quantity=quantity or service.min_quantity)
        order_submit(order_id=order.pk)
        orders.append(Order.objects.get(pk=order.pk))
    return orders


def set_outcome(simulator, order, outcome, remains=0):
    """How the simulator will finish this order upstream."""
    placed = simulator.simulator.orders[int(reload(order).upstream_id)]
    placed.outcome, placed.final_remains = outcome, remains


def finish(simulator, orders, outcome="Completed", remains=0):
    """The orders finished upstream as `outcome` and polled: they come back final, refunded if owed."""
    for order in orders:
        set_outcome(simulator, order, outcome, remains)
    simulator.simulator.advance(simulator.simulator.config.step_seconds * 10)
    OrderCheck.objects.filter(pk__in=[o.pk for o in orders]).update(next_check_at=None)
    orders_poll(order_ids=[o.pk for o in orders])
    finished = list(Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk"))
    assert all(o.status == Status(outcome.lower()) for o in finished)
    return finished


def balance_of(user):
    from reseller.wallet.selectors import wallet_balance

    return wallet_balance(user=user)


def reload(row):
    return type(row).objects.get(pk=row.pk)


def run_together(count, work):
    """Runs `work(i)` in `count` threads released at once; returns what each returned or raised."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def meet_before(count, function, when=lambda *args, **kwargs: True):
    """`function`, wrapped so that `count` threads calling it (those calls for which `when` holds) wait
    for one another before any of them goes on: whatever the callers did before the call, they all did
    before any of them makes it. A thread that never arrives breaks the barrier after 5 s, and the others
    fail with BrokenBarrierError (as a deadlock would)."""
    barrier = threading.Barrier(count)

    def wrapper(*args, **kwargs):
        if when(*args, **kwargs):
            barrier.wait(timeout=5)
        return function(*args, **kwargs)

    return wrapper


class RedisServer:
    """A Redis server of a test's own, on a free port, to stop and start again (fault tests); `persist`
    keeps what it holds across a restart (an append-only file in `folder`), as a production Redis would."""

    def __init__(self, *, folder=None):
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import subprocess
        import time

        import redis

        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if self.folder is not None:
            options += ["--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always"]
        else:
            options += ["--appendonly", "no"]
        self.process = subprocess.Popen(["redis-server", *options], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextlib.contextmanager
def celery_on(broker_url: str, **conf):
    """The panel's Celery, meanwhile, on another broker (a RedisServer's): a fresh app made current and
    default (the thread that sends batched tasks uses the default), the previous ones restored after."""
    from celery import Celery
    from celery import _state as celery_state

    previous, default = celery_state.get_current_app(), celery_state.default_app
    environment = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url  # Celery reads it before its own broker_url
    app = Celery("tests", set_as_current=False)
    app.conf.update(broker_url=broker_url, task_always_eager=False, broker_connection_timeout=0.5, **conf)
    app.set_current()
    app.set_default()
    app.finalize()
    try:
        yield app
    finally:
        previous.set_current()
        celery_state.default_app = default
        if environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environment


def valid_fields(service) -> dict[str, str]:
    """Good values for each required field of the service's type, as they are sent upstream."""
    rule = service.type_rule
    least = max(service.min_quantity, 1)
    lines = "\n".join(f"line {n}" for n in range(least))
    values = {
        "link": LINK,
        "quantity": str(service.min_quantity),
        "comments": lines if rule.count_from == "comments" else "Great post\nLove it",
        "usernames": "\n".join(f"user{n}" for n in range(least))
        if rule.count_from == "usernames"
        else "ann\nbob",
        "hashtags": "#one\n#two",
        "hashtag": "#sale",
        "username": "alice",
        "media": "https://instagram.com/p/media",
        "answer_number": "2",
        "keywords": "best shoes\ncheap shoes",
        "min": str(service.min_quantity),
        "max": str(service.min_quantity * 2),
        "posts": "3",
        "delay": "15",
    }
    return {field.name: values[field.name] for field in rule.fields if field.required}
