"""Browser tests' helpers: pages at a given screen width, signed in without the login form, and full-page
screenshots that CI keeps as artifacts (SCREENSHOT_DIR, default var/screenshots/ in the checkout)."""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import watch_csp

REPO = Path(__file__).resolve().parents[2]
WIDTHS = [390, 1280]  # a phone and a laptop
HEIGHT = 900


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or REPO / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot_name(node) -> str:
    """`test_x` plus its parameters other than the width: `test_page_fits-orders`."""
    params = getattr(getattr(node, "callspec", None), "params", {})
    parts = [node.originalname, *(str(value) for key, value in params.items() if key != "width")]
    return re.sub(r"[^\w.-]+", "_", "-".join(parts))


@pytest.fixture
def screenshot(request):
    """`screenshot(page)` saves `<test>-<width>.png`, the whole page; `name` replaces `<test>`."""

    def take(page, name: str | None = None) -> Path:
        path = screenshot_dir() / f"{name or screenshot_name(request.node)}-{page.viewport_size['width']}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(width, user=..., locale=...)`: a new browser context that wide, signed in as `user` by
    its session cookie (quicker than the login form, which test_wallet.py's `log_in` covers). Whatever the
    test did, no page may have had anything refused by its Content-Security-Policy (reseller/csp.py)."""
    contexts, refused = [], []

    def open_(width: int, *, user=None, locale: str | None = None):
        options = {"viewport": {"width": width, "height": HEIGHT}}
        if locale:
            options["locale"] = locale
        context = browser.new_context(**options)
        contexts.append(context)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        page = context.new_page()
        page.set_default_timeout(10_000)
        watch_csp(page, refused)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not refused, f"the Content-Security-Policy refused: {refused}"


def session_cookie(user, url: str) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }
