"""Settings: .env read before anything else, no side effects on import, every interval from the environment.

Each test imports the settings in a fresh subprocess with a clean environment and its own var/ folder, so
neither this test run's settings nor a `make run` in the same checkout can leak in.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EVERY = {
    "ORDER_POLL_EVERY": "poll-orders",
    "ORDER_SWEEP_EVERY": "sweep-orders",
    "REFILL_POLL_EVERY": "poll-refills",
}
INTERVALS = [
    "ORDER_POLL_EVERY",
    "ORDER_POLL_INTERVAL",
    "ORDER_FIRST_CHECK_AFTER",
    "ORDER_SWEEP_EVERY",
    "ORDER_SUBMIT_STUCK_AFTER",
    "ORDER_REQUEUE_AFTER",
    "REFILL_POLL_EVERY",
    "REFILL_POLL_INTERVAL",
    "REFILL_FIRST_CHECK_AFTER",
    "REFILL_SUBMIT_STUCK_AFTER",
]
# What the panel did before these were settings (the beat entries were hard-coded), but for the sweeper, which
# now runs every 30 s and sends a queued order again a minute after it was due (not every 120 s, after 900).
TODAY = {
    "ORDER_POLL_EVERY": 60,
    "ORDER_POLL_INTERVAL": 60,
    "ORDER_FIRST_CHECK_AFTER": 60,
    "ORDER_SWEEP_EVERY": 30,
    "ORDER_SUBMIT_STUCK_AFTER": 300,
    "ORDER_REQUEUE_AFTER": 60,
    "REFILL_POLL_EVERY": 120,
    "REFILL_POLL_INTERVAL": 300,
    "REFILL_FIRST_CHECK_AFTER": 300,
    "REFILL_SUBMIT_STUCK_AFTER": 300,
}
TODAY_BEAT = {
    "poll-orders": {"schedule": 60, "expires": 55},
    "sweep-orders": {"schedule": 30, "expires": 28},
    "poll-refills": {"schedule": 120, "expires": 110},
}

# Prints what beat would run: Celery's own view of the schedule, loaded from the Django settings.
PRINT_BEAT = (
    "import json; from reseller.celery import app; s = app.conf.beat_schedule; "
    "print(json.dumps({k: {'schedule': s[k]['schedule'], 'expires': s[k]['options']['expires']} "
    f"for k in {sorted(EVERY.values())!r}}}))"
)
PRINT_INTERVALS = (
    "import json; from django.conf import settings as s; "
    f"print(json.dumps({{n: getattr(s, n) for n in {INTERVALS!r}}}))"
)


@pytest.fixture
def run(tmp_path):
    """run(code, **env) runs `python -c code` from the checkout with only the given settings in its
    environment: no .env of the checkout (an empty one instead), var/ in tmp_path/var, DEBUG on."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")

    def run(code, **env):
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "RESELLER_", "CELERY_", "ORDER_", "REFILL_"))
            and k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CACHE_URL"}
        }
        clean.update(
            DEBUG="true",
            DJANGO_SETTINGS_MODULE="reseller.settings",
            RESELLER_ENV_FILE=str(empty_env_file),
            RESELLER_VAR_DIR=str(tmp_path / "var"),
        )
        clean.update(env)
        clean = {k: v for k, v in clean.items() if v is not None}  # None: leave the variable unset
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
        )

    return run


