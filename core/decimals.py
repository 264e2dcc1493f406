"""Decimal strings as the contract writes them: plain notation, no exponent, no float."""

from decimal import Decimal


def plain(value: Decimal) -> str:
    """``Decimal("1E+2")`` → ``"100"``, ``Decimal("95.250000")`` → ``"95.25"``."""
    text = format(value.normalize(), "f")
    return text
