import os

import pytest
from django.db import connection

from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer

SIMULATOR_KEY = "sim-secret-key-0123456789"


# PostgreSQL-only tests: races that need real row locks and concurrent writers (SQLite serializes writers,
# so there is no race to lose). Marked `@pytest.mark.postgresql`; skipped, and counted, on SQLite.

POSTGRES_HOWTO = "DATABASE_URL=postgres://postgres@127.0.0.1:5432/reseller make test"


def pytest_collection_modifyitems(config, items):
    config.postgresql_skipped = 0
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL: run {POSTGRES_HOWTO}")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)
            config.postgresql_skipped += 1


def pytest_terminal_summary(terminalreporter, config):
    if skipped := getattr(config, "postgresql_skipped", 0):
        terminalreporter.write_line(
            f"{skipped} PostgreSQL-only tests skipped (this run is on {connection.vendor}); "
            f"to run them: {POSTGRES_HOWTO}",
            yellow=True,
            bold=True,
        )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits (allauth's, the API's) live in the cache: each test starts with none used, and with none
    of what a process keeps (addresses refused for wrong keys)."""
    from django.core.cache import cache

    from reseller.api import limits

    cache.clear()
    limits._blocked.clear()


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request in Vietnamese leaves its language active in the thread: the next test starts in English."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture
def simulator_config():
    """Override in a test module (or parametrize) to change the simulator's knobs."""
    return SimulatorConfig(key=SIMULATOR_KEY, seed=7, step_seconds=10)


@pytest.fixture
def simulator(simulator_config):
    """A real simulated provider on a free port, speaking HTTP. `simulator.simulator` is its state."""
    server = SimulatorServer(Simulator(simulator_config)).start()
    yield server
    server.stop()


@pytest.fixture
def provider(db, simulator):
    from catalog.models import Provider

    return Provider.objects.create(
        name="Simulator", api_url=simulator.url, api_key=simulator.simulator.config.key, currency="USD"
    )


@pytest.fixture
def synced(provider):
    """The simulator's catalog imported, sellable services enabled."""
    from catalog.sync import provider_sync_services

    provider_sync_services(provider=provider, enable_new=True)
    return provider


@pytest.fixture
def eager_celery():
    """Tasks run inline when queued (after commit), so a placed order reaches the simulator for real."""
    from reseller.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# People: Alice owns things; Charlie "should have no access to Alice's stuff". Both start with 100.


@pytest.fixture
def alice(db):
    from tests.factories import funded_user

    return funded_user("100", username="alice")


@pytest.fixture
def charlie(db):
    from tests.factories import funded_user

    return funded_user("100", username="charlie")


def _logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return _logged_in(alice)


@pytest.fixture
def charlie_client(charlie):
    return _logged_in(charlie)


@pytest.fixture
def staff_client(db):
    from tests.factories import StaffFactory

    return _logged_in(StaffFactory())


# The simulator's services, once synced


def _service(provider, upstream_id):
    from catalog.models import Service

    return Service.objects.get(provider=provider, upstream_id=upstream_id)


@pytest.fixture
def followers(synced):
    """Instagram Followers: Default, refill (30 days) and cancel, min 100."""
    return _service(synced, "1")


@pytest.fixture
def likes(synced):
    """Instagram Likes: Default, 0.42 upstream, sold at 0.5460 per 1000, min 10, max 50000, cancel."""
    return _service(synced, "2")


@pytest.fixture
def comments(synced):
    """Instagram Custom Comments: min 5, max 500."""
    return _service(synced, "4")


@pytest.fixture
def package(synced):
    """Instagram 1000 Followers Package: one package per order."""
    return _service(synced, "6")


@pytest.fixture
def completed(alice, followers, simulator):
    """Three of Alice's orders of a refill service, completed upstream."""
    from tests.helpers import finish, place

    return finish(simulator, place(alice, followers, count=3))


# Browser tests: Playwright driving Debian's Chromium (no browser download is possible here).

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM_PATH):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM_PATH}; CI must install it")
        pytest.skip(f"Chromium not found at {CHROMIUM_PATH} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; Django's async-safety guard would otherwise refuse
    # the ORM calls that tests make between page actions.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    """A page in a context of its own; nothing on it may be refused by the Content-Security-Policy."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = watch_csp(page)
    yield page
    context.close()
    assert not refused, f"the Content-Security-Policy refused: {refused}"


def watch_csp(page, refused: list | None = None) -> list:
    """Collects, in `refused`, what the page's Content-Security-Policy refused (Chromium says so in the
    console): a page must run with no inline script or style of its own (reseller/csp.py)."""
    refused = [] if refused is None else refused

    def note(message):
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", note)
    return refused
