"""The simulated provider's order types, spoken to over real HTTP: each type's `add` fields (part 2),
drip-feed runs and subscriptions whose posts appear over time (part 3)."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
import requests

from catalog import protocol
from catalog.protocol import OrderStatus, ServiceType, SubscriptionStatus
from catalog.protocol import ServiceType as T
from catalog.simulator import BETA_TYPE, FIRST_CHILD_ID, Simulator, SimulatorConfig

KEY = "sim-key"
LINK = "https://instagram.com/p/abc"
CENTS = Decimal("0.00001")

# Services of the built-in catalog, by what the tests need of them.
FOLLOWERS = 1  # Default, 1.85, 100..100000, drip-feed, refill and cancel
LIKES = 2  # Default, 0.42, 10..50000, drip-feed, cancel
REEL_VIEWS = 3  # Default, no drip-feed flag at all
COMMENTS = 4  # Custom Comments, 12.5, 5..500
MENTIONS = 5  # Mentions, 3.2, 100..10000
PACKAGE = 6  # Package, 2.9
TIKTOK_VIEWS = 8  # Default, drip-feed false
SEO = 18  # SEO, 15, 100..10000
POLL = 22  # Poll, 6.5, 100..10000
FUTURE_VIEWS = 25  # Subscriptions, 9.5, 100..10000, no cancel
COMMENTS_PACKAGE = 31  # Custom Comments Package, 4.5
MENTIONS_HASHTAGS = 32  # Mentions with Hashtags, 4.1, 100..10000
MENTIONS_LIST = 33  # Mentions Custom List, 5.5, 10..1000
MENTIONS_HASHTAG = 34  # Mentions Hashtag, 2.6, 100..20000
MENTIONS_FOLLOWERS = 35  # Mentions User Followers, 3, 100..20000
MENTIONS_LIKERS = 36  # Mentions Media Likers, 3.4, 100..10000
COMMENT_LIKES = 37  # Comment Likes, 1.6, 20..10000
AUTO_LIKES = 38  # Subscriptions, 0.9, 50..5000, cancel
BETA = 39  # a type the protocol does not know

TEN_NAMES = "\n".join(f"user{i}" for i in range(10))

# Per type: the fields of a valid add (every one of them required), its quantity and its charge.
VALID = {
    FOLLOWERS: ({"link": LINK, "quantity": "100"}, 100, "0.185"),
    PACKAGE: ({"link": LINK}, 1, "2.9"),
    COMMENTS: ({"link": LINK, "comments": "Nice\n\nWow\r\nGreat\nLove it\nSo good\n"}, 5, "0.0625"),
    COMMENTS_PACKAGE: ({"link": LINK, "comments": "Nice\nWow"}, 1, "4.5"),
    MENTIONS: ({"link": LINK, "quantity": "100", "usernames": "alice\nbob"}, 100, "0.32"),
    MENTIONS_HASHTAGS: (
        {"link": LINK, "quantity": "100", "usernames": "alice", "hashtags": "#sun\n#sea"},
        100,
        "0.41",
    ),
    MENTIONS_LIST: ({"link": LINK, "usernames": TEN_NAMES + "\n\n"}, 10, "0.055"),
    MENTIONS_HASHTAG: ({"link": LINK, "quantity": "100", "hashtag": "#sunset"}, 100, "0.26"),
    MENTIONS_FOLLOWERS: ({"link": LINK, "quantity": "100", "username": "natgeo"}, 100, "0.3"),
    MENTIONS_LIKERS: (
        {"link": LINK, "quantity": "100", "media": "https://instagram.com/p/xyz"},
        100,
        "0.34",
    ),
    COMMENT_LIKES: ({"link": LINK, "quantity": "100", "username": "alice"}, 100, "0.16"),
    POLL: ({"link": LINK, "quantity": "100", "answer_number": "2"}, 100, "0.65"),
    SEO: ({"link": LINK, "quantity": "100", "keywords": "buy shoes\ncheap shoes"}, 100, "1.5"),
    FUTURE_VIEWS: ({"username": "durov", "min": "100", "max": "200", "delay": "0"}, None, "0"),
}


@pytest.fixture
def simulator_config():
    """Every order completes and every subscription serves all its posts, unless a test says otherwise."""
    return SimulatorConfig(key=KEY, seed=7, step_seconds=10, partial_share=0, cancel_share=0, expire_share=0)


@pytest.fixture
def make_server(make_server):
    """The shared one (tests/catalog/conftest.py), with this module's defaults."""
    return lambda **options: make_server(**{"key": KEY, "seed": 7, "step_seconds": 10, **options})