def output(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# .env


def test_var_dir_given_only_in_the_env_file_is_honoured(run, tmp_path):
    var = tmp_path / "var-from-dotenv"
    env_file = tmp_path / "panel.env"
    env_file.write_text(f"RESELLER_VAR_DIR={var}\n")
    code = (
        "import json; from django.conf import settings as s; print(json.dumps([str(s.VAR_DIR), "
        "s.DATABASES['default']['NAME'], s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'], "
        "s.CELERY_BEAT_SCHEDULE_FILENAME]))"
    )

    result = run(code, RESELLER_ENV_FILE=str(env_file), RESELLER_VAR_DIR=None)

    assert output(result) == [
        str(var),
        str(var / "reseller.sqlite3"),
        str(var / "broker"),
        str(var / "celerybeat-schedule"),
    ]


def test_the_environment_wins_over_the_env_file(run, tmp_path):
    env_file = tmp_path / "panel.env"
    env_file.write_text(f"RESELLER_VAR_DIR={tmp_path / 'from-file'}\nORDER_SWEEP_EVERY=30\n")

    result = run(PRINT_INTERVALS, RESELLER_ENV_FILE=str(env_file), ORDER_SWEEP_EVERY="45")
    var = run("from django.conf import settings as s; print(s.VAR_DIR)", RESELLER_ENV_FILE=str(env_file))

    assert output(result)["ORDER_SWEEP_EVERY"] == 45
    assert var.stdout.strip() == str(tmp_path / "var")


def test_an_env_file_named_but_missing_stops_start_up(run, tmp_path):
    result = run("import reseller.settings", RESELLER_ENV_FILE=str(tmp_path / "typo.env"))

    assert result.returncode != 0
    assert "ImproperlyConfigured: RESELLER_ENV_FILE names" in result.stderr
    assert "typo.env" in result.stderr


# No side effects on import; the broker's folders at start-up


@pytest.mark.parametrize("module", ["reseller.settings", "reseller.settings_test"])
def test_importing_the_settings_creates_no_folder(run, tmp_path, module):
    result = run(
        f"import {module} as s; print(s.CELERY_BROKER_URL, sorted(s.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("filesystem://")  # the broker that used to create its folders on import
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("module", "folders"),
    [
        ("reseller.settings", ["broker", "broker-control", "broker-processed"]),
        ("reseller.settings_test", ["test-broker", "test-broker-control"]),
    ],
)
def test_django_setup_creates_the_filesystem_brokers_folders_and_the_broker_works(
    run, tmp_path, module, folders
):
    code = (
        "import django; django.setup()\n"
        "from reseller.celery import app\n"
        "with app.connection_for_write() as conn:\n"
        "    queue = conn.SimpleQueue('settings-test')\n"
        "    queue.put({'hello': 'broker'})\n"
        "    message = queue.get(timeout=5)\n"
        "    message.ack()\n"
        "    print(message.payload['hello'])\n"
    )

    result = run(code, DJANGO_SETTINGS_MODULE=module)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "broker"
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == folders


def test_celery_worker_and_beat_start_up_create_the_brokers_folders(run, tmp_path):
    # What `celery -A reseller worker` and `beat` do before consuming or publishing: Celery's Django fixup
    # runs django.setup() when the default modules are imported.
    result = run("from reseller.celery import app; app.loader.import_default_modules()")

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "var").iterdir()) == [
        "broker",
        "broker-control",
        "broker-processed",
    ]


