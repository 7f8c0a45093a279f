"""Every customer page in Chromium at a phone's width (390 px) and a laptop's (1280 px): nothing wider than
the screen, one line per order on a laptop, the phone menu, red field errors, live progress that polls once
per interval for the whole list and stops when nothing is live, Vietnamese pages, and the Cancel button.
Each page is screenshotted for CI (tests/browser/conftest.py)."""

import re
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Service
from orders.models import Order, OrderCheck, RefillStatus, Status
from orders.placement import order_place
from orders.polling import orders_poll
from orders.refills import refill_request, refills_poll, refills_submit
from orders.submission import order_submit
from reseller.wallet.models import FundsInstructions, LedgerEntry
from tests.browser.conftest import WIDTHS
from tests.factories import funded_user
from tests.helpers import finish, place, reload, set_outcome

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = "rgb(200, 30, 30)"  # --bad
LONG_LINK = (
    "https://www.instagram.com/p/C3xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789/"
    "?utm_source=ig_web_copy_link&igsh=MzRlODBiNWFlZA=="
)
INSTRUCTIONS = """\
## Bank transfer

Pay to the account below and write your **username** as the reference. Funds arrive within one working day.

| Bank | Account holder | IBAN |
| --- | --- | --- |
| Example Bank | Reseller Ltd | GB33BUKB20201555555555 |

Or send USDT (TRC-20) to `TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE`, then [open a ticket](https://example.com/support).
"""

# What nothing may do: stick out of the screen. Elements inside something that clips or scrolls sideways
# (a `pre`, a `.table-wrap` on a laptop, a truncated cell) are that ancestor's business, unless they are
# positioned past it: an absolutely positioned element (`.sr-only`) escapes a scroller that is not its
# containing block, and widens the page.
OVERFLOW_JS = """() => {
  const limit = window.innerWidth + 1;
  const contained = (el) => {
    let position = getComputedStyle(el).position;
    if (position === "fixed") return false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (position === "absolute" && style.position === "static") continue;  // does not clip it
      if (style.overflowX !== "visible") return true;
      position = style.position;
    }
    return false;
  };
  const describe = (el) => {
    const classes = [...el.classList].map((name) => "." + name).join("");
    const text = (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 50);
    const box = el.getBoundingClientRect();
    return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}> ` +
      `left ${Math.round(box.left)} right ${Math.round(box.right)} width ${Math.round(box.width)} "${text}"`;
  };
  const wide = [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    return (box.width || box.height) && (box.right > limit || box.left < -1) && !contained(el);
  });
  const outermost = wide.filter((el) => !wide.some((other) => other !== el && other.contains(el)));
  const problems = outermost.map(describe);
  const scroll = document.documentElement.scrollWidth;
  if (scroll > window.innerWidth) problems.unshift(`the page scrolls sideways: ${scroll} px wide`);
  return problems;
}"""

# Text lines per cell of the orders table: the distance from the top of a cell's first line of text to the
# bottom of its last, against the cell's line height.
WRAPPED_CELLS_JS = """() => {
  const wrapped = [];
  for (const row of document.querySelectorAll("tr.order-row")) {
    for (const cell of row.cells) {
      const style = getComputedStyle(cell);
      const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
      let top = Infinity, bottom = -Infinity;
      const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      while (texts.nextNode()) {
        if (!texts.currentNode.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(texts.currentNode);
        for (const box of range.getClientRects()) {
          if (!box.width) continue;
          top = Math.min(top, box.top);
          bottom = Math.max(bottom, box.bottom);
        }
      }
      if (bottom - top > 1.6 * line) {
        const label = cell.dataset.label || cell.className || "cell " + cell.cellIndex;
        wrapped.push(`${row.id} ${label}: ${Math.round(bottom - top)} px of text, lines of ${line} px`);
      }
    }
  }
  return wrapped;
}"""