def call(server, **fields):
    response = requests.post(server.url, data={"key": KEY, **fields}, timeout=5)
    assert response.status_code == 200
    return response.json()


def add(server, service, **fields):
    return call(server, action="add", service=service, **fields)


def status(server, order_id):
    return call(server, action="status", order=order_id)


def balance(server):
    return Decimal(call(server, action="balance")["balance"])


def drip(server, service=LIKES, quantity=100, runs=3, interval=0):
    answer = add(server, service, link=LINK, quantity=quantity, runs=runs, interval=interval)
    return answer["order"]


def subscribe(server, service=AUTO_LIKES, **fields):
    fields = {"username": "natgeo", "min": "100", "max": "1000", "delay": "30", **fields}
    return add(server, service, **fields)["order"]


def utc_today():
    return datetime.now(UTC).date()


def d_m_y(day):
    return day.strftime(protocol.EXPIRY_FORMAT)


# Each type's fields


@pytest.mark.parametrize("service", list(VALID))
def test_it_places_each_type_and_keeps_its_fields_as_sent(simulator, service):
    fields, quantity, charge = VALID[service]
    answer = add(simulator, service, **fields)
    placed = simulator.simulator.orders[answer["order"]]
    assert placed.fields == fields
    if quantity is not None:
        assert placed.quantity == quantity
    assert placed.charge == Decimal(charge)
    assert balance(simulator) == Decimal(1000) - Decimal(charge)


@pytest.mark.parametrize(
    ("service", "name"), [(service, name) for service, (fields, *_) in VALID.items() for name in fields]
)
def test_it_refuses_an_add_without_a_required_field_and_changes_nothing(simulator, service, name):
    fields = VALID[service][0]
    missing = {key: value for key, value in fields.items() if key != name}
    assert add(simulator, service, **missing) == {"error": protocol.INCORRECT_REQUEST}
    blank_error = protocol.INCORRECT_LINK if name == "link" else protocol.INCORRECT_REQUEST
    assert add(simulator, service, **{**fields, name: " "}) == {"error": blank_error}
    assert simulator.simulator.orders == {}
    assert balance(simulator) == Decimal(1000)


@pytest.mark.parametrize(
    ("service", "fields", "error"),
    [
        (POLL, {"answer_number": "0"}, protocol.INCORRECT_REQUEST),
        (POLL, {"answer_number": "two"}, protocol.INCORRECT_REQUEST),
        (POLL, {"answer_number": "1.5"}, protocol.INCORRECT_REQUEST),
        (MENTIONS_LIKERS, {"media": "instagram.com/p/xyz"}, protocol.INCORRECT_LINK),
        (MENTIONS, {"quantity": "99"}, protocol.quantity_below_min(100)),
        (MENTIONS_LIST, {"usernames": "alice\n\nbob"}, protocol.quantity_below_min(10)),
        (MENTIONS_LIST, {"usernames": "\n".join(["x"] * 1001)}, protocol.quantity_above_max(1000)),
        (COMMENTS, {"comments": "one\ntwo"}, protocol.quantity_below_min(5)),
        (COMMENTS_PACKAGE, {"comments": "\n\n"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"min": "99"}, protocol.quantity_below_min(100)),
        (FUTURE_VIEWS, {"max": "10001"}, protocol.quantity_above_max(10000)),
        (FUTURE_VIEWS, {"min": "300", "max": "200"}, protocol.quantity_below_min(300)),
        (FUTURE_VIEWS, {"min": "a lot"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"delay": "-5"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"posts": "-1"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"posts": "ten"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"old_posts": "-1"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"expiry": "2031-01-31"}, protocol.INCORRECT_REQUEST),
        (FUTURE_VIEWS, {"expiry": "31/02/2031"}, protocol.INCORRECT_REQUEST),
    ],
)
def test_it_refuses_a_type_field_out_of_its_rules(simulator, service, fields, error):
    assert add(simulator, service, **{**VALID[service][0], **fields}) == {"error": error}
    assert simulator.simulator.orders == {}
    assert balance(simulator) == Decimal(1000)


