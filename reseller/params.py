"""Reading numbers that people type (query strings, forms, API fields)."""

MAX_DIGITS = 18  # below 2**63: fits every integer column, on SQLite too


def whole_number(value, *, max_digits: int = MAX_DIGITS) -> int | None:
    """A non-negative whole number, else None. ASCII digits only: str.isdigit() also accepts "²", which
    int() refuses, and a number too long for the database is no id of ours."""
    text = str(value if value is not None else "").strip()
    if text and len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def integer(value) -> int | None:
    """An integer as typed ("42", " -5 ", "007"), else None: ASCII digits after an optional minus sign.

    Any length is a number, so that a quantity of 10**30 can be told it is above the maximum rather than
    not a number. Past MAX_DIGITS digits (more than any column holds; int() refuses thousands of them) it
    reads as ±10**MAX_DIGITS, which is still beyond every limit it can be compared with."""
    text = str(value if value is not None else "").strip()
    digits = text.removeprefix("-")
    if not (digits and digits.isascii() and digits.isdigit()):
        return None
    digits = digits.lstrip("0") or "0"
    number = int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    return -number if text.startswith("-") else number