# How far a table sticks out of its scrolling wrapper (0 when it fits), and its columns' widths.
TABLE_WIDTH_JS = """(wrap) => {
  const extra = wrap.scrollWidth - wrap.clientWidth;
  if (extra <= 1) return "";
  const columns = [...wrap.querySelectorAll("thead th")].map((th, i) =>
    `${th.textContent.trim() || "column " + (i + 1)} ${Math.round(th.getBoundingClientRect().width)}`);
  const sizes = `${wrap.scrollWidth} px in ${wrap.clientWidth} px (${extra} px more)`;
  return `${sizes}; columns: ${columns.join(", ")}`;
}"""


def overflow(page) -> list[str]:
    return page.evaluate(OVERFLOW_JS)


def assert_fits(page, what: str) -> None:
    problems = overflow(page)
    assert not problems, f"{what}: " + "\n".join(problems)


def poll(orders) -> None:
    """What Celery beat's sweep does for these orders, now."""
    OrderCheck.objects.filter(pk__in=[order.pk for order in orders]).update(next_check_at=None)
    orders_poll(order_ids=[order.pk for order in orders])


def services(provider) -> dict[str, Service]:
    by_upstream_id = {service.upstream_id: service for service in Service.objects.filter(provider=provider)}
    return {
        "followers": by_upstream_id["1"],  # refill and cancel
        "likes": by_upstream_id["2"],  # cancel
        "views": by_upstream_id["3"],  # neither
        "package": by_upstream_id["6"],
    }


@pytest.fixture
def shop(synced, simulator):
    """Alice's panel with something on every page: funded and credited, payment instructions written,
    24 orders (one page) in every customer status: completed ones of a refill service (one with a refill
    under way, one refilled), one over-delivered, one failed, one with a long link still in progress."""
    sim, service = simulator.simulator, services(synced)
    alice = funded_user("100", username="alice")
    call_command("credit", "alice", "25", "--note", "Bank transfer 8812", stdout=StringIO())
    FundsInstructions.objects.create(text=INSTRUCTIONS)

    refillable = finish(simulator, place(alice, service["followers"], count=3))
    (over_delivered,) = finish(simulator, place(alice, service["followers"]), remains=-3)
    finish(simulator, place(alice, service["likes"], count=3, quantity=1000))
    finish(simulator, place(alice, service["likes"], count=3, quantity=1000), "Partial", remains=400)
    finish(simulator, place(alice, service["views"], count=2, quantity=5000), "Canceled", remains=5000)
    finish(simulator, place(alice, service["package"]))
    refill_request(user=alice, order=refillable[0])  # under way: "Refill: Pending" in its row
    refilled = refill_request(user=alice, order=refillable[1])
    refills_submit(refill_ids=[refilled.pk])
    sim.refills[int(reload(refilled).upstream_id)].outcome = "Completed"
    sim.advance(100)
    refills_poll(refill_ids=[refilled.pk])  # done: "Refill: Completed" and the Refill button again
    assert reload(refilled).status == RefillStatus.COMPLETED
    sim.inject("error", action="add")
    (failed,) = place(alice, service["likes"])
    assert reload(failed).status == Status.FAILED

    processing = place(alice, service["likes"], count=2, quantity=1000)
    for order in processing:
        set_outcome(simulator, order, "Completed")
    sim.advance(25)
    poll(processing)
    long_link = order_place(user=alice, service=service["likes"], link=LONG_LINK, quantity=1000)
    order_submit(order_id=long_link.pk)
    in_progress = [reload(long_link), *place(alice, service["likes"], count=2, quantity=1000)]
    for order in in_progress:
        set_outcome(simulator, order, "Completed")
    sim.advance(15)
    poll(in_progress)
    place(alice, service["likes"], count=3, quantity=1000)  # pending upstream
    for _ in range(2):  # queued: not sent upstream yet
        order_place(user=alice, service=service["views"], link="https://instagram.com/p/new", quantity=1000)

    statuses = set(Order.objects.values_list("status", flat=True))
    assert Order.objects.count() == 24
    assert statuses >= {
        "queued",
        "pending",
        "in_progress",
        "processing",
        "completed",
        "partial",
        "canceled",
        "failed",
    }
    return {
        "user": alice,
        "followers": service["followers"].pk,
        "live": reload(long_link).public_id,
        "completed": over_delivered.public_id,
        "failed": failed.public_id,
        "entry": LedgerEntry.objects.filter(user=alice, note="Bank transfer 8812").get().public_id,
    }