def test_it_lists_a_type_it_does_not_know_but_never_sells_it(simulator):
    listed = call(simulator, action="services")[BETA - 1]
    assert (listed["service"], listed["type"]) == (BETA, BETA_TYPE)
    assert ServiceType.named(BETA_TYPE) is None
    assert add(simulator, BETA, link=LINK, quantity=100) == {"error": protocol.INCORRECT_REQUEST}
    assert simulator.simulator.orders == {}


def test_it_counts_the_usernames_of_a_custom_list_as_the_quantity(simulator):
    usernames = "\n".join(f"fan{i}" for i in range(25)) + "\n \n"
    order_id = add(simulator, MENTIONS_LIST, link=LINK, usernames=usernames)["order"]
    assert simulator.simulator.orders[order_id].quantity == 25
    assert status(simulator, order_id)["charge"] == "0.13750"  # 5.5 x 25 / 1000


def test_it_logs_the_names_of_the_fields_sent_but_not_their_values(simulator, caplog):
    caplog.set_level(logging.INFO, logger="catalog.simulator")
    add(simulator, MENTIONS, link=LINK, quantity=100, usernames="secret_alice\nsecret_bob")
    (message,) = [r.getMessage() for r in caplog.records if r.name == "catalog.simulator"]
    assert "fields=link,quantity,usernames" in message
    assert "secret_alice" not in message and LINK not in message and KEY not in message


# Drip-feed


def test_a_drip_feed_costs_its_runs_times_its_quantity(simulator):
    order_id = drip(simulator, quantity=100, runs=5, interval=15)
    placed = simulator.simulator.orders[order_id]
    assert (placed.quantity, placed.runs, placed.interval, placed.run_quantity) == (500, 5, 15, 100)
    assert placed.fields == {"link": LINK, "quantity": "100", "runs": "5", "interval": "15"}
    assert status(simulator, order_id) == {
        "charge": "0.21000",  # 0.42 x 100 x 5 / 1000
        "start_count": str(placed.start_count),
        "status": OrderStatus.PENDING,
        "remains": "500",
        "currency": "USD",
    }
    assert balance(simulator) == Decimal("999.79")


@pytest.mark.parametrize(
    ("quantity", "runs", "error"),
    [
        (5, 10, protocol.quantity_below_min(10)),  # 50 in all, but 5 a run
        (50001, 1, protocol.quantity_above_max(50000)),
    ],
)
def test_a_drip_feed_is_limited_per_run(simulator, quantity, runs, error):
    assert add(simulator, LIKES, link=LINK, quantity=quantity, runs=runs, interval=0) == {"error": error}
    assert simulator.simulator.orders == {}


def test_a_drip_feed_above_the_maximum_in_all_is_accepted_when_each_run_is_within(simulator):
    order_id = drip(simulator, quantity=50000, runs=2)
    assert simulator.simulator.orders[order_id].quantity == 100000
    assert balance(simulator) == Decimal(1000) - Decimal("42")


@pytest.mark.parametrize(
    "fields",
    [
        {"runs": "3"},
        {"interval": "10"},
        {"runs": "0", "interval": "10"},
        {"runs": "2.5", "interval": "10"},
        {"runs": "3", "interval": "-5"},
        {"runs": "three", "interval": "10"},
    ],
)
def test_a_drip_feed_needs_whole_runs_and_interval_together(simulator, fields):
    assert add(simulator, LIKES, link=LINK, quantity=100, **fields) == {"error": protocol.INCORRECT_REQUEST}
    assert simulator.simulator.orders == {}
    assert balance(simulator) == Decimal(1000)


@pytest.mark.parametrize(
    ("service", "fields"),
    [
        (TIKTOK_VIEWS, {"quantity": "100"}),
        (REEL_VIEWS, {"quantity": "100"}),
        (MENTIONS, {"quantity": "100", "usernames": "alice"}),
        (PACKAGE, {}),
    ],
)
def test_it_refuses_a_drip_feed_on_a_service_without_it(simulator, service, fields):
    answer = add(simulator, service, link=LINK, runs=3, interval=10, **fields)
    assert answer == {"error": protocol.DRIPFEED_NOT_AVAILABLE}
    assert simulator.simulator.orders == {}
    assert balance(simulator) == Decimal(1000)


