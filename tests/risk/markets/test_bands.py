"""LULD band table rows, the $3.00 and $0.75 edges, rounding and the doubling windows
(RULES.md §1; issue 6, "Tests")."""

from decimal import Decimal

import pytest

from risk.markets.bands import (
    Band,
    InvalidBandInput,
    PercentageParameter,
    band_percentage,
    is_doubled,
    price_band,
)
from risk.markets.sessions import DEFAULTS, SessionName, session_at
from tests.risk.clock import et

D = Decimal
CENT = D("0.01")
MIDDAY = et("2026-11-24 12:00")

PERCENTAGE_ROWS = [
    ("tier 1 above $3.00 is 5%", 1, "100", PercentageParameter(D("0.05"))),
    ("tier 2 above $3.00 is 10%", 2, "100", PercentageParameter(D("0.10"))),
    ("tier 1 at $3.01 is above the edge: 5%", 1, "3.01", PercentageParameter(D("0.05"))),
    ("tier 2 at $3.0001 is above the edge: 10%", 2, "3.0001", PercentageParameter(D("0.10"))),
    ("tier 1 at exactly $3.00 is 20%", 1, "3.00", PercentageParameter(D("0.20"))),
    ("tier 2 at exactly $3.00 is 20%", 2, "3.00", PercentageParameter(D("0.20"))),
    ("tier 1 at exactly $0.75 is 20%", 1, "0.75", PercentageParameter(D("0.20"))),
    ("tier 2 at exactly $0.75 is 20%", 2, "0.75", PercentageParameter(D("0.20"))),
    (
        "tier 1 below $0.75: lesser of $0.15 or 75%",
        1,
        "0.7499",
        PercentageParameter(D("0.75"), D("0.15")),
    ),
    (
        "tier 2 below $0.75: lesser of $0.15 or 75%",
        2,
        "0.10",
        PercentageParameter(D("0.75"), D("0.15")),
    ),
]


@pytest.mark.parametrize(
    ("tier", "reference", "expected"),
    [row[1:] for row in PERCENTAGE_ROWS],
    ids=[row[0] for row in PERCENTAGE_ROWS],
)
def test_band_percentage(tier, reference, expected):
    assert band_percentage(tier, D(reference)) == expected


WIDTH_ROWS = [
    ("below $0.75 the $0.15 cap binds above $0.20", "0.70", "0.15"),
    ("at $0.20 the cap and 75% agree", "0.20", "0.15"),
    ("below $0.20 the 75% binds", "0.10", "0.075"),
]


@pytest.mark.parametrize(
    ("reference", "width"),
    [row[1:] for row in WIDTH_ROWS],
    ids=[row[0] for row in WIDTH_ROWS],
)
def test_low_price_width_is_the_lesser_of_15_cents_or_75_percent(reference, width):
    assert band_percentage(1, D(reference)).width(D(reference)) == D(width)


BAND_ROWS = [
    # name, tier, reference, tick, ET instant, lower, upper
    ("tier 1 $100 midday: 5%", 1, "100", CENT, MIDDAY, "95.00", "105.00"),
    ("tier 2 $100 midday: 10%", 2, "100", CENT, MIDDAY, "90.00", "110.00"),
    ("tier 1 $3.00 exactly: 20%", 1, "3.00", CENT, MIDDAY, "2.40", "3.60"),
    ("tier 1 $3.01: 5%, edges rounded to the cent", 1, "3.01", CENT, MIDDAY, "2.86", "3.16"),
    ("tier 2 $0.75 exactly: 20%", 2, "0.75", CENT, MIDDAY, "0.60", "0.90"),
    ("tier 1 $0.7499: 15 cents", 1, "0.7499", D("0.0001"), MIDDAY, "0.5999", "0.8999"),
    ("tier 1 $0.10: 75%, exact on a fine tick", 1, "0.10", D("0.0001"), MIDDAY, "0.0250", "0.1750"),
    ("tier 1 $0.10: 75%, half-even to the cent", 1, "0.10", CENT, MIDDAY, "0.02", "0.18"),
    ("half-even: 95.095 -> 95.10, 105.105 -> 105.10", 1, "100.10", CENT, MIDDAY, "95.10", "105.10"),
    ("a nickel tick rounds to the nickel", 1, "101.00", D("0.05"), MIDDAY, "95.95", "106.05"),
    # doubling at the open, 9:30-9:45
    ("opening 9:30:00 doubles", 1, "100", CENT, et("2026-11-24 09:30"), "90.00", "110.00"),
    (
        "opening 9:44:59.999 doubles",
        1,
        "100",
        CENT,
        et("2026-11-24 09:44:59.999"),
        "90.00",
        "110.00",
    ),
    (
        "opening 9:45:00 no longer doubles",
        1,
        "100",
        CENT,
        et("2026-11-24 09:45"),
        "95.00",
        "105.00",
    ),
    ("opening doubles above $3 too", 2, "50", CENT, et("2026-11-24 09:31"), "40.00", "60.00"),
    ("opening doubles the 15-cent cap", 1, "0.50", CENT, et("2026-11-24 09:31"), "0.20", "0.80"),
    # doubling at the close, 15:35-16:00, only at or below $3.00 (18th amendment)
    (
        "closing 15:34:59.999 does not double",
        1,
        "2.00",
        CENT,
        et("2026-11-24 15:34:59.999"),
        "1.60",
        "2.40",
    ),
    ("closing 15:35:00 doubles at $2.00", 1, "2.00", CENT, et("2026-11-24 15:35"), "1.20", "2.80"),
    (
        "closing 15:59:59.999 doubles at $2.00",
        1,
        "2.00",
        CENT,
        et("2026-11-24 15:59:59.999"),
        "1.20",
        "2.80",
    ),
    ("closing doubles at exactly $3.00", 1, "3.00", CENT, et("2026-11-24 15:40"), "1.80", "4.20"),
    ("closing does not double at $3.01", 1, "3.01", CENT, et("2026-11-24 15:40"), "2.86", "3.16"),
    (
        "closing does not double tier 1 at $100",
        1,
        "100",
        CENT,
        et("2026-11-24 15:50"),
        "95.00",
        "105.00",
    ),
    (
        "closing does not double tier 2 at $100",
        2,
        "100",
        CENT,
        et("2026-11-24 15:50"),
        "90.00",
        "110.00",
    ),
    (
        "early close: 12:34:59.999 does not double",
        1,
        "2.00",
        CENT,
        et("2026-11-27 12:34:59.999"),
        "1.60",
        "2.40",
    ),
    (
        "early close: 12:35 doubles (25 min before 13:00)",
        1,
        "2.00",
        CENT,
        et("2026-11-27 12:35"),
        "1.20",
        "2.80",
    ),
    # session multipliers outside the plan's hours (2x by default)
    (
        "pre-market: 2x, not the opening doubling",
        1,
        "100",
        CENT,
        et("2026-11-24 09:29"),
        "90.00",
        "110.00",
    ),
    ("after-hours 16:00: 2x", 1, "2.00", CENT, et("2026-11-24 16:00"), "1.20", "2.80"),
    ("overnight: 2x", 2, "100", CENT, et("2026-11-24 23:00"), "80.00", "120.00"),
    ("weekend: 2x", 1, "100", CENT, et("2026-11-28 12:00"), "90.00", "110.00"),
    ("holiday: 2x", 1, "100", CENT, et("2026-11-26 12:00"), "90.00", "110.00"),
    # edges that rounding would collapse
    ("a reference of one tick keeps lower at the tick", 1, "0.01", CENT, MIDDAY, "0.01", "0.02"),
    ("a coarse tick keeps each edge a tick away", 1, "100", D("10"), MIDDAY, "90", "110"),
    ("an off-grid reference stays inside", 1, "1.004", D("1"), MIDDAY, "1", "2"),
]