CUSTOMER_PAGES = {
    "home": "/",
    "services": "/services/",
    "dashboard": "/dashboard/",
    "orders": "/orders/",
    "order-new": "/orders/new/",
    "order-new-service": "/orders/new/?service={followers}",
    "order-live": "/orders/{live}/",
    "order-completed": "/orders/{completed}/",
    "order-failed": "/orders/{failed}/",
    "transactions": "/transactions/",
    "transaction": "/transactions/{entry}/",
    "funds": "/funds/",
    "account": "/account/",
    "api": "/api/",
    "password-change": "/accounts/password/change/",
}
VISITOR_PAGES = {
    "login": "/accounts/login/",
    "signup": "/accounts/signup/",
    "password-reset": "/accounts/password/reset/",
    "home": "/",
    "services": "/services/",
    "api": "/api/",
}


def visit(page, url: str) -> list[str]:
    """Goes to `url` (it must answer 200); returns the JavaScript errors the page then raises."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    return errors


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", CUSTOMER_PAGES)
def test_a_customer_page_fits_the_screen(live_server, open_page, screenshot, shop, name, width):
    page = open_page(width, user=shop["user"])
    errors = visit(page, live_server.url + CUSTOMER_PAGES[name].format(**shop))
    expect(page.locator("#header-balance")).to_be_attached()  # signed in

    screenshot(page)
    assert_fits(page, f"{name} at {width} px")
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", VISITOR_PAGES)
def test_a_visitor_page_fits_the_screen(live_server, open_page, screenshot, synced, name, width):
    page = open_page(width)
    errors = visit(page, live_server.url + VISITOR_PAGES[name])

    screenshot(page)
    assert_fits(page, f"{name} at {width} px")
    assert errors == []


def test_on_a_laptop_each_order_is_one_line(live_server, open_page, screenshot, shop):
    page = open_page(1280, user=shop["user"])
    visit(page, live_server.url + "/orders/")
    expect(page.locator("tr.order-row")).to_have_count(24)

    screenshot(page)
    wrapped = page.evaluate(WRAPPED_CELLS_JS)
    assert not wrapped, "\n".join(wrapped)

    # The check sees wrapping when there is some.
    page.evaluate("""() => document.querySelectorAll(".orders td, .orders td *").forEach(
        cell => cell.style.setProperty("white-space", "normal", "important"))""")
    assert len(page.evaluate(WRAPPED_CELLS_JS)) >= 24


@pytest.mark.parametrize("locale", ["en-US", "vi-VN"])  # Vietnamese labels are longer
def test_on_a_laptop_the_whole_orders_table_shows_without_scrolling_sideways(
    live_server, open_page, screenshot, shop, locale
):
    page = open_page(1280, user=shop["user"], locale=locale)
    visit(page, live_server.url + "/orders/")
    screenshot(page)

    sideways = page.locator("#order-table .table-wrap").evaluate(TABLE_WIDTH_JS)
    assert not sideways, f"the orders table scrolls sideways: {sideways}"
    inside = (
        "el => el.getBoundingClientRect().right <= el.closest('.table-wrap').getBoundingClientRect().right"
    )
    for button in page.locator(".refill-button, .cancel-button").all():  # none cut off
        assert button.evaluate(inside)


def test_on_a_phone_the_nav_links_wait_behind_the_menu_button(live_server, open_page, screenshot):
    page = open_page(390, user=funded_user("100", username="alice"))
    visit(page, live_server.url + "/dashboard/")
    links = page.locator("#site-nav a")
    toggle = page.locator(".nav-toggle")

    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    for link in links.all():
        expect(link).to_be_hidden()

    toggle.click()

    expect(page.locator(".topbar")).to_have_attribute("data-open", "")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for link in links.all():
        expect(link).to_be_visible()
    expect(page.locator("#site-nav a[href='/orders/']")).to_be_visible()
    expect(page.locator("select#language")).to_be_visible()
    screenshot(page)
    assert_fits(page, "the open menu")

    toggle.click()

    expect(page.locator(".topbar")).not_to_have_attribute("data-open", "")
    expect(links.first).to_be_hidden()


def test_on_a_laptop_the_nav_links_show_without_a_menu_button(live_server, open_page, screenshot):
    page = open_page(1280, user=funded_user("100", username="alice"))
    visit(page, live_server.url + "/dashboard/")

    expect(page.locator(".nav-toggle")).to_be_hidden()
    for link in page.locator("#site-nav a").all():
        expect(link).to_be_visible()
    screenshot(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_bad_quantity_is_said_in_red_beside_the_field(live_server, open_page, screenshot, likes, width):
    page = open_page(width, user=funded_user("100", username="alice"))
    visit(page, f"{live_server.url}/orders/new/?service={likes.pk}")
    page.fill("#id_link", "https://instagram.com/p/abc")
    page.fill("#id_quantity", "abc")

    page.click("#order-form button[type=submit]")

    error = page.locator(".field-quantity .field-error")
    expect(error).to_have_text("Enter the quantity as a whole number.")
    expect(page.locator("#id_quantity")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_quantity")).to_have_attribute("aria-describedby", "error-quantity")
    assert error.evaluate("el => getComputedStyle(el).color") == RED
    assert page.locator("#id_quantity").evaluate("el => getComputedStyle(el).borderTopColor") == RED
    for message in page.locator(".field-error").all():  # the order summary's too
        assert message.evaluate("el => getComputedStyle(el).color") == RED
    assert Order.objects.count() == 0
    screenshot(page)


def record_requests(page, seconds: float) -> list[str]:
    """The paths (with queries) the page asks for in the next `seconds`."""
    seen = []

    def note(request):
        seen.append(urlsplit(request.url)._replace(scheme="", netloc="").geturl())

    page.on("request", note)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", note)
    return seen


def live_likes_order(alice, likes, simulator):
    (order,) = place(alice, likes, quantity=1000)
    set_outcome(simulator, order, "Completed")
    return order


def expect_progress(page, selector: str, order) -> int:
    """The page shows the order's progress as it is now in the database; returns it."""
    percent = reload(order).progress_percent
    expect(page.locator(selector)).to_have_attribute("data-progress", str(percent), timeout=10_000)
    return percent


