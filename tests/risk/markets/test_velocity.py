"""Velocity logic: more than 5% within 1 s pauses for 10 s (RULES.md §6)."""

from decimal import Decimal

import pytest

from risk.markets.state import MarketStatus
from risk.markets.velocity import (
    NO_RECENT_PRICES,
    VelocityParameters,
    VelocityState,
    on_velocity_price,
)
from tests.risk.clock import et, ms

D = Decimal
T0 = et("2026-11-28 12:00")


def drive(prices, params=None):
    state, changes = NO_RECENT_PRICES, ()
    for price, elapsed in prices:
        extra = () if params is None else (params,)
        state, new = on_velocity_price("TSLA-PERP", state, D(price), T0 + ms(elapsed), *extra)
        changes += new
    return state, changes


VELOCITY_ROWS = [
    ("a 5% drop within the second is not more than 5%", [("100", 0), ("95", 500)], False),
    ("a 5.01% drop within the second pauses", [("100", 0), ("94.99", 500)], True),
    ("a 5.01% rise within the second pauses", [("100", 0), ("105.01", 500)], True),
    ("a price exactly 1.000 s old still counts", [("100", 0), ("94", 1000)], True),
    ("a price 1.001 s old is out of the look-back", [("100", 0), ("94", 1001)], False),
    (
        "measured from the second's high, not its first price",
        [("100", 0), ("104", 300), ("98.79", 600)],
        True,
    ),
    (
        "a slow slide in small steps never pauses",
        [("100", 0), ("98", 900), ("96", 1800), ("94", 2700)],
        False,
    ),
]


@pytest.mark.parametrize(
    ("prices", "paused"),
    [row[1:] for row in VELOCITY_ROWS],
    ids=[row[0] for row in VELOCITY_ROWS],
)
def test_velocity_pause(prices, paused):
    state, _ = drive(prices)
    assert (state.pause.status is MarketStatus.PAUSED) is paused


def test_the_pause_lasts_10_seconds_to_the_millisecond():
    state, changes = drive([("100", 0), ("90", 200)])
    assert state.pause.until == T0 + ms(10_200)
    assert [(c.to_status, c.reason, c.at) for c in changes] == [
        (MarketStatus.PAUSED, "VELOCITY_PAUSE", T0 + ms(200))
    ]
    still, _ = on_velocity_price("TSLA-PERP", state, D("90"), T0 + ms(10_199))
    assert still.pause.status is MarketStatus.PAUSED
    over, changes = on_velocity_price("TSLA-PERP", state, D("90"), T0 + ms(10_200))
    assert over.pause.status is MarketStatus.OPEN
    assert [(c.to_status, c.reason, c.at) for c in changes] == [
        (MarketStatus.OPEN, "VELOCITY_PAUSE_ENDED", T0 + ms(10_200))
    ]


def test_a_running_pause_is_not_extended():
    state, _ = drive([("100", 0), ("90", 200), ("80", 400)])
    assert state.pause.until == T0 + ms(10_200)


def test_thresholds_are_configurable():
    params = VelocityParameters(threshold=D("0.02"))
    state, _ = drive([("100", 0), ("97.9", 500)], params)
    assert state.pause.status is MarketStatus.PAUSED


def test_velocity_state_round_trips_through_strings():
    state, _ = drive([("100", 0), ("90", 200)])
    assert VelocityState.from_dict(state.to_dict()) == state
