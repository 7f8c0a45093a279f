"""Mass orders as a customer meets them: Check shows every line's service, price and problem and changes
nothing; Place charges every valid line in one transaction, or none, and only once per page; the mass
order's page follows its orders until the provider has them all, and is Alice's alone."""

import html
import re
from decimal import Decimal

import pytest

from catalog.models import Service
from orders import mass
from orders.errors import OrderError
from orders.mass import mass_check, mass_fingerprint, mass_place
from orders.models import MassOrder, Order, Status
from orders.submission import order_submit
from reseller.wallet.models import LedgerEntry
from tests.helpers import balance_of, run_together
from tests.orders.test_races import meet_before

pytestmark = pytest.mark.django_db

HUNDRED = Decimal(100)
MASS_URL = "/orders/mass/"


@pytest.fixture
def reel_views(synced):
    """Instagram Reel Views: Default, no drip-feed, sold at 0.0055 per 1000, min 100."""
    return Service.objects.get(provider=synced, upstream_id="3")


def mixed_lines(likes, followers, reel_views, comments) -> str:
    """Both field orders, with and without spaces around `|`, a blank line, and every kind of bad line."""
    return "\n".join(
        [
            f"{likes.pk} | https://instagram.com/p/one | 1000",  # 1: 0.546
            f"{followers.pk}|2000|https://instagram.com/p/two",  # 2: 4.81, quantity first, no spaces
            "   ",  # 3: blank, skipped
            "999999 | https://instagram.com/p/x | 100",  # 4: no such service
            f"{comments.pk} | https://instagram.com/p/x | 10",  # 5: needs comments
            f"{likes.pk} | instagram.com/p/x | 100",  # 6: no scheme
            f"{likes.pk} | https://instagram.com/p/x | 5",  # 7: below the minimum of 10
            f"{likes.pk} | https://instagram.com/p/x",  # 8: two fields
            f"{reel_views.pk} | 100000 | https://instagram.com/p/three",  # 9: 0.55, quantity first
            f"{followers.pk} | https://instagram.com/p/four|1000",  # 10: 2.405, spaces on one side
            "",
        ]
    )


# 0.546 + 4.81 + 0.55 + 2.405: shown to the cent as $8.31 (the shown prices would add up to $8.32).
MIXED_TOTAL = Decimal("8.311")
BAD_LINE = "Write the line as service | link | quantity (or service | quantity | link)."


def expected_check_rows(likes, followers, reel_views, comments):
    """(line, service, quantity, price, problem) as the Check table shows them."""
    return [
        ("1", f"#{likes.pk} Instagram Likes [Instant]", "1,000", "$0.55", "OK"),
        ("2", f"#{followers.pk} Instagram Followers [Real, 30 days refill]", "2,000", "$4.81", "OK"),
        ("4", "999999 | https://instagram.com/p/x | 100", "—", "—", "There is no service 999999 for sale."),
        (
            "5",
            f"#{comments.pk} Instagram Custom Comments",
            "—",
            "—",
            "This service needs more than a link and a quantity: order it on the order form.",
        ),
        ("6", f"#{likes.pk} Instagram Likes [Instant]", "—", "—", "Enter a valid http:// or https:// link."),
        ("7", f"#{likes.pk} Instagram Likes [Instant]", "—", "—", "The quantity must be at least 10."),
        ("8", f"{likes.pk} | https://instagram.com/p/x", "—", "—", BAD_LINE),
        ("9", f"#{reel_views.pk} Instagram Reel Views", "100,000", "$0.55", "OK"),
        ("10", f"#{followers.pk} Instagram Followers [Real, 30 days refill]", "1,000", "$2.41", "OK"),
    ]


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def table_rows(page: str, section: str) -> list[tuple[str, ...]]:
    """The cells' text of each `line-N` row inside the element whose id is `section`."""
    part = page.split(f'id="{section}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr id="line-\d+"[^>]*>(.*?)</tr>', part, re.S)
    return [tuple(text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)) for row in rows]


