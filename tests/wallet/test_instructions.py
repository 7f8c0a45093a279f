"""The Add funds instructions: the operator writes Markdown, customers get safe HTML."""

import pytest
from django.urls import reverse

from reseller.rich_text import render_markdown
from reseller.wallet.models import FundsInstructions

REL = 'rel="noopener noreferrer nofollow"'


def instructions_on_the_page(client) -> str:
    page = client.get(reverse("payments:funds")).content.decode()
    return page.split('id="funds-instructions">')[1].split("</section>")[0]


@pytest.mark.django_db
def test_markdown_instructions_show_on_the_add_funds_page_with_clickable_links(alice_client):
    FundsInstructions.objects.create(
        text="## How to pay\n\nSend USDT to **T123** or pay by [bank transfer](https://bank.example/pay).\n\n"
        "- Write your username as reference\n- Mail <billing@example.com> when done"
    )

    section = instructions_on_the_page(alice_client)

    assert "<h3>How to pay</h3>" in section  # the page has the h1 and h2
    assert "<strong>T123</strong>" in section
    assert f'<a href="https://bank.example/pay" {REL}>bank transfer</a>' in section
    assert "<li>Write your username as reference</li>" in section
    assert f'<a href="mailto:billing@example.com" {REL}>billing@example.com</a>' in section


@pytest.mark.django_db
def test_scripts_event_handlers_and_javascript_links_never_reach_the_page(alice_client):
    FundsInstructions.objects.create(
        text="Pay here\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        '[click](javascript:alert(3)) <a href="JaVaScRiPt:alert(4)" onclick="alert(5)">me</a>\n\n'
        '<iframe src="https://evil.example"></iframe><svg onload="alert(6)"></svg>'
    )

    section = instructions_on_the_page(alice_client)

    assert "Pay here" in section
    for banned in ("<script", "alert(", "onerror", "onclick", "onload", "javascript:", "<iframe", "<svg"):
        assert banned not in section.lower()
    assert f"<a {REL}>click</a>" in section


def test_only_http_https_and_mailto_links_and_panel_pages_are_kept():
    html = render_markdown(
        "[a](http://a.example) [b](https://b.example) [c](mailto:c@example.com) [d](/orders/) "
        "[e](ftp://e.example) [f](data:text/html,hi) [g](//evil.example/) [h](vbscript:x)"
    )

    for href in ("http://a.example", "https://b.example", "mailto:c@example.com", "/orders/"):
        assert f'href="{href}"' in html
    for scheme in ("ftp:", "data:", "//evil", "vbscript:"):
        assert scheme not in html
    assert html.count(REL) == 8


def test_images_only_from_https():
    html = render_markdown("![qr](https://cdn.example/qr.png) ![old](http://cdn.example/x.png) ![d](data:,x)")

    assert '<img alt="qr" src="https://cdn.example/qr.png">' in html
    assert "http://cdn.example" not in html and "data:" not in html


def test_tables_code_and_quotes_survive_but_styles_and_classes_do_not():
    html = render_markdown(
        "| Method | Fee |\n|---|---|\n| Bank | 0 |\n\n`T123`\n\n> Note\n\n---\n\n"
        '<p style="position:fixed" class="x">styled</p>'
    )

    for tag in ("<table>", "<th>Method</th>", "<td>Bank</td>", "<code>T123</code>", "<blockquote>", "<hr>"):
        assert tag in html
    assert "<p>styled</p>" in html


def test_nothing_written_renders_as_nothing():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_lines_written_one_per_line_stay_on_their_own_lines():
    html = render_markdown("Bank: VCB\nAccount: 0123456789\nMemo: NAP42")

    assert html.count("<br>") == 2 and "Account: 0123456789" in html


@pytest.mark.parametrize("href", ["/\\evil.example", "/&#9;/evil.example", "//evil.example"])
def test_a_path_that_a_browser_reads_as_another_host_loses_its_address(href):
    html = render_markdown(f'<a href="{href}">pay here</a> and [there]({href})')

    assert "evil.example" not in html and html.count("<a ") == 2
