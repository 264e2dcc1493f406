"""Market-wide circuit breakers: levels 1/2/3, the 3:25 pm rule and once a day
(RULES.md §2, after NYSE Rule 7.12)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from risk.markets.market_wide import (
    MarketWideParameters,
    MarketWideState,
    affected_instruments,
    decline_level,
    on_index_price,
)
from risk.markets.sessions import SessionName, session_at
from risk.markets.state import MarketStatus, effective_state
from tests.risk.clock import et, ms

D = Decimal
CLOSE = D("5000")
QUIET = MarketWideState()


def index_prints(prints, state=QUIET, params=None):
    """(price, New York instant) prints of the index; the state and the levels triggered."""
    levels = []
    for price, moment in prints:
        extra = () if params is None else (params,)
        state, level = on_index_price(state, D(price), CLOSE, moment, session_at(moment), *extra)
        levels.append(level)
    return state, levels


LEVEL_ROWS = [
    ("a 6.99% decline is no level", "4650.50", None),
    ("exactly 7% is level 1", "4650", 1),
    ("12.99% is still level 1", "4350.50", 1),
    ("exactly 13% is level 2", "4350", 2),
    ("exactly 20% is level 3", "4000", 3),
    ("a rise is no level", "5500", None),
]


@pytest.mark.parametrize(
    ("price", "level"),
    [row[1:] for row in LEVEL_ROWS],
    ids=[row[0] for row in LEVEL_ROWS],
)
def test_decline_levels(price, level):
    assert decline_level(D(price), CLOSE) == level


TRIGGER_ROWS = [
    (
        "level 1 at 10:00 halts 15 minutes",
        "4650",
        et("2026-11-24 10:00"),
        1,
        et("2026-11-24 10:15"),
    ),
    (
        "level 2 at 11:00 halts 15 minutes",
        "4350",
        et("2026-11-24 11:00"),
        2,
        et("2026-11-24 11:15"),
    ),
    (
        "level 3 halts to the end of the trade date (20:00 ET)",
        "4000",
        et("2026-11-24 11:00"),
        3,
        et("2026-11-24 20:00"),
    ),
    (
        "level 1 at 15:24:59.999 still halts",
        "4650",
        et("2026-11-24 15:24:59.999"),
        1,
        et("2026-11-24 15:39:59.999"),
    ),
    ("level 1 at 15:25:00 does not halt", "4650", et("2026-11-24 15:25"), None, None),
    ("level 2 at 15:25:00 does not halt", "4350", et("2026-11-24 15:25"), None, None),
    ("level 3 at 15:50 still halts", "4000", et("2026-11-24 15:50"), 3, et("2026-11-24 20:00")),
    (
        "early close: level 1 at 12:24:59.999 halts",
        "4650",
        et("2026-11-27 12:24:59.999"),
        1,
        et("2026-11-27 12:39:59.999"),
    ),
    ("early close: level 1 at 12:25 does not halt", "4650", et("2026-11-27 12:25"), None, None),
    ("after-hours: only level 3", "4350", et("2026-11-24 17:00"), None, None),
    ("after-hours: level 3 to 20:00", "4000", et("2026-11-24 17:00"), 3, et("2026-11-24 20:00")),
    (
        "overnight belongs to the next day: level 1 halts",
        "4650",
        et("2026-11-24 22:00"),
        1,
        et("2026-11-24 22:15"),
    ),
    ("weekend: level 1 at any hour", "4650", et("2026-11-28 16:00"), 1, et("2026-11-28 16:15")),
    (
        "weekend: level 3 to saturday 20:00",
        "4000",
        et("2026-11-28 16:00"),
        3,
        et("2026-11-28 20:00"),
    ),
]


@pytest.mark.parametrize(
    ("price", "moment", "level", "until"),
    [row[1:] for row in TRIGGER_ROWS],
    ids=[row[0] for row in TRIGGER_ROWS],
)
def test_market_wide_trigger(price, moment, level, until):
    state, levels = index_prints([(price, moment)])
    assert levels == [level]
    if level is None:
        assert state.halt.status is MarketStatus.OPEN
    else:
        assert (state.halt.status, state.halt.until) == (MarketStatus.HALTED, until)
        assert state.halt.reason == f"MWCB_LEVEL_{level}"


def test_each_level_only_once_a_day():
    state, levels = index_prints(
        [
            ("4650", et("2026-11-24 10:00")),
            ("4900", et("2026-11-24 10:30")),
            ("4650", et("2026-11-24 11:00")),
            ("4350", et("2026-11-24 12:00")),
            ("4700", et("2026-11-24 13:00")),
            ("4350", et("2026-11-24 13:30")),
            ("4000", et("2026-11-24 14:00")),
        ]
    )
    assert levels == [1, None, None, 2, None, None, 3]
    assert state.triggered_levels == frozenset({1, 2, 3})


def test_level_2_first_uses_up_level_1():
    _, levels = index_prints([("4350", et("2026-11-24 10:00")), ("4650", et("2026-11-24 11:00"))])
    assert levels == [2, None]


def test_a_new_trade_date_resets_the_levels():
    state, levels = index_prints(
        [("4650", et("2026-11-24 10:00")), ("4650", et("2026-11-25 10:00"))]
    )
    assert levels == [1, 1]
    assert state.trade_date == date(2026, 11, 25)


def test_the_halt_ends_exactly_after_15_minutes():
    state, _ = index_prints([("4650", et("2026-11-24 10:00"))])
    ends = et("2026-11-24 10:15")
    assert effective_state(state.halt, ends - ms(1)).status is MarketStatus.HALTED
    assert effective_state(state.halt, ends).status is MarketStatus.OPEN


def test_a_higher_level_during_a_halt_escalates():
    state, levels = index_prints(
        [("4650", et("2026-11-24 10:00")), ("4000", et("2026-11-24 10:05"))]
    )
    assert levels == [1, 3]
    assert state.halt.until == et("2026-11-24 20:00")


def test_no_last_close_means_nothing_to_measure():
    moment = et("2026-11-24 10:00")
    state, level = on_index_price(QUIET, D("1"), None, moment, session_at(moment))
    assert level is None
    assert state.halt.status is MarketStatus.OPEN


def test_sessions_can_be_left_out_by_configuration():
    regular_only = MarketWideParameters(active_sessions=frozenset({SessionName.REGULAR}))
    _, levels = index_prints([("4000", et("2026-11-28 16:00"))], params=regular_only)
    assert levels == [None]


def test_24x7_sessions_have_no_market_wide_breaker():
    moment = et("2026-11-24 10:00")
    _, level = on_index_price(QUIET, D("1"), CLOSE, moment, session_at(moment, "24x7"))
    assert level is None


def test_the_equity_like_instruments_are_affected():
    instruments = [
        ("AAPL-PERP", "equity_perp", "XNYS"),
        ("SPY-PERP", "equity_perp", "XNYS"),
        ("TSLA-RWA", "rwa_token", "XNYS"),
        ("BTC-PERP", "crypto_perp", "24x7"),
        ("USDC", "stablecoin", "24x7"),
        ("GOLD-RWA", "rwa_token", "24x7"),
    ]
    assert affected_instruments(instruments) == ("AAPL-PERP", "SPY-PERP", "TSLA-RWA")


def test_market_wide_state_round_trips_through_strings():
    state, _ = index_prints([("4350", et("2026-11-24 10:00"))])
    stored = state.to_dict()
    assert all(isinstance(value, str) for value in stored.values())
    assert MarketWideState.from_dict(stored) == state
    assert MarketWideState.from_dict(QUIET.to_dict()) == QUIET


def test_halt_until_is_15_minutes_after_the_trigger():
    moment = et("2026-11-24 10:00:00.123")
    state, _ = index_prints([("4650", moment)])
    assert state.halt.until - moment == timedelta(minutes=15)
