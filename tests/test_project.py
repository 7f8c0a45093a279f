"""The project skeleton: settings from the environment, the pages every deployment needs, demo data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Provider
from reseller.celery import app as celery_app
from reseller.heartbeats import BEAT, POLL, heartbeat

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"} and not k.startswith("DJANGO_")
    }
    clean.update(DJANGO_SETTINGS_MODULE="reseller.settings", RESELLER_VAR_DIR=str(ROOT / "var"), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_manage("check", DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_passes_with_only_a_secret_key_and_allowed_hosts():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-a-long-and-random-enough-secret-value-0123456789",
        ALLOWED_HOSTS="x.example",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_secure_defaults_can_be_switched_off_for_a_tls_proxy():
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DEBUG="false",
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="x.example",
        SECURE_SSL_REDIRECT="false",
        SECURE_PROXY_SSL_HEADER="true",
    )

    assert result.stdout.strip() == "False ('HTTP_X_FORWARDED_PROTO', 'https')", result.stderr


def test_the_database_defaults_to_sqlite_under_var_and_follows_database_url():
    code = "from django.conf import settings as s; d = s.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    default = run_manage("shell", "-v", "0", "-c", code, DEBUG="true", DATABASE_URL="")
    postgres = run_manage(
        "shell", "-v", "0", "-c", code, DEBUG="true", DATABASE_URL="postgres://u@db.example:5432/panel"
    )

    assert default.stdout.split() == ["django.db.backends.sqlite3", str(ROOT / "var" / "reseller.sqlite3")]
    assert postgres.stdout.split() == ["django.db.backends.postgresql", "panel"]


def test_celery_is_json_only_with_acks_late_prefetch_one_and_time_limits():
    conf = celery_app.conf

    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_every_beat_entry_names_a_registered_task():
    celery_app.loader.import_default_modules()

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks


def test_the_custom_user_model_is_in_place():
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model()._meta.label == "accounts.User"


@pytest.mark.django_db
def test_home_page_serves_htmx_and_the_csrf_header(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "htmx" in html and "<script" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


@pytest.mark.django_db
def test_healthz_answers_json(client):
    heartbeat(BEAT)  # beat ticked and a polling sweep finished: tests/cockpit/test_health.py for the rest
    heartbeat(POLL)
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_demo_data_is_idempotent():
    call_command("seed_demo", simulator_url="http://127.0.0.1:9999/api/v2", verbosity=0)
    call_command("seed_demo", simulator_url="http://127.0.0.1:9999/api/v2", verbosity=0)

    users = get_user_model().objects.order_by("username")
    assert [(u.username, u.is_staff) for u in users] == [("admin", True), ("demo", False)]
    assert users[0].check_password("admin")
    assert list(Provider.objects.values_list("name", "api_url")) == [
        ("Simulator", "http://127.0.0.1:9999/api/v2")
    ]


def test_the_web_server_access_log_never_shows_query_strings(tmp_path):
    import socket
    import time

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DEBUG": "true",
        "RESELLER_VAR_DIR": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "reseller.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz?key=QUERY-SECRET-123456", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)

    # No beat nor worker here, nor migrations: the checks that need them fail, and the answer says so.
    assert (answer.status_code, answer.json()["status"]) == (503, "fail")
    assert answer.json()["checks"]["database"] == {"ok": True}
    assert '"GET /healthz"' in log.read_text()
    assert "QUERY-SECRET" not in log.read_text()


def test_the_containers_health_check_host_is_always_allowed():
    code = "from django.conf import settings as s; print(s.ALLOWED_HOSTS)"
    result = run_manage(
        "shell", "-v", "0", "-c", code, DEBUG="false", SECRET_KEY="s" * 60, ALLOWED_HOSTS="panel.example.com"
    )

    assert result.stdout.strip() == "['panel.example.com', 'localhost']", result.stderr
