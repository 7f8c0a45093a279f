"""Benchmark: our API v2 and the customer pages under load, served by gunicorn, driven by locust.

On the configured database (PostgreSQL is what the targets are for), under a `bench-<n>` name it sets up a
provider pointing at the project's simulator (started here, in this process), a customer with an API key
and a big balance for the `add` runs, a customer whose balance pays for exactly K adds (the overdraft
check), and a customer with N orders and their ledger (the pages, and `status` with 100 of their ids). Then
it starts gunicorn with 4 sync workers on a free port, against that database and the cache and broker the
settings name, runs locust headless (tools/locustfile.py) for each part, and prints requests/s, p50 and p95
beside the targets. The rows stay behind (the provider is switched off afterwards, so its services leave
the catalog); gunicorn, the simulator (and the worker, with --worker) are stopped on the way out, and the
tasks the run enqueued, in a queue of its own, are dropped.

Without --worker no Celery worker runs: the orders stay queued, as they would behind a busy worker, and
the measure is the web tier's alone (a worker would share the same two cores).
"""

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Provider, Service
from catalog.services import provider_create
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services
from orders.models import Order, Refill
from orders.placement import order_place, order_quote
from orders.refills import refill_request
from reseller.accounts.services import api_key_rotate
from reseller.db import bulk_update
from reseller.wallet.models import LedgerEntry, Wallet
from reseller.wallet.selectors import ledger_check
from reseller.wallet.services import Move, wallet_move, wallet_moves

BASE_DIR = Path(settings.BASE_DIR)
LOCUSTFILE = BASE_DIR / "tools" / "locustfile.py"
PARTS = ("add", "status", "overdraft", "pages")
ADD_TARGET_RPS, ADD_TARGET_P95, ADD_TARGET_CLIENTS = 300, 100, 32
PAGE_TARGET_P95 = 50
STATUS_BEFORE_RPS = 116  # the issue's measure, before this benchmark's changes
SIMULATOR_KEY = "bench-simulator-key"
SERVICE_UPSTREAM_ID = "1"  # the simulator's Instagram Followers: Default, refills, cancels


