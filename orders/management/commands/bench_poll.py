"""Benchmark of the polling sweep (README, "Polling at scale"): real placement, real HTTP to the simulator
(in a process of its own, as a provider is a machine of its own), real sweeps on the configured database.

Three sweeps over the same orders: nothing changes (the steady state of most checks), all move to In
progress, all finish with 30% refunded. Each prints orders/s beside its target, the status calls per 100
orders and the database queries per batch; with `--naive`, the per-order poller (claim, ask and apply one
order at a time) runs first on a sample of the orders, for the ratio in the same run. `--workers N` runs
the sweep in N processes at once, which split the work as beat's tasks do on N workers.
"""

import collections
import cProfile
import io
import multiprocessing
import os
import pstats
import resource
import time
from decimal import Decimal
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, connections, transaction
from django.db.backends.signals import connection_created
from django.test.utils import override_settings

from catalog.models import Provider, Service
from catalog.services import provider_client, provider_create
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from orders import placement, polling
from orders.models import OrderCheck, Source, Status
from orders.moves import Move, orders_move
from reseller.db import claim_due
from reseller.wallet.models import LedgerEntry
from reseller.wallet.services import wallet_move

# Orders updated per second on the 2-core machine the issue names, and the ratio to the naive poller.
TARGETS = {False: (10_000, 30), True: (4_000, 600)}  # without, with a round trip of 150 ms