def test_blank_runs_and_interval_make_a_plain_order(simulator):
    order_id = add(simulator, LIKES, link=LINK, quantity=100, runs="", interval="")["order"]
    assert simulator.simulator.orders[order_id].runs == 0
    assert balance(simulator) == Decimal("999.958")


def test_a_drip_feed_does_its_runs_one_step_apart(simulator):
    simulator.simulator.set_dripfeed_shape("runs")
    order_id = drip(simulator, runs=3)
    seen = [status(simulator, order_id)]
    for _ in range(3):
        simulator.simulator.advance(10)
        seen.append(status(simulator, order_id))
    first = FIRST_CHILD_ID
    assert seen == [
        {"status": OrderStatus.PENDING, "runs": "0", "orders": [], "currency": "USD"},
        {"status": OrderStatus.IN_PROGRESS, "runs": "1", "orders": [first], "currency": "USD"},
        {"status": OrderStatus.IN_PROGRESS, "runs": "2", "orders": [first, first + 1], "currency": "USD"},
        {
            "status": OrderStatus.COMPLETED,
            "runs": "3",
            "orders": [first, first + 1, first + 2],
            "currency": "USD",
        },
    ]
    assert balance(simulator) == Decimal(1000) - Decimal("0.126")


def test_the_interval_delays_the_runs_when_minutes_take_time(make_server):
    server = make_server(minute_seconds=1, partial_share=0, cancel_share=0, dripfeed_shape="runs")
    order_id = drip(server, runs=3, interval=30)  # runs done at 10, 50 and 90 seconds

    def runs_done_after(seconds):
        server.simulator.advance(seconds)
        return int(status(server, order_id)["runs"])

    assert [runs_done_after(s) for s in (9.5, 1, 38, 2, 38, 2)] == [0, 1, 1, 2, 2, 3]
    assert status(server, order_id)["status"] == OrderStatus.COMPLETED


def test_the_whole_shape_counts_down_the_remains_run_by_run(simulator):
    order_id = drip(simulator, quantity=100, runs=3)
    seen = []
    for _ in range(4):
        entry = status(simulator, order_id)
        seen.append((entry["status"], entry["remains"], entry["charge"]))
        simulator.simulator.advance(10)
    assert seen == [
        (OrderStatus.PENDING, "300", "0.12600"),
        (OrderStatus.IN_PROGRESS, "200", "0.12600"),
        (OrderStatus.IN_PROGRESS, "100", "0.12600"),
        (OrderStatus.COMPLETED, "0", "0.12600"),
    ]


def test_the_shape_switches_for_single_and_many_statuses_but_plain_orders_keep_theirs(simulator):
    dripped = drip(simulator, runs=2)
    plain = add(simulator, LIKES, link=LINK, quantity=100)["order"]
    simulator.simulator.advance(10)
    ids = f"{dripped},{plain}"
    start_count = simulator.simulator.orders[dripped].start_count

    whole = call(simulator, action="status", orders=ids)
    assert whole[str(dripped)] == {
        "charge": "0.08400",
        "start_count": str(start_count),
        "status": OrderStatus.IN_PROGRESS,
        "remains": "100",
    }
    simulator.simulator.set_dripfeed_shape("runs")
    runs = call(simulator, action="status", orders=ids)
    assert runs[str(dripped)] == {"status": OrderStatus.IN_PROGRESS, "runs": "1", "orders": [FIRST_CHILD_ID]}
    assert status(simulator, dripped) == {**runs[str(dripped)], "currency": "USD"}
    assert set(runs[str(plain)]) == set(whole[str(plain)]) == {"charge", "start_count", "status", "remains"}
    simulator.simulator.set_dripfeed_shape("whole")
    assert status(simulator, dripped) == {**whole[str(dripped)], "currency": "USD"}