def element_text(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no #{element_id} on the page"
    return text_of(match.group(2))


def client_token(client) -> str:
    page = client.get(MASS_URL).content.decode()
    return re.search(r'name="client_token" value="(\w+)"', page).group(1)


def post(client, lines: str, *, button: str, token: str | None = None):
    """The page's form sent with one of its buttons; Place as after a Check of these very lines."""
    data = {"lines": lines, button: "1", "client_token": token or client_token(client)}
    if button == "place":
        data["checked"] = mass_fingerprint(lines)
    return client.post(MASS_URL, data)


def charges_of(user) -> Decimal:
    """Summed here: SQLite's SUM of a decimal column is a float."""
    entries = LedgerEntry.objects.filter(user=user, kind=LedgerEntry.Kind.CHARGE)
    return -sum(entries.values_list("amount", flat=True), Decimal(0))


def assert_nothing_placed(user) -> None:
    assert Order.objects.count() == 0
    assert MassOrder.objects.count() == 0
    assert LedgerEntry.objects.filter(user=user, kind=LedgerEntry.Kind.CHARGE).count() == 0
    assert balance_of(user) == HUNDRED


# Check


def test_check_shows_every_line_with_its_service_price_and_problem_and_the_total(
    alice_client, alice, likes, followers, reel_views, comments
):
    lines = mixed_lines(likes, followers, reel_views, comments)

    response = post(alice_client, lines, button="check")

    page = response.content.decode()
    assert response.status_code == 200
    assert table_rows(page, "mass-check") == expected_check_rows(likes, followers, reel_views, comments)
    assert element_text(page, "mass-valid") == "4 / 9"
    assert element_text(page, "mass-total") == "$8.31"
    assert element_text(page, "mass-balance") == "$100.00"
    assert 'name="place" value="1">' in page, "Place is offered"
    assert f">{lines}</textarea>" in page, "the lines are kept as typed"
    assert_nothing_placed(alice)


def test_the_checked_total_is_the_exact_sum_of_the_valid_lines(alice, likes, followers, reel_views, comments):
    check = mass_check(user=alice, text=mixed_lines(likes, followers, reel_views, comments))

    assert [(line.number, line.charge) for line in check.valid] == [
        (1, Decimal("0.546")),
        (2, Decimal("4.81")),
        (9, Decimal("0.55")),
        (10, Decimal("2.405")),
    ]
    assert check.total == MIXED_TOTAL == sum(line.charge for line in check.valid)
    assert [line.number for line in check.invalid] == [4, 5, 6, 7, 8]
    assert check.balance == HUNDRED and check.placeable
    assert_nothing_placed(alice)


def test_check_with_nothing_placeable_disables_place(alice_client, alice, likes):
    response = post(alice_client, f"{likes.pk} | https://instagram.com/p/x | 5", button="check")

    page = response.content.decode()
    assert table_rows(page, "mass-check") == [
        ("1", f"#{likes.pk} Instagram Likes [Instant]", "—", "—", "The quantity must be at least 10.")
    ]
    assert element_text(page, "mass-total") == "$0.00"
    assert 'name="place" value="1" disabled>' in page


def test_check_says_when_the_balance_does_not_cover_the_total(alice_client, alice, followers):
    response = post(alice_client, f"{followers.pk} | https://instagram.com/p/x | 50000", button="check")

    page = response.content.decode()
    assert element_text(page, "mass-total") == "$120.25"
    assert element_text(page, "mass-balance") == "$100.00 · not enough funds · Add funds"
    assert 'name="place" value="1" disabled>' in page
    assert_nothing_placed(alice)


# Place


def test_place_places_every_valid_line_in_one_go_and_the_page_lists_each_line(
    alice_client, alice, likes, followers, reel_views, comments
):
    lines = mixed_lines(likes, followers, reel_views, comments)

    response = post(alice_client, lines, button="place")

    placed = MassOrder.objects.get()
    assert response.status_code == 302 and response.url == f"/orders/mass/{placed.public_id}/"
    orders = list(Order.objects.order_by("pk"))
    assert [(o.service_id, o.link, o.quantity, o.charge) for o in orders] == [
        (likes.pk, "https://instagram.com/p/one", 1000, Decimal("0.546")),
        (followers.pk, "https://instagram.com/p/two", 2000, Decimal("4.81")),
        (reel_views.pk, "https://instagram.com/p/three", 100000, Decimal("0.55")),
        (followers.pk, "https://instagram.com/p/four", 1000, Decimal("2.405")),
    ]
    assert all(order.mass_order_id == placed.pk and order.status == Status.QUEUED for order in orders)
    assert placed.user == alice and placed.total == MIXED_TOTAL
    assert charges_of(alice) == MIXED_TOTAL
    assert balance_of(alice) == HUNDRED - MIXED_TOTAL == Decimal("91.689")

    page = alice_client.get(response.url).content.decode()
    one, two, three, four = orders
    assert table_rows(page, "mass-progress") == [
        ("1", f"#{one.pk}", "Pending"),
        ("2", f"#{two.pk}", "Pending"),
        ("4", "999999 | https://instagram.com/p/x | 100", "There is no service 999999 for sale."),
        (
            "5",
            f"{comments.pk} | https://instagram.com/p/x | 10",
            "This service needs more than a link and a quantity: order it on the order form.",
        ),
        ("6", f"{likes.pk} | instagram.com/p/x | 100", "Enter a valid http:// or https:// link."),
        ("7", f"{likes.pk} | https://instagram.com/p/x | 5", "The quantity must be at least 10."),
        ("8", f"{likes.pk} | https://instagram.com/p/x", BAD_LINE),
        ("9", f"#{three.pk}", "Pending"),
        ("10", f"#{four.pk}", "Pending"),
    ]
    for order in orders:
        assert f'<a href="/orders/{order.public_id}/">#{order.pk}</a>' in page
    assert "Charged $8.31" in page


def test_the_same_page_placed_twice_places_nothing_more(alice_client, alice, likes):
    lines = f"{likes.pk} | https://instagram.com/p/x | 1000\n{likes.pk} | https://instagram.com/p/y | 2000"
    token = client_token(alice_client)

    first = post(alice_client, lines, button="place", token=token)
    again = post(alice_client, lines, button="place", token=token)

    placed = MassOrder.objects.get()
    assert first.status_code == again.status_code == 302
    assert first.url == again.url == placed.get_absolute_url()
    assert Order.objects.count() == 2
    assert balance_of(alice) == HUNDRED - Decimal("0.546") - Decimal("1.092")

    other_page = post(alice_client, lines, button="place")  # another page shown: another mass order

    assert MassOrder.objects.count() == 2 and other_page.url != first.url
    assert Order.objects.count() == 4


def test_insufficient_funds_place_none_and_say_the_balance_and_the_total(
    alice_client, alice, likes, followers
):
    lines = (
        f"{likes.pk} | https://instagram.com/p/x | 1000\n{followers.pk} | https://instagram.com/p/y | 50000"
    )

    response = post(alice_client, lines, button="place")

    page = response.content.decode()
    assert response.status_code == 422
    assert element_text(page, "mass-error") == (
        "Insufficient funds: the balance is $100.00 and these orders cost $120.80."
    )
    assert_nothing_placed(alice)


def test_insufficient_funds_in_the_service_raise_and_roll_back_every_line(alice, likes, followers):
    text = (
        f"{likes.pk} | https://instagram.com/p/x | 1000\n{followers.pk} | https://instagram.com/p/y | 50000"
    )

    with pytest.raises(OrderError) as raised:
        mass_place(user=alice, text=text, client_token="page-1")

    assert raised.value.code == "funds"
    assert_nothing_placed(alice)


def test_more_than_the_most_lines_are_refused_as_a_whole(alice_client, alice, likes):
    lines = "\n".join(f"{likes.pk} | https://instagram.com/p/{i} | 10" for i in range(501))

    checked = post(alice_client, lines, button="check")
    placed = post(alice_client, lines, button="place")

    for response in (checked, placed):
        page = response.content.decode()
        assert response.status_code == 422
        assert element_text(page, "mass-problem") == "At most 500 lines at once; this has 501."
        assert 'id="mass-check"' not in page
    assert_nothing_placed(alice)


@pytest.mark.parametrize("count", [0, 501])
def test_a_refused_submission_says_why_once(alice_client, likes, count):
    lines = "\n".join(f"{likes.pk} | https://instagram.com/p/{i} | 10" for i in range(count))

    page = post(alice_client, lines, button="place").content.decode()

    assert page.count('class="form-error" role="alert"') == 1


def test_the_line_limit_is_the_setting(alice, likes, settings):
    settings.MASS_ORDER_MAX_LINES = 2
    text = "\n".join(f"{likes.pk} | https://instagram.com/p/{i} | 10" for i in range(3))

    with pytest.raises(OrderError) as raised:
        mass_place(user=alice, text=text, client_token="page-1")

    assert str(raised.value.message) == "At most 2 lines at once; this has 3."
    assert mass_check(user=alice, text=text + "\n\n").problem is not None, "blank lines are not counted"
    assert mass_check(user=alice, text="\n".join(text.splitlines()[:2]) + "\n\n\n").problem is None
    assert_nothing_placed(alice)


def test_exactly_the_most_lines_place_that_many_orders(alice_client, alice, likes):
    lines = "\n".join(f"{likes.pk} | https://instagram.com/p/{i} | 10" for i in range(500))

    response = post(alice_client, lines, button="place")

    placed = MassOrder.objects.get()
    assert response.status_code == 302
    assert placed.orders.count() == Order.objects.count() == 500
    assert placed.total == charges_of(alice) == Decimal("2.73")  # 500 x 0.00546
    assert balance_of(alice) == Decimal("97.27")
    assert [line["line"] for line in placed.lines] == list(range(1, 501))
    assert sorted(line["order"] for line in placed.lines) == sorted(
        placed.orders.values_list("pk", flat=True)
    )


def test_charlie_cannot_open_alices_mass_order(alice, charlie_client, likes):
    placed = mass_place(user=alice, text=f"{likes.pk} | https://instagram.com/p/x | 1000", client_token="p1")

    assert charlie_client.get(placed.get_absolute_url()).status_code == 404
    assert charlie_client.get(placed.get_absolute_url(), HTTP_HX_REQUEST="true").status_code == 404


def test_the_mass_order_page_needs_a_signed_in_customer(client, alice, likes):
    placed = mass_place(user=alice, text=f"{likes.pk} | https://instagram.com/p/x | 1000", client_token="p1")

    for url in (MASS_URL, placed.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# Progress


def progress(client, placed):
    return client.get(placed.get_absolute_url(), HTTP_HX_REQUEST="true")


def test_the_progress_polls_while_orders_wait_and_stops_once_the_provider_has_them_all(
    alice_client, alice, likes, followers
):
    text = "\n".join(
        [
            f"{likes.pk} | https://instagram.com/p/x | 1000",
            "nope",
            f"{followers.pk} | https://instagram.com/p/y | 100",
        ]
    )
    placed = mass_place(user=alice, text=text, client_token="page-1")
    first, second = placed.orders.order_by("pk")

    waiting = progress(alice_client, placed)

    part = waiting.content.decode()
    assert waiting.status_code == 200
    assert part.lstrip().startswith('<section id="mass-progress"'), "only the progress part"
    assert "<html" not in part
    assert f'hx-get="{placed.get_absolute_url()}" hx-trigger="every 1s"' in part
    assert element_text(part, "mass-progress-text") == "0 of 2"
    assert 'data-progress="0"' in part

    order_submit(order_id=first.pk)  # what the worker does
    halfway = progress(alice_client, placed)

    assert halfway.status_code == 200 and 'hx-trigger="every' in halfway.content.decode()
    assert element_text(halfway.content.decode(), "mass-progress-text") == "1 of 2"
    assert 'data-progress="50"' in halfway.content.decode()

    order_submit(order_id=second.pk)
    done = progress(alice_client, placed)

    part = done.content.decode()
    assert done.status_code == 286
    assert "hx-trigger" not in part
    assert element_text(part, "mass-progress-text") == "2 of 2"
    assert 'data-progress="100"' in part and "progress-done" in part
    assert set(placed.orders.values_list("status", flat=True)) == {Status.PENDING}


def test_orders_the_provider_refused_count_as_reached(alice_client, alice, likes, simulator):
    placed = mass_place(user=alice, text=f"{likes.pk} | https://instagram.com/p/x | 1000", client_token="p1")
    simulator.simulator.inject("error", action="add")

    order_submit(order_id=placed.orders.get().pk)

    assert placed.orders.get().status == Status.FAILED
    done = progress(alice_client, placed)
    assert done.status_code == 286 and element_text(done.content.decode(), "mass-progress-text") == "1 of 1"


def test_with_eager_celery_the_orders_reach_the_provider_as_they_are_placed(
    alice_client, alice, likes, followers, simulator, eager_celery, django_capture_on_commit_callbacks
):
    text = f"{likes.pk} | https://instagram.com/p/x | 1000\n{followers.pk} | 100 | https://instagram.com/p/y"

    with django_capture_on_commit_callbacks(execute=True):
        response = post(alice_client, text, button="place")

    placed = MassOrder.objects.get()
    assert response.url == placed.get_absolute_url()
    assert len(simulator.simulator.orders) == 2
    done = progress(alice_client, placed)
    assert done.status_code == 286
    assert element_text(done.content.decode(), "mass-progress-text") == "2 of 2"
    page = alice_client.get(placed.get_absolute_url()).content.decode()
    assert "hx-trigger" not in page.split('id="mass-progress"')[1], "a finished page does not poll"


# Concurrency


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_page_placed_twice_at_once_places_its_lines_once(alice, likes, followers, monkeypatch):
    """Both submissions are past the token look-up (and have checked the lines) before either writes, so
    only `one_mass_order_per_submission` and mass_place's IntegrityError branch keep the lines from being
    placed and charged twice; both must be answered with the one mass order."""
    count = 2
    monkeypatch.setattr(mass, "mass_check", meet_before(count, mass.mass_check))
    text = f"{likes.pk} | https://instagram.com/p/x | 1000\n{followers.pk} | https://instagram.com/p/y | 1000"

    results = run_together(count, lambda i: mass_place(user=alice, text=text, client_token="page-1"))

    placed = MassOrder.objects.get()
    assert [getattr(result, "pk", result) for result in results] == [placed.pk] * count
    assert Order.objects.count() == 2 and placed.orders.count() == 2
    assert LedgerEntry.objects.filter(user=alice, kind=LedgerEntry.Kind.CHARGE).count() == 2
    assert balance_of(alice) == HUNDRED - Decimal("0.546") - Decimal("2.405")


def test_a_package_line_is_one_package(alice, package):
    text = f"{package.pk} | https://instagram.com/p/x | 1\n{package.pk} | https://instagram.com/p/y | 5"

    check = mass_check(user=alice, text=text)

    assert [str(line.problem) if line.problem else None for line in check.lines] == [
        None,
        "A package is one per line: write 1 as its quantity.",
    ]
    assert check.lines[0].quantity == 1


def test_place_charges_only_the_lines_that_were_checked(alice_client, alice, likes):
    checked = f"{likes.pk} | https://instagram.com/p/x | 100"
    page = post(alice_client, checked, button="check").content.decode()
    assert (
        f'value="{mass_fingerprint(checked)}"' in page
        and "disabled" not in page.split('name="place"')[1][:40]
    )
    edited = checked + f"\n{likes.pk} | https://instagram.com/p/y | 50000"

    response = alice_client.post(
        MASS_URL,
        {"lines": edited, "place": "1", "client_token": "t-1", "checked": mass_fingerprint(checked)},
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "The lines changed since they were checked: check them, then place them." in page
    assert 'id="line-2"' in page, "the edited lines are shown checked"
    assert_nothing_placed(alice)


def test_place_without_a_check_places_nothing(alice_client, alice, likes):
    response = alice_client.post(
        MASS_URL,
        {"lines": f"{likes.pk} | https://instagram.com/p/x | 100", "place": "1", "client_token": "t"},
    )

    assert response.status_code == 422 and "check them, then place them" in response.content.decode()
    assert_nothing_placed(alice)


def test_control_characters_in_the_lines_are_refused(alice_client, alice, likes):
    lines = f"{likes.pk} | https://instagram.com/p/x | 100\n{likes.pk} | bad\x00line | 100"

    response = post(alice_client, lines, button="place")

    assert response.status_code == 422 and "Remove the control characters" in response.content.decode()
    assert_nothing_placed(alice)


def test_a_service_without_a_price_is_a_lines_problem(alice, likes):
    Service.objects.filter(pk=likes.pk).update(price_rate=0, cost_rate=0)

    (line,) = mass_check(user=alice, text=f"{likes.pk} | https://instagram.com/p/x | 100").lines

    assert str(line.problem) == "This service has no price yet."