@pytest.mark.parametrize("width", WIDTHS)
def test_a_live_row_of_the_list_moves_without_a_reload_and_stops_polling(
    live_server, open_page, screenshot, likes, simulator, width
):
    alice = funded_user("100", username="alice")
    order = live_likes_order(alice, likes, simulator)
    page = open_page(width, user=alice)
    visit(page, live_server.url + "/orders/")
    row = f"#order-{order.public_id}"
    expect(page.locator(f"{row} [data-status]")).to_have_attribute("data-status", "pending")
    assert expect_progress(page, f"{row} progress", order) == 0
    page.evaluate("window.notReloaded = true")

    simulator.simulator.advance(15)
    poll([order])
    expect(page.locator(f"{row} [data-status]")).to_have_attribute(
        "data-status", "in_progress", timeout=10_000
    )
    started = expect_progress(page, f"{row} progress", order)
    simulator.simulator.advance(10)
    poll([order])
    expect(page.locator(f"{row} [data-status]")).to_have_attribute(
        "data-status", "processing", timeout=10_000
    )
    further = expect_progress(page, f"{row} progress", order)
    finish(simulator, [order])
    expect(page.locator(f"{row} [data-status]")).to_have_attribute("data-status", "completed", timeout=10_000)
    done = expect_progress(page, f"{row} progress", order)

    assert 0 < started < further < done == 100
    expect(page.locator(f"{row} .progress-text")).to_have_text("1,000 of 1,000")
    assert page.evaluate("window.notReloaded") is True
    assert [path for path in record_requests(page, 2.5) if "/orders/" in path] == []
    screenshot(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_order_page_moves_and_its_timeline_grows_without_a_reload_and_stops_polling(
    live_server, open_page, screenshot, likes, simulator, width
):
    alice = funded_user("100", username="alice")
    order = live_likes_order(alice, likes, simulator)
    page = open_page(width, user=alice)
    visit(page, f"{live_server.url}/orders/{order.public_id}/")
    badge, timeline = page.locator("#order-live [data-status]"), page.locator("#order-timeline li")
    expect(badge).to_have_attribute("data-status", "pending")
    expect(timeline).to_have_count(1)
    expect(timeline.last).to_contain_text("Pending")
    page.evaluate("window.notReloaded = true")
    percents = []

    for seconds, status, text in [(15, "in_progress", "In progress"), (10, "processing", "Processing")]:
        simulator.simulator.advance(seconds)
        poll([order])
        expect(badge).to_have_attribute("data-status", status, timeout=10_000)
        expect(badge).to_have_text(text)
        expect(timeline.last).to_contain_text(text)
        percents.append(expect_progress(page, "#order-live progress", order))
    finish(simulator, [order])
    expect(badge).to_have_attribute("data-status", "completed", timeout=10_000)
    expect(timeline).to_have_count(4)
    expect(timeline.last).to_contain_text("Completed")
    percents.append(expect_progress(page, "#order-live progress", order))
    expect(page.locator("#order-remains")).to_have_text("0")

    assert 0 < percents[0] < percents[1] < percents[2] == 100
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#order-live")).not_to_have_attribute("hx-get", re.compile(".*"))
    assert [path for path in record_requests(page, 2.5) if "/orders/" in path] == []
    screenshot(page)


def test_the_list_asks_once_per_interval_for_all_its_live_orders(live_server, open_page, likes, simulator):
    alice = funded_user("100", username="alice")
    orders = [live_likes_order(alice, likes, simulator) for _ in range(6)]
    page = open_page(1280, user=alice)
    visit(page, live_server.url + "/orders/")
    expect(page.locator("tr.order-row[data-live=true]")).to_have_count(6)

    asked = record_requests(page, 3.5)

    live = [path for path in asked if path.startswith("/orders/live/")]
    assert 2 <= len(live) <= 5, asked
    assert [path for path in asked if "/row/" in path] == []
    ids = parse_qs(urlsplit(live[-1]).query)["ids"]  # one `ids` per live row, as htmx sends its inputs
    assert sorted(ids) == sorted(order.public_id for order in orders)

    finish(simulator, orders)
    expect(page.locator("tr.order-row [data-status=completed]")).to_have_count(6, timeout=10_000)
    assert [path for path in record_requests(page, 2.5) if "/orders/" in path] == []


def test_a_vietnamese_browser_gets_the_pages_in_vietnamese(live_server, open_page, screenshot):
    page = open_page(1280, user=funded_user("1234.5", username="alice"), locale="vi-VN")
    visit(page, live_server.url + "/dashboard/")

    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#header-balance")).to_have_text("1.234,50\xa0US$")
    screenshot(page)
    nav = page.locator("#site-nav")
    expect(nav.locator("a[href='/dashboard/']")).to_have_text("Tổng quan")
    expect(nav.locator("a[href='/orders/']")).to_have_text("Đơn hàng")
    expect(nav.locator("a[href='/services/']")).to_have_text("Dịch vụ")


def test_the_language_switcher_turns_a_vietnamese_page_english(live_server, open_page):
    alice = funded_user("1234.5", username="alice")
    page = open_page(1280, user=alice, locale="vi-VN")
    visit(page, live_server.url + "/orders/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    page.select_option("select#language", "en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(live_server.url + "/orders/")
    expect(page.locator("#header-balance")).to_have_text("$1,234.50")
    expect(page.locator("#site-nav a[href='/orders/']")).to_have_text("Orders")
    expect(page.locator("h1")).to_have_text("Orders")
    assert reload(alice).language == "en"  # kept on the account


@pytest.mark.parametrize("width", WIDTHS)
def test_only_a_pending_order_of_a_cancel_service_offers_cancel(
    live_server, open_page, screenshot, synced, simulator, width
):
    service, sim = services(synced), simulator.simulator
    alice = funded_user("100", username="alice")
    (completed,) = finish(simulator, place(alice, service["likes"]))
    (in_progress,) = place(alice, service["likes"])
    set_outcome(simulator, in_progress, "Completed")
    sim.advance(15)
    poll([in_progress])
    (started_upstream,) = place(alice, service["likes"])  # pending here, in progress there: refused
    set_outcome(simulator, started_upstream, "Completed")
    sim.advance(15)
    (pending,) = place(alice, service["likes"])
    (not_cancelable,) = place(alice, service["views"])
    assert reload(in_progress).status == Status.IN_PROGRESS
    page = open_page(width, user=alice)
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel order N?"
    visit(page, live_server.url + "/orders/")

    def cancel_button(order):
        return page.locator(f"#order-{order.public_id} .cancel-button")

    expect(cancel_button(pending)).to_be_visible()
    expect(cancel_button(started_upstream)).to_be_visible()
    for order in (completed, in_progress, not_cancelable):
        expect(cancel_button(order)).to_have_count(0)
    screenshot(page)

    cancel_button(started_upstream).click()  # the provider has started it: refused, not asked again

    expect(page.locator("#toasts .toast.error")).to_contain_text("The provider refused to cancel this order.")
    expect(cancel_button(started_upstream)).to_have_count(0)
    assert reload(started_upstream).cancel_refusal

    visit(page, f"{live_server.url}/orders/{pending.public_id}/")
    page.locator("#order-live .cancel-button").click()

    expect(page.locator("#order-live .notice.ok")).to_have_text(
        "Cancel requested; a refund follows once the provider confirms."
    )
    expect(page.locator("#order-live .cancel-button")).to_have_count(0)
    expect(page.locator("#order-timeline li").last).to_contain_text("Cancel requested")
    assert reload(pending).cancel_requested_at is not None


def test_the_overflow_check_sees_what_sticks_out(live_server, open_page):
    page = open_page(390)
    visit(page, live_server.url + "/accounts/login/")
    # Styled through the CSSOM: the Content-Security-Policy refuses style attributes in markup.
    page.evaluate("""() => {
        document.querySelector("main").insertAdjacentHTML("beforeend",
            '<p id="too-wide">wide</p><div id="scroller"><p id="scrolls">scrolls</p>' +
            '<span id="escapes">escapes</span></div>');
        document.getElementById("too-wide").style.width = "600px";
        document.getElementById("scroller").style.overflowX = "auto";
        document.getElementById("scrolls").style.width = "600px";
        Object.assign(document.getElementById("escapes").style, {position: "absolute", left: "500px"});
    }""")

    problems = overflow(page)

    assert any("<p#too-wide>" in problem for problem in problems), problems
    assert any("<span#escapes>" in problem for problem in problems), problems
    assert not any("<p#scrolls>" in problem for problem in problems), problems