def test_an_unknown_shape_is_refused(simulator):
    with pytest.raises(ValueError, match="shape"):
        simulator.simulator.set_dripfeed_shape("both")
    with pytest.raises(ValueError, match="shape"):
        Simulator(SimulatorConfig(dripfeed_shape="both"))


def test_child_ids_follow_the_order_the_runs_happened_not_the_order_asked(make_server):
    server = make_server(partial_share=0, cancel_share=0, dripfeed_shape="runs")
    first, second = drip(server, runs=2), drip(server, runs=2)
    server.simulator.advance(20)
    assert status(server, second)["orders"] == [FIRST_CHILD_ID + 1, FIRST_CHILD_ID + 3]
    assert status(server, first)["orders"] == [FIRST_CHILD_ID, FIRST_CHILD_ID + 2]


def test_a_partial_drip_feed_stops_after_some_runs_and_refunds_the_rest_once(make_server):
    server = make_server(partial_share=1, cancel_share=0)
    order_id = drip(server, quantity=100, runs=4)
    placed = server.simulator.orders[order_id]
    done = placed.final_runs
    assert 1 <= done < 4
    server.simulator.advance(10 * done)
    assert status(server, order_id)["status"] == OrderStatus.IN_PROGRESS
    server.simulator.advance(10)
    first, again = status(server, order_id), status(server, order_id)
    assert first == again
    remains = (4 - done) * 100
    refund = (Decimal("0.168") * remains / 400).quantize(CENTS, ROUND_DOWN)
    assert (first["status"], first["remains"]) == (OrderStatus.PARTIAL, str(remains))
    assert Decimal(first["charge"]) == Decimal("0.168") - refund
    assert balance(server) == balance(server) == Decimal(1000) - Decimal("0.168") + refund
    server.simulator.set_dripfeed_shape("runs")
    server.simulator.advance(100)
    assert status(server, order_id) == {
        "status": OrderStatus.PARTIAL,
        "runs": str(done),
        "orders": list(range(FIRST_CHILD_ID, FIRST_CHILD_ID + done)),
        "currency": "USD",
    }


def test_a_drip_feed_canceled_by_the_provider_refunds_in_full_once(make_server):
    server = make_server(partial_share=0, cancel_share=1)
    order_id = drip(server, runs=3)
    server.simulator.advance(10)
    expected = {"charge": "0.00000", "status": OrderStatus.CANCELED, "remains": "300"}
    assert expected.items() <= status(server, order_id).items()
    server.simulator.advance(100)
    assert expected.items() <= status(server, order_id).items()
    assert server.simulator.orders[order_id].children == []
    assert balance(server) == Decimal(1000)


def test_a_pending_drip_feed_can_be_canceled_once_a_started_one_cannot(simulator):
    pending, started = drip(simulator, runs=3), drip(simulator, runs=3, quantity=200)
    assert call(simulator, action="cancel", orders=str(pending)) == [{"order": pending, "cancel": 1}]
    simulator.simulator.advance(10)
    assert call(simulator, action="cancel", orders=f"{pending},{started}") == [
        {"order": pending, "cancel": {"error": "Order can not be canceled"}},
        {"order": started, "cancel": {"error": "Order can not be canceled"}},
    ]
    simulator.simulator.advance(100)
    expected = {"charge": "0.00000", "status": OrderStatus.CANCELED, "remains": "300"}
    assert expected.items() <= status(simulator, pending).items()
    assert simulator.simulator.orders[pending].children == []
    assert balance(simulator) == Decimal(1000) - Decimal("0.252")  # only the started one: 0.42 x 600


def test_a_completed_drip_feed_can_be_refilled(simulator):
    order_id = drip(simulator, service=FOLLOWERS, quantity=100, runs=2)
    assert call(simulator, action="refill", order=order_id) == {"error": "Order is not completed"}
    simulator.simulator.advance(20)
    assert call(simulator, action="refill", order=order_id) == {"refill": "1"}


# Subscriptions


