"""Argument types shared by the catalog's commands."""

import argparse
from decimal import Decimal, InvalidOperation


def decimal_number(text: str) -> Decimal:
    """A command-line amount as a Decimal, never a float; a clear usage error otherwise."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None
    if not number.is_finite():
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}")
    return number
