import os

import pytest

from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer

SIMULATOR_KEY = "sim-secret-key-0123456789"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits (allauth's, the API's) live in the cache: each test starts with none used."""
    from django.core.cache import cache

    cache.clear()


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
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