class Command(BaseCommand):
    help = (
        "Benchmark: N active orders against the simulator, then timed polling sweeps. Uses the configured "
        "database (PostgreSQL is what the targets are for) and leaves its rows behind under a bench-* name."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=20_000)
        parser.add_argument("--batch", type=int, default=None, help="Orders claimed per batch.")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="Seconds the simulator waits before each answer."
        )
        parser.add_argument("--naive", action="store_true", help="Also time the per-order poller.")
        parser.add_argument(
            "--naive-seconds", type=float, default=5.0, help="How long the naive poller runs per sweep."
        )
        parser.add_argument("--workers", type=int, default=1, help="Processes sweeping at once.")
        parser.add_argument(
            "--profile",
            action="store_true",
            help="Profile the sweeps (in this thread, answers written in it too; --workers ignored).",
        )

    def handle(self, *args, orders, batch, latency, naive, naive_seconds, workers, profile, **options):
        self.batch, self.naive_seconds, self.workers, self.profile = batch, naive_seconds, workers, profile
        self.target, self.ratio_target = TARGETS[latency >= 0.1]
        simulator = Simulator(
            SimulatorConfig(key="bench-key", seed=1, step_seconds=600, balance=Decimal(10**9))
        )
        self.stdout.write(
            f"database: {connection.vendor}; {orders} orders; simulator latency {latency * 1000:.0f} ms; "
            f"{workers} worker(s)"
        )
        started = time.perf_counter()
        with SimulatorServer(simulator).start() as server:
            self.set_up(simulator, server, orders)
            port = server.port
        self.stdout.write(f"set up in {time.perf_counter() - started:.1f} s")
        simulator.config.latency = latency
        provider = self.simulator = _Forked(simulator, port)
        try:
            # Untimed: the first answers bring each order's start count, remains and charge; from then on
            # an answer that says what the last one said changes nothing.
            self.checks().update(next_check_at=None)
            polling.orders_poll(provider_ids=[self.provider_id])
            self.sweep("sweep 0: nothing changes (the steady state)", naive)
            provider.advance(700)  # every order moves Pending -> In progress: all change, no refunds
            self.sweep("sweep 1: all move to In progress", naive)
            provider.advance(10_000)  # every order ends: 70% Completed, 20% Partial, 10% Canceled
            self.sweep("sweep 2: all finish, 30% refunded", naive)
        finally:
            provider.stop()

    def set_up(self, simulator, server, count):
        stamp = time.time_ns()
        provider = provider_create(name=f"bench-{stamp}", api_url=server.url, api_key="bench-key")
        provider_sync_services(provider=provider, enable_new=True)
        service = Service.objects.get(provider=provider, upstream_id="2")
        self.provider_id = provider.pk
        self.username = f"bench-{stamp}"
        user = get_user_model().objects.create_user(self.username)
        wallet_move(user=user, amount=Decimal(count), kind=LedgerEntry.Kind.DEPOSIT, note="bench")
        # Real placement (validation, wallet, ledger), without queueing 20,000 Celery tasks; the upstream
        # orders are created in the simulator directly, as the submission would.
        with mock.patch.object(placement, "order_submission_enqueue"):
            for start in range(0, count, 1000):
                with transaction.atomic():
                    placed = [
                        placement.order_place(
                            user=user, service=service, link="https://x.com/p", quantity=1000
                        )
                        for _ in range(min(1000, count - start))
                    ]
                    orders_move([Move(order, Status.SUBMITTING, Source.SUBMISSION) for order in placed])
                    placing = []
                    for order in placed:
                        answer = simulator.handle(
                            {
                                "key": "bench-key",
                                "action": "add",
                                "service": "2",
                                "link": order.link,
                                "quantity": "1000",
                            }
                        )
                        changes = {"upstream_id": str(answer["order"])}
                        placing.append(Move(order, Status.PENDING, Source.SUBMISSION, changes=changes))
                    orders_move(placing)

    def checks(self):
        return OrderCheck.objects.filter(
            provider_id=self.provider_id
        )  # this run's provider has only its orders

    def sweep(self, label, naive):
        self.checks().update(next_check_at=None)
        self.stdout.write(f"\n{label}")
        naive_rate = self.naive_sweep() if naive else None
        providers = [self.provider_id]  # this run's only: a database may hold earlier runs' providers
        before = _postgres_cpu(), _cpu_of(self.simulator.process.pid)
        if self.profile:
            figures = (*_profiled(self.stdout, providers), None)
        else:
            figures = _in_workers(self.workers, providers)
        checked, refunded, calls, batches, queries, elapsed, sweep_cpu = figures
        time.sleep(0.2)  # the sweep's closed connections' backends gone, their time counted
        after = _postgres_cpu(), _cpu_of(self.simulator.process.pid)
        rate = checked / elapsed if elapsed else 0
        self.stdout.write(
            f"  {checked} orders checked, {refunded} refunded, {calls} status calls, {batches} batches, "
            f"in {elapsed:.2f} s"
        )
        self.stdout.write(
            f"  orders updated per second: {rate:,.0f}   (target: at least {self.target:,})"
            f"   {'OK' if rate >= self.target else 'BELOW TARGET'}"
        )
        if naive_rate:
            ratio = rate / naive_rate
            self.stdout.write(
                f"  naive poller (one order per call): {naive_rate:,.1f} orders/s; ratio {ratio:,.0f}x"
                f"   (target: at least {self.ratio_target}x)"
                f"   {'OK' if ratio >= self.ratio_target else 'BELOW TARGET'}"
            )
        if sweep_cpu is not None:
            postgres, simulator = (
                "n/a" if end is None or start is None else f"{end - start:.2f} s"
                for start, end in zip(before, after, strict=True)
            )
            self.stdout.write(
                f"  CPU time: the sweep {sweep_cpu:.2f} s, PostgreSQL {postgres}, the simulator {simulator}"
                f" ({os.cpu_count()} cores, {elapsed:.2f} s)"
            )
        self.stdout.write(f"  status calls per 100 orders: {100 * calls / max(checked, 1):.2f}   (target: 1)")
        self.stdout.write(
            f"  database queries per batch: {queries / max(batches, 1):.1f}"
            "   (target: not growing with the batch)"
        )

    def naive_sweep(self) -> float:
        """The per-order poller, for `naive_seconds`: claim one order, ask its status alone, apply it."""
        client = provider_client(provider=Provider.objects.get(pk=self.provider_id))
        checks = self.checks()
        done, result = 0, polling.PollResult()
        started = time.perf_counter()
        while time.perf_counter() - started < self.naive_seconds:
            claimed = claim_due(checks, ids=None, batch_size=1, interval=3600)
            if not claimed:
                break
            (pk,) = claimed
            (row,) = polling._claim_read([pk])
            answer = client.status(row[polling.UPSTREAM_ID])
            if changing := polling._changing({pk: (answer, row)}, result):
                polling._apply(changing, result)
            done += 1
        elapsed = time.perf_counter() - started
        return done / elapsed if elapsed else 0


