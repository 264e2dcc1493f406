"""Prices and quantities as people read them: at the instrument's tick and at its lot.

The contract answers with ``risk.markets.view.display_price``: exact, never fewer places than
the tick and more when the value has them (a blended reference is kept to eight places, so
the API may say ``230.12345678``). An officer comparing a reference with its band, or one
instrument's board row with the next, needs one width per instrument instead: the console
and the reports round to the tick's places (half-even, CONVENTIONS "Money": prices to tick)
and then write the number as the contract does. A quantity is written at its lot's places
the same way. Nothing here is used to decide anything.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

from risk.markets.view import display_price

_WIDE = Context(prec=80, rounding=ROUND_HALF_EVEN)
"""Room for a 28-digit stored decimal padded to a fine tick without an overflow."""


def _decimal(value: Decimal | str) -> Decimal:
    if isinstance(value, float) or not isinstance(value, Decimal | str):
        raise TypeError(f"expected a Decimal or a decimal string, got {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal")
    return number


def at_step(value: Decimal | str, step: Decimal | str) -> str:
    """``value`` rounded half-even to the places of ``step`` (a tick or a lot size) and
    written with exactly those places: ``230.00000000`` at tick 0.01 is ``230.00``, and
    ``110000`` at tick 0.5 is ``110000.0``."""
    number, increment = _decimal(value), _decimal(step)
    places = Decimal(1).scaleb(min(increment.normalize().as_tuple().exponent, 0))
    rounded = number.quantize(places, rounding=ROUND_HALF_EVEN, context=_WIDE)
    return display_price(rounded, increment)


def price(value: Decimal | str, tick_size: Decimal | str) -> str:
    """A price at its instrument's tick (references, bands, order prices, closes)."""
    return at_step(value, tick_size)


def quantity(value: Decimal | str, lot_size: Decimal | str) -> str:
    """A quantity of contracts at its instrument's lot (orders, positions, reservations)."""
    return at_step(value, lot_size)