@dataclass
class Figure:
    label: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=20, help="Seconds of load per run.")
        parser.add_argument(
            "--parts", default=",".join(PARTS), help=f"Which runs, comma-separated: {', '.join(PARTS)}."
        )
        parser.add_argument("--clients", default="8,32,64", help="Concurrent clients of the add runs.")
        parser.add_argument("--status-clients", type=int, default=32)
        parser.add_argument(
            "--page-users", type=int, default=2, help="Concurrent customers walking the pages (one per core)."
        )
        parser.add_argument("--orders", type=int, default=10_000, help="Orders of the pages' customer.")
        parser.add_argument("--exact-adds", type=int, default=200, help="K: the overdraft customer's adds.")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers.")
        parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one).")
        parser.add_argument(
            "--rate-limit",
            default="1000000/m",
            help="API_RATE_LIMIT for the run: the limiter counts every request, high enough to refuse none.",
        )
        parser.add_argument("--logs", help="Keep gunicorn's and locust's logs and CSV files in this folder.")
        parser.add_argument("--worker", action="store_true", help="Also run a Celery worker (1 process).")

    def handle(self, *args, **options):
        parts = [part.strip() for part in options["parts"].split(",") if part.strip()]
        if unknown := set(parts) - set(PARTS):
            raise CommandError(
                f"Unknown parts: {', '.join(sorted(unknown))} (choose from {', '.join(PARTS)})."
            )
        clients = [int(n) for n in options["clients"].split(",") if n.strip()]
        self.duration = max(1, options["duration"])
        self.stamp = f"bench-{time.time_ns()}"
        self.queue = self.stamp
        self.processes: list[subprocess.Popen] = []
        self.describe_setup(options)

        simulator = Simulator(
            SimulatorConfig(key=SIMULATOR_KEY, seed=1, step_seconds=600, balance=Decimal(10**9))
        )
        server = SimulatorServer(simulator).start()
        self.provider = None
        self.scratch = Path(options["logs"] or tempfile.mkdtemp(prefix="bench-load-"))
        self.scratch.mkdir(parents=True, exist_ok=True)
        try:
            started = time.perf_counter()
            self.set_up(server, options)
            self.stdout.write(f"set up in {time.perf_counter() - started:.1f} s")
            self.base = self.start_gunicorn(options)
            if options["worker"]:
                self.start_worker()
            figures = self.run_parts(parts, clients, options)
        except BaseException:
            self.show_log("gunicorn.log")
            raise
        finally:
            self.stop_processes()
            self.drop_queue()
            if self.provider is not None:
                Provider.objects.filter(pk=self.provider.pk).update(is_active=False)
            server.stop()
            if not options["logs"]:
                shutil.rmtree(self.scratch, ignore_errors=True)
        self.report(figures)

    # set-up --------------------------------------------------------------------------------------------

    def describe_setup(self, options):
        database = connection.settings_dict
        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        self.stdout.write(
            f"database: {connection.vendor} ({database['NAME']}); cache: {cache}; broker: {broker}; "
            f"DEBUG {'on' if settings.DEBUG else 'off'}; gunicorn: {options['workers']} sync workers; "
            f"{self.duration} s per run"
        )
        if connection.vendor != "postgresql":
            self.stdout.write("  (the targets are for PostgreSQL: these figures only show that it runs)")
        if "locmem" in cache.lower():
            self.stdout.write("  (the cache is local to each process: each worker counts its own rate limit)")

    def set_up(self, server, options):
        User = get_user_model()
        self.provider = provider_create(name=self.stamp, api_url=server.url, api_key=SIMULATOR_KEY)
        provider_sync_services(provider=self.provider, enable_new=True)
        self.service = Service.objects.get(provider=self.provider, upstream_id=SERVICE_UPSTREAM_ID)

        self.api_user = User.objects.create_user(f"{self.stamp}-api")
        self.api_key = api_key_rotate(user=self.api_user)
        self.api_deposit = Decimal(10**7)
        wallet_move(user=self.api_user, amount=self.api_deposit, kind=LedgerEntry.Kind.DEPOSIT, note="bench")
        _, self.charge = order_quote(user=self.api_user, service=self.service, quantity=1000)

        self.exact_user = User.objects.create_user(f"{self.stamp}-exact")
        self.exact_key = api_key_rotate(user=self.exact_user)
        exact = self.charge * options["exact_adds"]
        wallet_move(user=self.exact_user, amount=exact, kind=LedgerEntry.Kind.DEPOSIT, note="bench")

        self.pages_user = User.objects.create_user(
            f"{self.stamp}-pages", f"{self.stamp}@example.com", "bench"
        )
        self.pages_key = api_key_rotate(user=self.pages_user)
        self.stdout.write(f"setting up {options['orders']:,} orders for the pages...")
        self.set_up_orders(options["orders"])

    def set_up_orders(self, count):
        """The pages' customer: a deposit, `count` orders charged through the wallet (in one move), one
        order placed for real (its history) and one refill. No task is enqueued."""
        user, service = self.pages_user, self.service
        wallet_move(user=user, amount=self.charge * (count + 10), kind=LedgerEntry.Kind.DEPOSIT, note="bench")
        now = timezone.now()
        statuses = ["completed"] * 5 + ["in_progress"] * 2 + ["pending", "pending", "processing"]
        for start in range(0, count, 2000):
            with transaction.atomic():
                batch = []
                for n in range(start, min(count, start + 2000)):
                    state = statuses[n % len(statuses)]
                    created = now - timedelta(minutes=10 * (count - n))
                    batch.append(
                        Order(
                            user=user,
                            service=service,
                            provider=service.provider,
                            link=f"https://instagram.com/p/bench{n}",
                            quantity=1000,
                            service_type=service.type,
                            rate=self.charge,
                            cost_rate=service.cost_rate,
                            charge=self.charge,
                            cost=service.cost_rate,
                            exchange_rate=service.provider.exchange_rate,
                            status=state,
                            upstream_id=f"{self.stamp}-{n}",
                            start_count=100 + n % 900,
                            remains=0 if state == "completed" else 1000 - n % 1000,
                            submitted_at=created,
                            status_changed_at=created,
                            finished_at=created + timedelta(hours=1) if state == "completed" else None,
                        )
                    )
                Order.objects.bulk_create(batch)
                for order in batch:  # auto_now_add stamped them now: back on their own days
                    order.created_at = order.submitted_at
                bulk_update(batch, ["created_at"])
                wallet_moves(
                    moves=[
                        Move(
                            user=user,
                            amount=-order.charge,
                            kind=LedgerEntry.Kind.CHARGE,
                            order_id=order.pk,
                            note=f"Order {order.pk}",
                        )
                        for order in batch
                    ]
                )
        with mock.patch("orders.queue.enqueue_batched_after_commit"):
            self.placed = order_place(
                user=user, service=service, link="https://instagram.com/p/bench-placed", quantity=1000
            )
            completed = Order.objects.filter(user=user, status="completed").order_by("-id").first()
            self.refilled = completed
            if completed is not None:
                refill_request(user=user, order=completed)
        ids = list(Order.objects.filter(user=user).order_by("id").values_list("pk", flat=True))
        step = max(1, len(ids) // 100)
        self.status_ids = [str(pk) for pk in ids[::step][:100]]

    def pages(self) -> list[tuple[str, str]]:
        """Every customer-facing page, as the pages' customer opens them."""
        deep = min(400, max(1, math.ceil(Order.objects.filter(user=self.pages_user).count() / 25)))
        first_page = Order.objects.filter(user=self.pages_user).order_by("-id")[: settings.ORDERS_PAGE_SIZE]
        live = ",".join(order.public_id for order in first_page if order.status in ("pending", "in_progress"))
        entry = LedgerEntry.objects.filter(user=self.pages_user).order_by("-id").first()
        pages = [
            ("home", reverse("home")),
            ("dashboard", reverse("dashboard")),
            ("services", reverse("catalog:service_list")),
            ("new order", reverse("orders:new")),
            ("new order, a service chosen", f"{reverse('orders:new')}?service={self.service.pk}"),
            ("mass order", reverse("orders:mass")),
            ("orders, page 1", reverse("orders:list")),
            (f"orders, page {deep}", f"{reverse('orders:list')}?page={deep}"),
            ("orders, Completed (refills)", f"{reverse('orders:list')}?status=completed"),
            ("orders, search", f"{reverse('orders:list')}?q=bench12"),
            ("orders live (page 1)", f"{reverse('orders:live')}?ids={live}"),
            ("order detail", reverse("orders:detail", args=[self.placed.public_id])),
        ]
        if self.refilled is not None:
            pages.append(("order detail, refilled", reverse("orders:detail", args=[self.refilled.public_id])))
        pages += [
            ("add funds", reverse("payments:funds")),
            ("deposits", reverse("payments:deposits")),
            ("transactions, page 1", reverse("payments:transactions")),
            (f"transactions, page {deep}", f"{reverse('payments:transactions')}?page={deep}"),
        ]
        if entry is not None:
            pages.append(("transaction detail", reverse("wallet:transaction_detail", args=[entry.public_id])))
        pages += [
            ("support tickets", reverse("support:list")),
            ("new ticket", reverse("support:new")),
            ("affiliates", reverse("affiliates:page")),
            ("API docs", reverse("api:docs")),
            ("account", reverse("accounts:account")),
            ("account: emails", reverse("account_email")),
            ("account: password", reverse("account_change_password")),
            ("account: two-factor", reverse("mfa_index")),
        ]
        return pages

    # processes -----------------------------------------------------------------------------------------

    def environment(self, **extra) -> dict:
        hosts = [host for host in settings.ALLOWED_HOSTS if host != "*"] or ["localhost"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "reseller.settings"),
            "API_RATE_LIMIT": self.rate_limit,
            # Plain HTTP on the loopback: no redirect to HTTPS, cookies sent without TLS.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "ALLOWED_HOSTS": ",".join([*hosts, "127.0.0.1"]),
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            **extra,
        }
        return env

    def start_gunicorn(self, options) -> str:
        self.rate_limit = options["rate_limit"]
        extra = {}
        manifest = "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]
        if manifest and not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
            static_root = self.scratch / "static"
            extra["STATIC_ROOT"] = str(static_root)
            self.stdout.write("collecting static files for gunicorn (DEBUG is off: hashed names)...")
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=BASE_DIR,
                env=self.environment(**extra),
                check=True,
            )
        port = options["port"] or _free_port()
        command = [
            sys.executable, "-m", "gunicorn", "reseller.wsgi", "--config", "gunicorn.conf.py",
            "--workers", str(options["workers"]), "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        self.spawn(command, "gunicorn.log", self.environment(**extra))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes[-1].poll() is not None:
                raise CommandError("gunicorn stopped at start-up")
            try:
                requests.get(base + reverse("home"), timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise CommandError("gunicorn did not answer within 60 s")
        self.stdout.write(f"gunicorn on {base}, {options['workers']} sync workers")
        return base

    def start_worker(self):
        command = [
            sys.executable, "-m", "celery", "-A", "reseller", "worker", "-Q", self.queue, "-c", "1",
            "--loglevel", "WARNING", "-n", f"{self.stamp}@%h",
        ]  # fmt: skip
        self.spawn(command, "worker.log", self.environment())
        self.stdout.write(f"a Celery worker on the queue {self.queue}")

    def spawn(self, command, log_name, env):
        with (self.scratch / log_name).open("w") as log:
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def stop_processes(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def drop_queue(self):
        """The run's tasks go to a queue of its own: dropped, so no later worker submits them."""
        from celery import current_app

        try:
            with current_app.connection_for_write() as broker:
                channel = broker.default_channel
                channel.queue_purge(self.queue)
                channel.queue_delete(self.queue)
        except Exception as exc:  # a queue never declared, a broker gone: nothing left to drop
            self.stdout.write(f"  (the queue {self.queue} was not dropped: {exc.__class__.__name__})")

    def show_log(self, name):
        path = getattr(self, "scratch", None)
        if path and (path / name).exists():
            tail = (path / name).read_text(errors="replace").splitlines()[-30:]
            self.stderr.write(f"last lines of {name}:\n" + "\n".join(tail))

    # runs ----------------------------------------------------------------------------------------------

    def run_parts(self, parts, clients, options) -> dict:
        figures = {"add": [], "status": [], "overdraft": None, "pages": []}
        if "add" in parts:
            for users in clients:
                figures["add"].append(
                    (users, self.locust(f"add-{users}", users, BENCH_API_KEY=self.api_key)[0])
                )
        if "status" in parts:
            figures["status"] = self.locust(
                "status",
                options["status_clients"],
                BENCH_SCENARIO="status",
                BENCH_API_KEY=self.pages_key,
                BENCH_ORDER_IDS=",".join(self.status_ids),
            )
        if "overdraft" in parts:
            run = self.locust(
                "overdraft",
                ADD_TARGET_CLIENTS,
                seconds=min(self.duration, 5),
                BENCH_API_KEY=self.exact_key,
                BENCH_EXPECT_REFUSALS="1",
            )[0]
            figures["overdraft"] = (run, options["exact_adds"])
        if "pages" in parts:
            figures["pages"] = self.run_pages(options["page_users"])
        figures["add_accepted"] = sum(figure.requests - figure.failures for _, figure in figures["add"])
        return figures

    def run_pages(self, users) -> list[Figure]:
        client = Client()
        client.force_login(self.pages_user, backend="django.contrib.auth.backends.ModelBackend")
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        pages = []
        for name, path in self.pages():  # once each first: what answers, and warm caches
            response = requests.get(
                self.base + path, headers={"Cookie": cookie}, allow_redirects=False, timeout=30
            )
            if response.status_code == 200:
                pages.append((name, path))
            else:
                self.stdout.write(f"  page {name} {path}: HTTP {response.status_code}, left out")
        return self.locust(
            "pages",
            users,
            BENCH_SCENARIO="pages",
            BENCH_PAGES=json.dumps(pages),
            BENCH_SESSION_COOKIE=cookie,
        )

    def locust(self, label, users, *, seconds=None, **variables) -> list[Figure]:
        seconds = seconds or self.duration
        self.stdout.write(f"running {label}: {users} clients for {seconds} s...")
        prefix = self.scratch / label
        env = {
            **os.environ,
            "BENCH_SCENARIO": "add",
            "BENCH_SERVICE": str(self.service.pk),
            **variables,
        }
        # Every user starts within a tenth of a second, and each finishes the request it is in when the time
        # is up (--stop-timeout): every answer is counted, so the counts can be checked against the database.
        # The JSON file is written after that, the CSV files before it.
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
            "-r", str(users * 10), "-t", f"{seconds}s", "--host", self.base, "--json-file", str(prefix),
            "--loglevel", "WARNING", "--stop-timeout", "10",
        ]  # fmt: skip
        log = self.scratch / f"locust-{label}.log"
        with log.open("w") as out:
            subprocess.run(command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        stats = Path(f"{prefix}.json")
        if not stats.exists():
            self.show_log(log.name)
            raise CommandError(f"locust wrote no figures for {label}")
        figures = [_figure(entry) for entry in json.loads(stats.read_text())]
        if not figures:
            raise CommandError(f"locust made no requests for {label}")
        return figures

    # the report ----------------------------------------------------------------------------------------

    def report(self, figures):
        self.stdout.write("\nfigures (requests/s, p50, p95; locust rounds times above 100 ms to 10 ms)")
        for users, figure in figures["add"]:
            line = self.line(f"API add, {users} clients", figure)
            if users == ADD_TARGET_CLIENTS:
                good = figure.rps >= ADD_TARGET_RPS and figure.p95 < ADD_TARGET_P95 and not figure.failures
                target = f"target >= {ADD_TARGET_RPS} req/s and p95 < {ADD_TARGET_P95} ms"
                line += f"   {target}: {_verdict(good)}"
            else:
                line += f"   (the target is at {ADD_TARGET_CLIENTS} clients)"
            self.stdout.write(line)
        for figure in figures["status"]:
            good = figure.rps > STATUS_BEFORE_RPS and not figure.failures
            self.stdout.write(
                self.line(f"API {figure.label}", figure)
                + f"   target > {STATUS_BEFORE_RPS} req/s (before): {_verdict(good)}"
            )
        width = max((len(figure.label) for figure in figures["pages"]), default=0)
        for figure in figures["pages"]:
            good = figure.p95 < PAGE_TARGET_P95 and not figure.failures
            self.stdout.write(
                self.line(f"page {figure.label:<{width}}", figure)
                + f"   target p95 < {PAGE_TARGET_P95} ms: {_verdict(good)}"
            )
        self.check_money(figures)

    def line(self, label, figure) -> str:
        failed = f", {figure.failures} failed" if figure.failures else ""
        return (
            f"  {label}: {figure.rps:7.1f} req/s  p50 {figure.p50:5.0f} ms  p95 {figure.p95:5.0f} ms"
            f"  ({figure.requests} requests{failed})"
        )

    def check_money(self, figures):
        """Zero overdraft: exactly K adds accepted for a balance of K, no balance below zero, every balance
        the sum of its ledger. A broken one fails the command."""
        problems = []
        if figures["overdraft"] is not None:
            run, allowed = figures["overdraft"]
            accepted = run.requests - run.failures
            placed = Order.objects.filter(user=self.exact_user).count()
            balance = Wallet.objects.get(user=self.exact_user).balance
            good = accepted == placed == allowed and balance == 0
            self.stdout.write(
                f"  overdraft: a balance for exactly {allowed} adds, {run.requests} tried at "
                f"{ADD_TARGET_CLIENTS} clients: {accepted} accepted, {placed} orders, balance {balance}   "
                f"target: exactly {allowed}, balance 0: {_verdict(good)}"
            )
            if not good:
                problems.append("the overdraft customer did not get exactly the adds their balance allows")
        if figures["add"]:
            placed = Order.objects.filter(user=self.api_user).count()
            balance = Wallet.objects.get(user=self.api_user).balance
            expected = self.api_deposit - self.charge * placed
            good = placed == figures["add_accepted"] and balance == expected
            self.stdout.write(
                f"  add runs: {figures['add_accepted']} accepted, {placed} orders, balance {balance} "
                f"(deposit less {placed} charges: {expected}): {_verdict(good)}"
            )
            if not good:
                problems.append("the add runs' orders and charges do not match their answers")
        bench_users = [self.api_user.pk, self.exact_user.pk, self.pages_user.pk]
        negative = (
            Wallet.objects.filter(user_id__in=bench_users, balance__lt=0).count()
            + LedgerEntry.objects.filter(user_id__in=bench_users, balance_after__lt=0).count()
        )
        report = ledger_check()
        self.stdout.write(
            f"  balances below zero: {negative}; check_ledger: "
            f"{'clean' if report.ok else 'NOT CLEAN (run manage.py check_ledger)'}   "
            f"target: none, clean: {_verdict(not negative and report.ok)}"
        )
        if negative or not report.ok:
            problems.append("a balance went below zero or the ledger is not consistent")
        refills = Refill.objects.filter(order__user=self.pages_user).count()
        self.stdout.write(f"  (the rows stay under {self.stamp}-*: 3 customers, {refills} refill)")
        if problems:
            raise CommandError("; ".join(problems))


def _figure(entry: dict) -> Figure:
    """One request name's figures from locust's JSON stats (response times counted by rounded ms)."""
    times = sorted((float(ms), count) for ms, count in entry["response_times"].items())
    elapsed = (entry["last_request_timestamp"] or entry["start_time"]) - entry["start_time"]
    return Figure(
        label=entry["name"],
        requests=entry["num_requests"],
        failures=entry["num_failures"],
        rps=entry["num_requests"] / elapsed if elapsed > 0 else 0.0,
        p50=_percentile(times, entry["num_requests"], 0.50),
        p95=_percentile(times, entry["num_requests"], 0.95),
    )


def _percentile(times: list[tuple[float, int]], total: int, share: float) -> float:
    wanted, seen = math.ceil(total * share), 0
    for ms, count in times:
        seen += count
        if seen >= wanted:
            return ms
    return times[-1][0] if times else 0.0


def _verdict(good: bool) -> str:
    return "OK" if good else "BELOW TARGET"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
