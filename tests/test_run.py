"""What `make run` starts: web, worker, beat and the simulator together, on the embedded defaults
(SQLite and the filesystem broker), and Ctrl-C stops all of them."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def test_the_panel_runs_with_worker_beat_and_simulator_on_embedded_defaults(tmp_path):
    web_port, sim_port, gateways_port = free_port(), free_port(), free_port()
    gateways = f"http://127.0.0.1:{gateways_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))},
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DEBUG": "true",
        "RESELLER_VAR_DIR": str(tmp_path),
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(web_port),
        "SIMULATOR_PORT": str(sim_port),
        "SIMULATOR_KEY": "run-test-key",
        "GATEWAYS_PORT": str(gateways_port),
        "ORDER_POLL_EVERY": "5",  # the first polling sweep, which /healthz waits for, comes soon
        # The demo's payment settings (.env.example), pointed at this run's fake gateways.
        "SEPAY_API_KEY": "run-sepay-key",
        "BANK_BIN": "970422",
        "BANK_ACCOUNT_NUMBER": "0123456789",
        "STRIPE_SECRET_KEY": "sk_test_run",
        "STRIPE_WEBHOOK_SECRET": "whsec_run",
        "STRIPE_API_BASE": f"{gateways}/stripe",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    sim_url = f"http://127.0.0.1:{sim_port}/api/v2"
    subprocess.run(
        [*manage, "seed_demo", "--simulator-url", sim_url, "--simulator-key", "run-test-key"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "-e", str(empty_env_file), "-f", "Procfile.dev", "start"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{web_port}"
        assert wait_for(lambda: requests.get(base + "/", timeout=2).status_code == 200), log_path.read_text()
        assert requests.get(base + "/admin/login/", timeout=5).status_code == 200
        assert wait_for(
            lambda: (
                "balance"
                in requests.post(sim_url, data={"key": "run-test-key", "action": "balance"}, timeout=5).json()
            )
        ), log_path.read_text()
        assert wait_for(lambda: "beat: Starting" in log_path.read_text()), log_path.read_text()
        # Beat ticks and the worker finishes a polling sweep: every check of /healthz passes.
        healthy = wait_for(lambda: requests.get(base + "/healthz", timeout=5).status_code == 200, seconds=90)
        assert healthy, requests.get(base + "/healthz", timeout=5).text + log_path.read_text()
        assert wait_for(lambda: "Simulator: 39 new" in log_path.read_text()), "the demo catalog is imported"
        assert "Instagram Likes" in requests.get(base + "/services/", timeout=5).text

        # The worker picks a task from the filesystem broker and asks the simulator for the balance.
        enqueue = "from catalog.tasks import providers_refresh_balances as t; t.delay()"
        subprocess.run([*manage, "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, capture_output=True)
        read = "from catalog.models import Provider; print(Provider.objects.get().balance)"

        def balance_recorded():
            out = subprocess.run(
                [*manage, "shell", "-c", read], cwd=ROOT, env=env, capture_output=True, text=True
            )
            return out.stdout.strip() not in ("", "None")

        assert wait_for(balance_recorded, seconds=60), log_path.read_text()

        # A bank transfer with the demo customer's memo: the fake SePay notifies the web process, which
        # credits it; the same notification again changes nothing.
        memo = "from payments.bank import memo_code; from reseller.accounts.models import User; "
        memo += "print(memo_code(User.objects.get(username='demo')))"
        code = subprocess.run(
            [*manage, "shell", "-c", memo], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout.split()[-1]  # the last word: the shell may print a banner first
        assert code.startswith("NAP"), code
        assert wait_for(lambda: requests.get(gateways + "/sepay/", timeout=2).ok), log_path.read_text()
        transfer = requests.post(
            gateways + "/sepay/_control/transfer",
            json={"amount": 250000, "content": f"{code} nap tien"},
            timeout=10,
        ).json()
        assert transfer["delivered"] == 200, log_path.read_text()
        again = requests.post(gateways + "/sepay/_control/redeliver", json={"id": transfer["id"]}, timeout=10)
        assert again.json()["delivered"] == 200
        count = "from payments.models import Deposit as D; "
        count += "print(D.objects.filter(method='bank', status='paid').count())"
        deposits = subprocess.run(
            [*manage, "shell", "-c", count], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert deposits.stdout.split()[-1] == "1", deposits.stdout + deposits.stderr
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        honcho.wait(timeout=30)

    output = log_path.read_text()
    for name in ("web.1", "worker.1", "beat.1", "simulator.1", "gateways.1", "catalog.1"):
        assert name in output
    for secret in ("run-test-key", "run-sepay-key", "whsec_run", "sk_test_run"):
        assert secret not in output
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-g", str(honcho.pid)], capture_output=True, text=True).stdout
    assert leftovers.strip() == "", "Ctrl-C should stop every process"
