"""A ticket thread in Chromium: Alice opens a ticket about her order on a phone (390 px) with a
screenshot attached; staff answer it in admin with a canned reply (its text filled in by the chooser);
Alice sees the unread badge in the header, then the reply, set apart from her own messages. The pages fit
a phone's screen and a laptop's (screenshotted for CI)."""

import pytest
from playwright.sync_api import expect

from support.models import CannedReply, Ticket, TicketStatus
from tests.browser.conftest import WIDTHS
from tests.browser.test_storefront import assert_fits
from tests.factories import StaffFactory
from tests.support.conftest import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def show(page, screenshot, name: str) -> None:
    screenshot(page, f"support-{name}")
    assert_fits(page, f"{name} at {page.viewport_size['width']} px")


def open_menu(page) -> None:
    """Under 900 px the header's links fold behind the Menu button."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_ticket_thread_from_opening_to_the_staff_reply(
    live_server, open_page, screenshot, alice, completed, width
):
    order = completed[0]
    CannedReply.objects.create(title="Refill on its way", body="We asked the provider to refill it.")
    staff = StaffFactory(username="operator")
    errors = []

    # Alice opens a ticket from her order's page, the order number filled in.
    page = open_page(width, user=alice)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + order.get_absolute_url())
    page.get_by_role("link", name="Open a ticket about this order").click()
    expect(page.locator("#id_orders")).to_have_value(str(order.pk))
    page.select_option("#id_subject", "refill")
    page.fill("#id_body", "My followers dropped <b>overnight</b>.")
    page.set_input_files(
        "#id_images", files=[{"name": "drop.png", "mimeType": "image/png", "buffer": image_bytes()}]
    )
    show(page, screenshot, "new")
    page.locator("#ticket-form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Ticket")
    ticket = Ticket.objects.get(user=alice)
    expect(page.locator("#thread .ticket-message")).to_have_count(1)
    expect(page.locator("#thread .message-body")).to_have_text("My followers dropped <b>overnight</b>.")
    expect(page.locator(".attachments img")).to_have_attribute("alt", "drop.png")
    image = page.locator(".attachments img")
    image.wait_for(state="visible")
    expect(image).to_have_js_property("naturalWidth", 8)  # served to her and decoded as the PNG it is
    expect(page.locator(f'#ticket-orders [data-order="{order.pk}"] a')).to_have_text(f"Order {order.pk}")
    expect(page.locator("#ticket-orders .badge.status")).to_have_text("Completed")
    expect(page.locator(".ticket-status")).to_have_text("Open")
    show(page, screenshot, "opened")

    # Staff answer in admin: the canned reply chooser fills the reply box.
    admin = open_page(1280, user=staff)
    admin.on("pageerror", lambda error: errors.append(str(error)))
    admin.goto(f"{live_server.url}/admin/support/ticket/")
    expect(admin.locator("#result_list")).to_contain_text("My followers dropped <b>overnight</b>.")
    admin.goto(f"{live_server.url}/admin/support/ticket/{ticket.pk}/change/")
    expect(admin.locator("#thread")).to_contain_text("My followers dropped <b>overnight</b>.")
    admin.select_option("select[name=canned]", label="Refill on its way")
    expect(admin.locator("textarea[name=body]")).to_have_value("We asked the provider to refill it.")
    admin.fill("textarea[name=body]", "We asked the provider to refill it. Give it a day.")
    admin.locator("#staff-reply-form button[type=submit]").click()
    expect(admin.locator("#thread .from-staff")).to_have_count(1)
    screenshot(admin, "support-admin-thread")
    assert Ticket.objects.get().status == TicketStatus.ANSWERED

    # Alice sees the badge, then the reply; reading it clears the badge.
    page.goto(live_server.url + "/dashboard/")
    if width < 900:  # on a phone the folded menu's button carries the count, before it is opened
        expect(page.locator(".nav-toggle #menu-unread")).to_be_visible()
        expect(page.locator("#menu-unread")).to_have_text("1")
    else:
        expect(page.locator("#menu-unread")).to_be_hidden()
    open_menu(page)
    badge = page.locator("#support-unread")
    expect(badge).to_have_text("1")
    expect(badge).to_be_visible()
    page.locator(".nav-links a", has_text="Support").click()
    row = page.locator(f"#ticket-{ticket.pk}")
    expect(row.locator(".unread-marker")).to_have_text("New reply")
    expect(row.locator(".ticket-status")).to_have_text("Answered")
    show(page, screenshot, "list")
    row.locator("a").first.click()
    staff_reply = page.locator("#thread .ticket-message.from-staff")
    expect(staff_reply.locator(".message-body")).to_have_text(
        "We asked the provider to refill it. Give it a day."
    )
    expect(staff_reply.locator(".message-meta")).to_contain_text("Support team")
    own = page.locator("#thread .ticket-message.from-customer")
    assert staff_reply.evaluate("e => getComputedStyle(e).backgroundColor") != own.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    expect(page.locator("#support-unread")).to_have_count(0)
    show(page, screenshot, "thread")

    # Her answer makes it Customer reply; closing it leaves no reply form.
    page.fill("#id_body", "Thank you!")
    page.locator("#reply-form button[type=submit]").click()
    expect(page.locator(".ticket-status")).to_have_text("Customer reply")
    page.locator("#close-form button").click()
    expect(page.locator("#ticket-closed")).to_be_visible()
    expect(page.locator("#reply-form")).to_have_count(0)
    assert errors == []
