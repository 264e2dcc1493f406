"""Price bands around the reference price, after the US Limit Up-Limit Down plan.

RULES.md §1 and the LULD plan, Appendix A (Percentage Parameters):

| reference price              | Tier 1 | Tier 2 |
|------------------------------|--------|--------|
| above $3.00                  | 5%     | 10%    |
| $0.75 up to and incl. $3.00  | 20%    | 20%    |
| below $0.75                  | the lesser of $0.15 or 75%  |

The width is doubled from 9:30 to 9:45 ET (the opening band period) and in the last 25
minutes before the close (3:35-4:00 ET, or before an early scheduled close); since the plan's
18th amendment the closing doubling applies only when the reference price is $3.00 or less.
Hours the plan does not cover use the session's ``band_multiplier`` (DESIGN.md, "Markets");
``24x7`` instruments have one configurable percentage instead of the table.

Band prices are rounded to the nearest tick (the plan says the nearest cent; we use the
instrument's tick, half-even, CONVENTIONS.md "Money"). Rounding may never leave a band that
excludes its reference or touches zero: each edge is kept at least one tick away from the
reference where a positive tick exists below it, so ``tick <= lower <= reference < upper``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

from risk.markets.sessions import CONTINUOUS_CALENDAR, SessionInfo, SessionName, SessionParameters

TIER_1 = 1
TIER_2 = 2
TIERS = (TIER_1, TIER_2)

UPPER_PRICE_EDGE = Decimal("3.00")
LOWER_PRICE_EDGE = Decimal("0.75")
LOW_PRICE_DOLLAR_CAP = Decimal("0.15")

OPENING_BAND_PERIOD = timedelta(minutes=15)
CLOSING_BAND_PERIOD = timedelta(minutes=25)
DOUBLING = Decimal(2)
DEFAULT_CONTINUOUS_PERCENTAGE = Decimal("0.10")

_EXACT = Context(prec=50, rounding=ROUND_HALF_EVEN)


class InvalidBandInput(ValueError):
    """A band cannot be drawn: a tier outside 1/2, or a reference or tick that is not a price."""


@dataclass(frozen=True, slots=True)
class PercentageParameter:
    """The plan's Percentage Parameter: a fraction of the reference, capped in dollars below
    $0.75 ("the lesser of $0.15 or 75%")."""

    percentage: Decimal
    dollar_cap: Decimal | None = None

    def width(self, reference_price: Decimal) -> Decimal:
        """Distance from the reference to each band edge, before doubling or multipliers."""
        width = reference_price * self.percentage
        if self.dollar_cap is not None and self.dollar_cap < width:
            return self.dollar_cap
        return width


_TABLE = {
    (TIER_1, "above"): PercentageParameter(Decimal("0.05")),
    (TIER_2, "above"): PercentageParameter(Decimal("0.10")),
    (TIER_1, "middle"): PercentageParameter(Decimal("0.20")),
    (TIER_2, "middle"): PercentageParameter(Decimal("0.20")),
    (TIER_1, "below"): PercentageParameter(Decimal("0.75"), LOW_PRICE_DOLLAR_CAP),
    (TIER_2, "below"): PercentageParameter(Decimal("0.75"), LOW_PRICE_DOLLAR_CAP),
}


def band_percentage(tier: int, reference_price: Decimal) -> PercentageParameter:
    """The LULD Percentage Parameter for a tier and reference price (LULD plan, Appendix A).

    $3.00 exactly is in the 20% row ("$0.75 up to and including $3.00"); $0.75 exactly too.
    """
    if tier not in TIERS:
        raise InvalidBandInput(f"tier must be 1 or 2, got {tier!r}")
    if not reference_price > 0:
        raise InvalidBandInput(f"reference price must be positive, got {reference_price}")
    if reference_price > UPPER_PRICE_EDGE:
        row = "above"
    elif reference_price >= LOWER_PRICE_EDGE:
        row = "middle"
    else:
        row = "below"
    return _TABLE[(tier, row)]


def is_doubled(session: SessionInfo, reference_price: Decimal) -> bool:
    """Whether the plan doubles the width at this instant.

    Opening band period: [open, open + 15 min). Closing: [close - 25 min, close), only for a
    reference of $3.00 or less (18th amendment). Both follow the calendar's actual open and
    close, so an early close doubles 12:35-13:00.
    """
    since_open, to_close = session.since_open, session.to_close
    if since_open is None or to_close is None:
        return False
    if since_open < OPENING_BAND_PERIOD:
        return True
    return to_close <= CLOSING_BAND_PERIOD and reference_price <= UPPER_PRICE_EDGE


@dataclass(frozen=True, slots=True)
class Band:
    """The prices at or through which a market enters the limit state."""

    lower: Decimal
    upper: Decimal

    def is_reached_by(self, price: Decimal) -> bool:
        """At or through an edge: the plan's limit state begins when the price equals a band."""
        return price <= self.lower or price >= self.upper

    def is_strictly_inside(self, price: Decimal) -> bool:
        return self.lower < price < self.upper

    def to_dict(self) -> dict[str, str]:
        return {"lower": str(self.lower), "upper": str(self.upper)}

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> Band:
        return cls(lower=Decimal(fields["lower"]), upper=Decimal(fields["upper"]))


def band_width(
    reference_price: Decimal,
    tier: int,
    session: SessionInfo,
    session_params: SessionParameters,
    *,
    continuous_percentage: Decimal = DEFAULT_CONTINUOUS_PERCENTAGE,
) -> Decimal:
    """The unrounded distance from the reference to each edge at this session."""
    if session.calendar == CONTINUOUS_CALENDAR or session.name is SessionName.CONTINUOUS:
        if not reference_price > 0:
            raise InvalidBandInput(f"reference price must be positive, got {reference_price}")
        width = reference_price * continuous_percentage
    else:
        width = band_percentage(tier, reference_price).width(reference_price)
        if is_doubled(session, reference_price):
            width *= DOUBLING
    return width * session_params.band_multiplier


def price_band(
    reference_price: Decimal,
    tier: int,
    tick_size: Decimal,
    session: SessionInfo,
    session_params: SessionParameters,
    *,
    continuous_percentage: Decimal = DEFAULT_CONTINUOUS_PERCENTAGE,
) -> Band:
    """The band around ``reference_price`` for this session, on the instrument's tick grid.

    The calendar is the session's (``session.calendar``): ``24x7`` instruments take
    ``continuous_percentage`` (default 10%) instead of the LULD table.
    """
    if not tick_size > 0:
        raise InvalidBandInput(f"tick size must be positive, got {tick_size}")
    if reference_price < tick_size:
        raise InvalidBandInput(f"reference price {reference_price} is below one tick {tick_size}")
    width = band_width(
        reference_price,
        tier,
        session,
        session_params,
        continuous_percentage=continuous_percentage,
    )
    lower = _to_tick(reference_price - width, tick_size, ROUND_HALF_EVEN)
    upper = _to_tick(reference_price + width, tick_size, ROUND_HALF_EVEN)
    if lower >= reference_price:
        lower = _to_tick(reference_price, tick_size, ROUND_CEILING) - tick_size
    if lower < tick_size:
        lower = tick_size
    if upper <= reference_price:
        upper = _to_tick(reference_price, tick_size, ROUND_FLOOR) + tick_size
    return Band(lower=lower, upper=upper)


def _to_tick(price: Decimal, tick_size: Decimal, rounding: str) -> Decimal:
    ticks = _EXACT.divide(price, tick_size).to_integral_value(rounding=rounding)
    return _EXACT.multiply(ticks, tick_size)