def _sweep_counted(provider_ids, timings=None):
    queries = []

    def count(execute, sql, *rest):
        queries.append(1)
        started = time.perf_counter()
        try:
            return execute(sql, *rest)
        finally:
            if timings is not None:
                timings[" ".join(sql.split()[:4])[:70]] += time.perf_counter() - started

    def counted(sender, connection, **kwargs):  # the sweep's writer threads open connections of their own
        connection.execute_wrappers.append(count)

    connection_created.connect(counted)
    try:
        with connection.execute_wrapper(count):
            result = polling.orders_poll(provider_ids=provider_ids)
    finally:
        connection_created.disconnect(counted)
    return result, len(queries)


def _profiled(stdout, provider_ids):
    profile = cProfile.Profile()
    timings = collections.Counter()
    started = time.perf_counter()
    profile.enable()
    with override_settings(ORDER_POLL_WRITERS=0):  # all in this thread, which is the one profiled
        result, queries = _sweep_counted(provider_ids, timings)
    profile.disable()
    elapsed = time.perf_counter() - started
    stdout.write("  time in the database, by statement:")
    for sql, seconds in timings.most_common(8):
        stdout.write(f"    {seconds * 1000:8.0f} ms  {sql}")
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(r"/(orders|catalog|reseller|affiliates)/", 25)
    stdout.write(text.getvalue())
    return result.checked, result.refunded, result.calls, result.batches, queries, elapsed


def _in_workers(workers: int, provider_ids):
    """The sweep in `workers` processes started together; the figures summed, the time the longest."""
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each process opens its own
    go, results = context.Event(), context.Queue()
    processes = [context.Process(target=_worker, args=(go, results, provider_ids)) for _ in range(workers)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # all started and waiting
    started = time.perf_counter()
    go.set()
    figures = [results.get() for _ in processes]
    elapsed = max(end for *_, end in figures) - started
    for process in processes:
        process.join()
    sums = [sum(figure[index] for figure in figures) for index in range(5)]
    cpu = sum(figure[5] for figure in figures)
    return (*sums, elapsed, cpu)


def _worker(go, results, provider_ids):
    go.wait()
    cpu = _own_cpu()
    result, queries = _sweep_counted(provider_ids)
    ended = time.perf_counter()
    cpu = _own_cpu() - cpu
    connections.close_all()
    results.put((result.checked, result.refunded, result.calls, result.batches, queries, cpu, ended))


def _own_cpu() -> float:
    """CPU seconds of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(pid: int, *, children: bool = False) -> float | None:
    """CPU seconds of a process of this machine (with `children`, also those of its children that ended),
    from /proc; None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float | None:
    """CPU seconds of the PostgreSQL server's processes on this machine, the backends that ended included
    (in the postmaster's children's time: a sweep's writers close their connections); None if there are
    none to read (a server elsewhere)."""
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        return None
    total, found = 0.0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        if (cpu := _cpu_of(int(pid), children=True)) is not None:
            total, found = total + cpu, True
    return total if found else None


class _Forked:
    """The simulator served from a process of its own (forked, with the orders made in set-up), on the
    port the provider was synced at; told to move its clock through a pipe."""

    def __init__(self, simulator: Simulator, port: int):
        context = multiprocessing.get_context("fork")
        self.pipe, child = context.Pipe()
        connections.close_all()
        self.process = context.Process(target=_serve, args=(simulator, port, child), daemon=True)
        self.process.start()
        assert self.pipe.recv() == "ready"

    def advance(self, seconds: float) -> None:
        self.pipe.send(("advance", seconds))
        self.pipe.recv()

    def stop(self) -> None:
        self.pipe.send(("stop", None))
        self.process.join(10)


def _serve(simulator: Simulator, port: int, pipe) -> None:
    import logging

    logging.disable(logging.INFO)  # a line per request would be most of its work
    with SimulatorServer(simulator, port=port).start():
        pipe.send("ready")
        while True:
            command, value = pipe.recv()
            if command == "stop":
                return
            simulator.advance(value)
            pipe.send("ok")
