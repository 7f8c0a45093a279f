"""Reading numbers that people type (query strings, forms, API fields)."""

MAX_DIGITS = 18  # below 2**63: fits every integer column, on SQLite too


def whole_number(value, *, max_digits: int = MAX_DIGITS) -> int | None:
    """A non-negative whole number, else None. ASCII digits only: str.isdigit() also accepts "²", which
    int() refuses, and a number too long for the database is no id of ours."""
    text = str(value if value is not None else "").strip()
    if text and len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None