def test_a_subscription_with_posts_is_paid_up_front_and_serves_one_post_a_step(simulator):
    order_id = subscribe(simulator, posts="3", old_posts="2", expiry=d_m_y(utc_today() + timedelta(days=30)))
    placed = simulator.simulator.orders[order_id]
    assert (placed.min, placed.max, placed.delay, placed.posts, placed.old_posts) == (100, 1000, 30, 3, 2)
    assert placed.charge == Decimal("2.7")  # 3 x 1000 x 0.9 / 1000
    assert balance(simulator) == Decimal("997.3")
    expiry = d_m_y(utc_today() + timedelta(days=30))
    seen = [status(simulator, order_id)]
    for seconds in (9.5, 1, 10, 10, 100):
        simulator.simulator.advance(seconds)
        seen.append(status(simulator, order_id))
    first = FIRST_CHILD_ID
    assert seen == [
        {
            "status": SubscriptionStatus.ACTIVE,
            "expiry": expiry,
            "posts": "0",
            "orders": [],
            "currency": "USD",
        },
        {
            "status": SubscriptionStatus.ACTIVE,
            "expiry": expiry,
            "posts": "0",
            "orders": [],
            "currency": "USD",
        },
        {
            "status": SubscriptionStatus.ACTIVE,
            "expiry": expiry,
            "posts": "1",
            "orders": [first],
            "currency": "USD",
        },
        {
            "status": SubscriptionStatus.ACTIVE,
            "expiry": expiry,
            "posts": "2",
            "orders": [first, first + 1],
            "currency": "USD",
        },
        {
            "status": SubscriptionStatus.COMPLETED,
            "expiry": expiry,
            "posts": "3",
            "orders": [first, first + 1, first + 2],
            "currency": "USD",
        },
        {
            "status": SubscriptionStatus.COMPLETED,
            "expiry": expiry,
            "posts": "3",
            "orders": [first, first + 1, first + 2],
            "currency": "USD",
        },
    ]
    assert balance(simulator) == Decimal("997.3"), "all posts served: nothing refunded"


def test_it_refuses_a_subscription_the_balance_cannot_pay(make_server):
    server = make_server(balance=Decimal("2.69"))
    assert add(server, AUTO_LIKES, username="natgeo", min=100, max=1000, delay=0, posts=3) == {
        "error": protocol.NOT_ENOUGH_FUNDS
    }
    assert server.simulator.orders == {}


def test_an_unlimited_subscription_pays_each_post_as_it_appears_and_stays_active(simulator):
    order_id = subscribe(simulator, posts="0")
    assert balance(simulator) == Decimal(1000)
    simulator.simulator.advance(45)
    entry = status(simulator, order_id)
    assert entry == {
        "status": SubscriptionStatus.ACTIVE,
        "expiry": None,
        "posts": "4",
        "orders": list(range(FIRST_CHILD_ID, FIRST_CHILD_ID + 4)),
        "currency": "USD",
    }
    assert balance(simulator) == Decimal(1000) - 4 * Decimal("0.9")
    simulator.simulator.advance(1000)
    assert status(simulator, order_id)["status"] == SubscriptionStatus.ACTIVE
    assert simulator.simulator.orders[order_id].charge == 104 * Decimal("0.9")


def test_pausing_stops_the_posts_until_resumed(simulator):
    order_id = subscribe(simulator, posts="5")
    simulator.simulator.advance(15)
    simulator.simulator.pause(order_id)
    simulator.simulator.advance(100)
    assert {"status": SubscriptionStatus.PAUSED, "posts": "1"}.items() <= status(simulator, order_id).items()
    simulator.simulator.resume(order_id)
    assert status(simulator, order_id)["status"] == SubscriptionStatus.ACTIVE
    simulator.simulator.advance(10)
    assert {"status": SubscriptionStatus.ACTIVE, "posts": "2"}.items() <= status(simulator, order_id).items()
    with pytest.raises(ValueError, match="not Paused"):
        simulator.simulator.resume(order_id)
    simulator.simulator.pause(order_id)
    with pytest.raises(ValueError, match="not Active"):
        simulator.simulator.pause(order_id)
    plain = add(simulator, LIKES, link=LINK, quantity=100)["order"]
    with pytest.raises(ValueError, match="no subscription"):
        simulator.simulator.pause(plain)


