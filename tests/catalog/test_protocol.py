"""The protocol's vocabulary: what the client, our API and the simulator all rely on meaning the same."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import protocol
from catalog.protocol import OrderStatus, RefillStatus, ServiceType

ROOT = Path(__file__).resolve().parents[2]


# statuses ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In progress", OrderStatus.IN_PROGRESS),
        ("In Progress", OrderStatus.IN_PROGRESS),
        ("IN  PROGRESS", OrderStatus.IN_PROGRESS),
        (" in progress\n", OrderStatus.IN_PROGRESS),
        ("inprogress", OrderStatus.IN_PROGRESS),
        ("InProgress", OrderStatus.IN_PROGRESS),
        ("Canceled", OrderStatus.CANCELED),
        ("Cancelled", OrderStatus.CANCELED),
        ("CANCELLED", OrderStatus.CANCELED),
        ("pending", OrderStatus.PENDING),
        ("Partial", OrderStatus.PARTIAL),
    ],
)
def test_order_statuses_are_matched_whatever_the_case_spacing_or_usual_spelling(text, expected):
    assert protocol.status_named(text, OrderStatus) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rejected", RefillStatus.REJECTED),
        ("In Progress", RefillStatus.IN_PROGRESS),
        ("inprogress", RefillStatus.IN_PROGRESS),
        ("completed", RefillStatus.COMPLETED),
    ],
)
def test_refill_statuses_are_matched_the_same_way(text, expected):
    assert protocol.status_named(text, RefillStatus) is expected


@pytest.mark.parametrize(
    ("text", "statuses"),
    [
        ("Cancelled", RefillStatus),  # a refill is rejected, never canceled
        ("Rejected", OrderStatus),
        ("Partial", RefillStatus),
        ("Exploded", OrderStatus),
        ("In-progress", OrderStatus),
        ("", OrderStatus),
        (None, OrderStatus),
        (1, OrderStatus),
        ({"error": "Refill not found"}, RefillStatus),
    ],
)
def test_anything_else_names_no_status(text, statuses):
    assert protocol.status_named(text, statuses) is None


def test_statuses_are_the_plain_strings_the_protocol_sends():
    assert OrderStatus.IN_PROGRESS == "In progress"
    assert RefillStatus.COMPLETED == OrderStatus.COMPLETED == "Completed"
    assert json.dumps({"status": OrderStatus.CANCELED}) == '{"status": "Canceled"}'
    assert f"{OrderStatus.PENDING}" == "Pending"


# service types ----------------------------------------------------------------------------------------------


def test_service_types_are_named_exactly_as_providers_list_them():
    assert ServiceType.named("Default") is ServiceType.DEFAULT
    assert ServiceType.named("Custom Comments Package") is ServiceType.CUSTOM_COMMENTS_PACKAGE
    assert ServiceType.named("SEO") is ServiceType.SEO
    assert ServiceType.named("default") is None
    assert ServiceType.named("Custom  Comments") is None
    assert ServiceType.named("Story Views") is None
    assert ServiceType.named("") is None


# ids: splitting ---------------------------------------------------------------------------------------------


def test_split_ids_drops_blanks_and_repeats_and_keeps_the_order():
    assert protocol.split_ids(" 3, 1,,3 ,2, 1 ,") == ["3", "1", "2"]


def test_split_ids_keeps_the_tokens_as_sent():
    assert protocol.split_ids("007,7,abc") == ["007", "7", "abc"]


def test_split_ids_takes_up_to_100():
    hundred = [str(n) for n in range(1, protocol.MAX_IDS + 1)]

    assert protocol.split_ids(",".join(hundred)) == hundred
    with pytest.raises(ValueError, match=protocol.INCORRECT_REQUEST):
        protocol.split_ids(",".join([*hundred, "101"]))


def test_split_ids_counts_the_limit_after_dropping_repeats():
    hundred = [str(n) for n in range(1, protocol.MAX_IDS + 1)]

    assert protocol.split_ids(",".join([*hundred, "1"])) == hundred


@pytest.mark.parametrize("text", ["", " ", ",", " , ,", None])
def test_split_ids_refuses_a_call_without_ids(text):
    with pytest.raises(ValueError, match=protocol.INCORRECT_REQUEST):
        protocol.split_ids(text)


def test_split_ids_can_keep_repeats_and_then_counts_them():
    assert protocol.split_ids("5, 5,6", unique=False) == ["5", "5", "6"]
    with pytest.raises(ValueError, match=protocol.INCORRECT_REQUEST):
        protocol.split_ids(",".join(["5"] * (protocol.MAX_IDS + 1)), unique=False)


def test_join_ids_and_chunks_make_one_multi_call_per_100_ids():
    ids = [str(n) for n in range(250)]

    assert [len(chunk) for chunk in protocol.chunks(ids)] == [100, 100, 50]
    assert [item for chunk in protocol.chunks(ids) for item in chunk] == ids
    assert list(protocol.chunks([])) == []
    assert protocol.join_ids([1, "2", 30]) == "1,2,30"


# ids: parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [7, "7", "007", " 7 ", "7.0", "7.", "7.000", 7.0])
def test_parse_id_gives_one_canonical_form_for_the_same_number(value):
    assert protocol.parse_id(value) == "7"


def test_parse_id_keeps_big_numbers_and_word_ids_as_they_are():
    assert protocol.parse_id(10**30) == str(10**30)
    assert protocol.parse_id("0") == "0"
    assert protocol.parse_id(" ab-12_C ") == "ab-12_C"


@pytest.mark.parametrize(
    "value", [None, True, False, "", "   ", "7.5", 7.5, "1,2", "a b", "7.0.0", "x" * 65, "<b>"]
)
def test_parse_id_refuses_what_is_no_id(value):
    with pytest.raises(ValueError, match="not an id"):
        protocol.parse_id(value)


@pytest.mark.parametrize(("token", "expected"), [("23501", 23501), (" 42 ", 42), ("007", 7), (7, 7)])
def test_number_id_reads_numeric_ids(token, expected):
    assert protocol.number_id(token) == expected


@pytest.mark.parametrize("token", [None, "", " ", "abc", "-1", "+1", "1.0", "1e3", "١٢", "12 3"])
def test_number_id_is_none_for_anything_but_ascii_digits(token):
    assert protocol.number_id(token) is None


def test_number_id_can_bound_the_digits():
    assert protocol.number_id("12345", max_digits=5) == 12345
    assert protocol.number_id("123456", max_digits=5) is None


# error texts ------------------------------------------------------------------------------------------------


def test_quantity_errors_name_the_bound():
    assert protocol.quantity_below_min(100) == "Quantity less than minimal 100"
    assert protocol.quantity_above_max(5000) == "Quantity more than maximum 5000"


def test_the_protocol_and_the_simulator_load_without_django():
    code = "import sys, catalog.protocol, catalog.simulator; sys.exit('django' in sys.modules)"

    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