@pytest.mark.parametrize(
    ("tier", "reference", "tick", "moment", "lower", "upper"),
    [row[1:] for row in BAND_ROWS],
    ids=[row[0] for row in BAND_ROWS],
)
def test_price_band(tier, reference, tick, moment, lower, upper):
    session = session_at(moment)
    band = price_band(D(reference), tier, tick, session, DEFAULTS[session.name])
    assert band == Band(D(lower), D(upper))
    assert str(band.lower) == lower
    assert str(band.upper) == upper


CONTINUOUS_ROWS = [
    ("24x7 default band is 10%", None, "100", "90.00", "110.00"),
    ("24x7 band is configurable", D("0.05"), "100", "95.00", "105.00"),
    ("24x7 ignores the LULD table below $3", None, "2.00", "1.80", "2.20"),
]


@pytest.mark.parametrize(
    ("percentage", "reference", "lower", "upper"),
    [row[1:] for row in CONTINUOUS_ROWS],
    ids=[row[0] for row in CONTINUOUS_ROWS],
)
def test_24x7_band(percentage, reference, lower, upper):
    session = session_at(et("2026-11-24 09:31"), "24x7")
    extra = {} if percentage is None else {"continuous_percentage": percentage}
    band = price_band(D(reference), 1, CENT, session, DEFAULTS[SessionName.CONTINUOUS], **extra)
    assert band == Band(D(lower), D(upper))


def test_doubling_only_in_the_regular_session():
    assert is_doubled(session_at(et("2026-11-24 09:30")), D("100"))
    assert not is_doubled(session_at(et("2026-11-24 09:29:59.999")), D("100"))
    assert not is_doubled(session_at(et("2026-11-24 16:00")), D("2"))


def test_band_edges_are_reached_at_or_through_them():
    band = Band(D("95.00"), D("105.00"))
    assert band.is_reached_by(D("105.00"))
    assert band.is_reached_by(D("95.00"))
    assert band.is_reached_by(D("200"))
    assert not band.is_reached_by(D("104.99"))
    assert band.is_strictly_inside(D("104.99"))
    assert not band.is_strictly_inside(D("95.00"))


def test_band_round_trips_through_strings():
    band = Band(D("95.00"), D("105.00"))
    assert band.to_dict() == {"lower": "95.00", "upper": "105.00"}
    assert Band.from_dict(band.to_dict()) == band


INVALID_ROWS = [
    ("tier 3 does not exist", 3, "100", CENT),
    ("a zero reference is not a price", 1, "0", CENT),
    ("a negative reference is not a price", 1, "-1", CENT),
    ("a zero tick is not a grid", 1, "100", D("0")),
    ("a reference below one tick has no band", 1, "0.004", CENT),
]


@pytest.mark.parametrize(
    ("tier", "reference", "tick"),
    [row[1:] for row in INVALID_ROWS],
    ids=[row[0] for row in INVALID_ROWS],
)
def test_invalid_band_inputs_are_refused(tier, reference, tick):
    session = session_at(MIDDAY)
    with pytest.raises(InvalidBandInput):
        price_band(D(reference), tier, tick, session, DEFAULTS[session.name])