def test_another_broker_gets_no_folders(run, tmp_path):
    result = run("import django; django.setup()", CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


# Intervals


def test_the_default_intervals_are_todays_behaviour(run):
    assert output(run(PRINT_INTERVALS)) == TODAY
    assert output(run(PRINT_BEAT)) == TODAY_BEAT


def test_an_empty_interval_means_its_default(run):
    # docker compose passes ${ORDER_SWEEP_EVERY:-} as an empty string when it is unset.
    assert output(run(PRINT_INTERVALS, ORDER_SWEEP_EVERY="", REFILL_POLL_INTERVAL=" ")) == TODAY


@pytest.mark.parametrize(("name", "entry"), sorted(EVERY.items()))
def test_each_every_setting_drives_its_beat_entry_and_its_expiry(run, name, entry):
    beat = output(run(PRINT_BEAT, **{name: "30"}))

    assert beat[entry] == {"schedule": 30, "expires": 28}
    assert {k: v for k, v in beat.items() if k != entry} == {
        k: v for k, v in TODAY_BEAT.items() if k != entry
    }


def test_a_redis_cache_keeps_going_without_redis_and_gives_up_on_it_quickly(run):
    result = run(
        "from django.conf import settings as s; c = s.CACHES['default']; "
        "print(c['BACKEND'], c['OPTIONS']['socket_connect_timeout'], c['OPTIONS']['socket_timeout'])",
        CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert result.stdout.split() == ["reseller.cache.FallbackRedisCache", "0.5", "0.5"]


def test_redis_gives_a_killed_worker_s_task_back_after_ten_minutes_not_an_hour(run):
    result = run(
        "from django.conf import settings as s; print(s.CELERY_BROKER_TRANSPORT_OPTIONS)",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )

    assert result.stdout.strip() == "{'visibility_timeout': 600}"


@pytest.mark.parametrize(
    "env",
    [
        {"CELERY_VISIBILITY_TIMEOUT": "150"},  # the task time limit: a running task would start twice
        {"ORDER_SUBMIT_RETRY_BASE": "60", "CELERY_VISIBILITY_TIMEOUT": "900"},  # a retry of 960 s
    ],
)
def test_a_visibility_timeout_that_would_start_tasks_twice_stops_start_up(run, env):
    result = run("import reseller.settings", CELERY_BROKER_URL="redis://127.0.0.1:6379/0", **env)

    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT" in result.stderr and "must be longer than" in result.stderr


@pytest.mark.parametrize(("every", "expires"), [(1, 1), (2, 1), (12, 11), (300, 275), (3600, 3300)])
def test_a_beat_entry_expires_before_the_next_one_is_sent(run, every, expires):
    beat = output(run(PRINT_BEAT, ORDER_SWEEP_EVERY=str(every)))

    assert beat["sweep-orders"] == {"schedule": every, "expires": expires}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ORDER_POLL_INTERVAL": "45"}, {"ORDER_POLL_INTERVAL": 45, "ORDER_FIRST_CHECK_AFTER": 45}),
        (
            {"ORDER_POLL_INTERVAL": "45", "ORDER_FIRST_CHECK_AFTER": "5"},
            {"ORDER_POLL_INTERVAL": 45, "ORDER_FIRST_CHECK_AFTER": 5},
        ),
        ({"REFILL_POLL_INTERVAL": "200"}, {"REFILL_POLL_INTERVAL": 200, "REFILL_FIRST_CHECK_AFTER": 200}),
        (
            {"ORDER_SUBMIT_STUCK_AFTER": "100"},
            {"ORDER_SUBMIT_STUCK_AFTER": 100, "REFILL_SUBMIT_STUCK_AFTER": 100},
        ),
        (
            {"ORDER_SUBMIT_STUCK_AFTER": "100", "REFILL_SUBMIT_STUCK_AFTER": "600"},
            {"ORDER_SUBMIT_STUCK_AFTER": 100, "REFILL_SUBMIT_STUCK_AFTER": 600},
        ),
        ({"ORDER_REQUEUE_AFTER": "1800"}, {"ORDER_REQUEUE_AFTER": 1800}),
    ],
)
def test_intervals_follow_the_environment_and_derived_defaults_follow_their_source(run, env, expected):
    assert output(run(PRINT_INTERVALS, **env)) == {**TODAY, **expected}


def test_a_bad_interval_stops_start_up_with_a_clear_message(run):
    result = run(
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'check'])",
        ORDER_SWEEP_EVERY="abc",
    )

    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: "
        "ORDER_SWEEP_EVERY must be a positive whole number of seconds, not 'abc'."
    ) in result.stderr


# Between two checks (and before the first) 0 means "at every sweep"; a schedule or a timeout of 0 is no
# interval at all.
MAY_BE_ZERO = {
    "ORDER_POLL_INTERVAL",
    "ORDER_FIRST_CHECK_AFTER",
    "REFILL_POLL_INTERVAL",
    "REFILL_FIRST_CHECK_AFTER",
}