def test_a_subscription_expires_when_its_date_has_passed(make_server):
    # Posts 40 hours apart and an expiry the day after tomorrow (UTC): the expiry is 48 to 72 hours away,
    # so exactly one post is served before it.
    hours_40 = 40 * 3600
    server = make_server(step_seconds=hours_40)
    expiry = d_m_y(utc_today() + timedelta(days=2))
    order_id = subscribe(server, posts="0", expiry=expiry)
    server.simulator.advance(hours_40)
    assert status(server, order_id) == {
        "status": SubscriptionStatus.ACTIVE,
        "expiry": expiry,
        "posts": "1",
        "orders": [FIRST_CHILD_ID],
        "currency": "USD",
    }
    server.simulator.advance(hours_40)
    expired = {"status": SubscriptionStatus.EXPIRED, "posts": "1", "orders": [FIRST_CHILD_ID]}
    assert expired.items() <= status(server, order_id).items()
    server.simulator.advance(hours_40)
    assert expired.items() <= status(server, order_id).items()
    assert balance(server) == Decimal("999.1")


def test_a_subscription_whose_expiry_is_past_expires_at_once_with_a_full_refund(simulator):
    order_id = subscribe(simulator, posts="4", expiry=d_m_y(utc_today() - timedelta(days=1)))
    entry = status(simulator, order_id)
    assert (entry["status"], entry["posts"], entry["orders"]) == (SubscriptionStatus.EXPIRED, "0", [])
    assert balance(simulator) == balance(simulator) == Decimal(1000)


def test_a_subscription_can_expire_early_and_refunds_its_unserved_posts_once(make_server):
    server = make_server(expire_share=1)
    order_id = subscribe(server, posts="5")  # 4.5 paid
    served = server.simulator.orders[order_id].served_cap
    assert 1 <= served < 5
    server.simulator.advance(10 * served + 1)
    assert {"status": SubscriptionStatus.ACTIVE, "posts": str(served)}.items() <= status(
        server, order_id
    ).items()
    server.simulator.advance(10)
    assert {"status": SubscriptionStatus.EXPIRED, "posts": str(served)}.items() <= status(
        server, order_id
    ).items()
    server.simulator.advance(100)
    assert status(server, order_id)["posts"] == str(served)
    assert balance(server) == balance(server) == Decimal(1000) - served * Decimal("0.9")


def test_canceling_a_subscription_refunds_its_unserved_posts_once(simulator):
    order_id = subscribe(simulator, posts="10")  # 9 paid
    simulator.simulator.advance(25)
    assert call(simulator, action="cancel", orders=str(order_id)) == [{"order": order_id, "cancel": 1}]
    assert call(simulator, action="cancel", orders=str(order_id)) == [
        {"order": order_id, "cancel": {"error": "Order can not be canceled"}}
    ]
    simulator.simulator.advance(100)
    entry = status(simulator, order_id)
    assert (entry["status"], entry["posts"]) == (SubscriptionStatus.CANCELED, "2")
    assert balance(simulator) == Decimal(1000) - Decimal("1.8")


def test_a_paused_subscription_can_be_canceled(simulator):
    order_id = subscribe(simulator, posts="0")
    simulator.simulator.advance(10)
    simulator.simulator.pause(order_id)
    assert call(simulator, action="cancel", order=order_id) == [{"order": order_id, "cancel": 1}]
    assert status(simulator, order_id)["status"] == SubscriptionStatus.CANCELED
    assert balance(simulator) == Decimal("999.1")


def test_a_subscription_cannot_be_canceled_where_the_service_forbids_it_nor_refilled(simulator):
    order_id = subscribe(simulator, service=FUTURE_VIEWS, posts="2")  # 2 x 1000 x 9.5 / 1000 = 19
    assert call(simulator, action="cancel", orders=str(order_id)) == [
        {"order": order_id, "cancel": {"error": "Cancel is disabled for this service"}}
    ]
    assert call(simulator, action="refill", order=order_id) == {
        "error": "Refill is disabled for this service"
    }
    assert status(simulator, order_id)["status"] == SubscriptionStatus.ACTIVE
    assert balance(simulator) == Decimal(981)