@pytest.mark.parametrize("name", INTERVALS)
def test_every_interval_is_checked_and_named_when_bad(run, name):
    result = run("import reseller.settings", **{name: "abc"})

    what = "a whole number" if name in MAY_BE_ZERO else "a positive whole number"
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be {what} of seconds, not 'abc'." in result.stderr


@pytest.mark.parametrize("name", sorted(MAY_BE_ZERO))
def test_checks_may_be_asked_for_at_every_sweep(run, name):
    result = run(f"from reseller import settings; print(settings.{name})", **{name: "0"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "1e3", "60s", "1_000"])
def test_only_a_positive_whole_number_of_seconds_is_an_interval(run, value):
    result = run("import reseller.settings", ORDER_SWEEP_EVERY=value)

    assert result.returncode != 0
    assert f"ORDER_SWEEP_EVERY must be a positive whole number of seconds, not {value!r}." in result.stderr


def test_payment_settings_default_to_no_method_and_the_nap_memo_prefix(run):
    result = run(
        "from django.conf import settings as s; "
        "print(s.STRIPE_SECRET_KEY == s.PAYOS_API_KEY == s.SEPAY_API_KEY == '', s.BANK_MEMO_PREFIX, "
        "s.STRIPE_CURRENCY)",
        STRIPE_CURRENCY="",
    )
    assert result.stdout.split() == ["True", "NAP", "USD"], result.stderr


@pytest.mark.parametrize("prefix", ["NAP-", "NAP1", "NẠP", "ABCDEFGHIJK"])
def test_a_memo_prefix_banks_could_mangle_stops_start_up(run, prefix):
    result = run("import django; django.setup()", BANK_MEMO_PREFIX=prefix)
    assert result.returncode != 0
    assert "BANK_MEMO_PREFIX must be up to 10 letters" in result.stderr


@pytest.mark.parametrize("value", ["150", "-1", "5.555", "abc", "NaN", "Infinity"])
def test_a_commission_percent_outside_0_to_100_or_finer_than_a_hundredth_stops_start_up(run, value):
    """It is earned inside the move that finishes an order: a bad percent must stop start-up, not orders."""
    result = run("import reseller.settings", AFFILIATE_COMMISSION_PERCENT=value)

    assert result.returncode != 0
    assert (
        "AFFILIATE_COMMISSION_PERCENT must be a percentage from 0 to 100, two decimals at most, "
        f"not {value!r}."
    ) in result.stderr


@pytest.mark.parametrize(("value", "expected"), [("", "5"), ("7.5", "7.5"), ("0", "0"), ("100", "100")])
def test_a_commission_percent_follows_the_environment(run, value, expected):
    result = run(
        "from reseller import settings; print(settings.AFFILIATE_COMMISSION_PERCENT)",
        AFFILIATE_COMMISSION_PERCENT=value,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("AFFILIATE_PAYOUT_MINIMUM", "abc", "an amount of 0 or more, five decimals at most"),
        ("AFFILIATE_PAYOUT_MINIMUM", "NaN", "an amount of 0 or more, five decimals at most"),
        ("AFFILIATE_PAYOUT_MINIMUM", "-10", "an amount of 0 or more, five decimals at most"),
        ("AFFILIATE_COOKIE_DAYS", "-1", "a positive whole number of days"),
        ("AFFILIATE_COOKIE_DAYS", "0", "a positive whole number of days"),
        ("AFFILIATE_COOKIE_DAYS", "30d", "a positive whole number of days"),
    ],
)
def test_a_bad_payout_minimum_or_cookie_lifetime_stops_start_up(run, name, value, what):
    result = run("import reseller.settings", **{name: value})

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be {what}, not {value!r}." in result.stderr