def test_many_statuses_answer_each_kind_in_its_shape(simulator):
    plain = add(simulator, LIKES, link=LINK, quantity=100)["order"]
    dripped = drip(simulator, runs=2)
    subscription = subscribe(simulator, posts="2")
    simulator.simulator.set_dripfeed_shape("runs")
    simulator.simulator.advance(10)
    answer = call(simulator, action="status", orders=f"{plain},{dripped},{subscription},1")
    assert set(answer[str(plain)]) == {"charge", "start_count", "status", "remains"}
    assert answer[str(dripped)] == {
        "status": OrderStatus.IN_PROGRESS,
        "runs": "1",
        "orders": [FIRST_CHILD_ID],
    }
    assert answer[str(subscription)] == {
        "status": SubscriptionStatus.ACTIVE,
        "expiry": None,
        "posts": "1",
        "orders": [FIRST_CHILD_ID + 1],
    }
    assert answer["1"] == {"error": protocol.INCORRECT_ORDER_ID}


def test_quirks_spell_and_type_subscription_answers_differently(make_server):
    server = make_server(quirks=True, seed=1)
    order_ids = [subscribe(server, posts="0") for _ in range(12)]
    server.simulator.advance(10)
    for order_id in order_ids:
        call(server, action="cancel", order=order_id)
    answers = [status(server, order_id) for order_id in order_ids]
    texts = {answer["status"] for answer in answers}
    canceled = SubscriptionStatus.CANCELED
    assert texts == {canceled, "Cancelled", canceled.lower()}
    assert {protocol.status_named(text, SubscriptionStatus) for text in texts} == {canceled}
    assert {str, int} == {type(answer["posts"]) for answer in answers}
    assert {int(answer["posts"]) for answer in answers} == {1}
    assert {str, int} == {type(answer["orders"][0]) for answer in answers}


# The catalog


def test_it_keeps_the_first_thirty_services_and_appends_one_of_each_missing_type(simulator):
    services = {service["service"]: service for service in call(simulator, action="services")}
    assert list(services) == list(range(1, 40))
    assert [services[i]["type"] for i in (5, 18, 22, 25)] == [T.MENTIONS, T.SEO, T.POLL, T.SUBSCRIPTIONS]
    assert [services[i].get("dripfeed") for i in (1, 2, 8, 13)] == [True, True, False, True]
    assert services[25]["cancel"] is False
    appended = {
        i: tuple(services[i][k] for k in ("name", "type", "rate", "min", "max")) for i in range(31, 40)
    }
    assert appended == {
        31: ("Instagram 10 Comments Package", T.CUSTOM_COMMENTS_PACKAGE, "4.5", "1", "1"),
        32: ("Instagram Mentions + Hashtags", T.MENTIONS_WITH_HASHTAGS, "4.1", "100", "10000"),
        33: ("Instagram Mentions [Custom List]", T.MENTIONS_CUSTOM_LIST, "5.5", "10", "1000"),
        34: ("Instagram Mentions [Hashtag Users]", T.MENTIONS_HASHTAG, "2.6", "100", "20000"),
        35: ("Instagram Mentions [Followers]", T.MENTIONS_USER_FOLLOWERS, "3", "100", "20000"),
        36: ("Instagram Mentions [Likers]", T.MENTIONS_MEDIA_LIKERS, "3.4", "100", "10000"),
        37: ("YouTube Comment Likes", T.COMMENT_LIKES, "1.6", "20", "10000"),
        38: ("Instagram Auto Likes [Future posts]", T.SUBSCRIPTIONS, "0.9", "50", "5000"),
        39: ("Instagram Story Poll Votes [Beta]", BETA_TYPE, "7.5", "100", "5000"),
    }
    assert [services[i]["category"] for i in range(31, 40)] == ["Instagram"] * 6 + ["YouTube"] + [
        "Instagram"
    ] * 2
    assert [i for i in range(31, 40) if services[i]["cancel"]] == [37, 38]
    assert not any(services[i]["refill"] or "dripfeed" in services[i] for i in range(31, 40))
    assert {s["type"] for s in services.values()} == {*ServiceType, BETA_TYPE}


def test_a_generated_catalog_mixes_in_the_unknown_type(make_server):
    services = call(make_server(services=2000, seed=3), action="services")
    types = {service["type"] for service in services}
    assert BETA_TYPE in types
    assert types <= {*ServiceType, BETA_TYPE}
    assert {T.DEFAULT, T.PACKAGE, T.CUSTOM_COMMENTS} < types
