"""The LULD machine on prices, halts, and the published state of one instrument."""

from datetime import timedelta
from decimal import Decimal

import pytest

from risk.markets.bands import Band
from risk.markets.breakers import (
    HaltWindow,
    InstrumentBreakers,
    change_instants,
    manual_halt,
    manual_resume,
    on_band_price,
    on_price,
    published_state,
    scheduled_halt,
)
from risk.markets.state import (
    OPEN_STATE,
    MarketState,
    MarketStatus,
    transitions_over,
)
from tests.risk.clock import et, ms

D = Decimal
SYMBOL = "AAPL-PERP"
T0 = et("2026-11-24 10:00")
BAND = Band(D("95.00"), D("105.00"))
OPEN, LIMIT, PAUSED, HALTED, CLOSE_ONLY = (
    MarketStatus.OPEN,
    MarketStatus.LIMIT_STATE,
    MarketStatus.PAUSED,
    MarketStatus.HALTED,
    MarketStatus.CLOSE_ONLY,
)


def drive(prices, state=OPEN_STATE, band=BAND):
    """Feed (price, milliseconds after T0) to the LULD machine; the state and transitions."""
    changes = ()
    for price, elapsed in prices:
        state, new = on_band_price(SYMBOL, state, D(price), band, T0 + ms(elapsed))
        changes += new
    return state, changes


ENTRY_ROWS = [
    ("a price inside the band stays open", "104.99", OPEN, None),
    ("a price at the upper band enters the limit state", "105.00", LIMIT, "LULD_LIMIT_STATE_UPPER"),
    ("a price through the upper band too", "120", LIMIT, "LULD_LIMIT_STATE_UPPER"),
    ("a price at the lower band", "95.00", LIMIT, "LULD_LIMIT_STATE_LOWER"),
    ("a near-zero print", "0.01", LIMIT, "LULD_LIMIT_STATE_LOWER"),
]


@pytest.mark.parametrize(
    ("price", "status", "reason"),
    [row[1:] for row in ENTRY_ROWS],
    ids=[row[0] for row in ENTRY_ROWS],
)
def test_entering_the_limit_state(price, status, reason):
    state, _ = drive([(price, 0)])
    assert (state.status, state.reason) == (status, reason)
    if status is LIMIT:
        assert (state.since, state.until) == (T0, T0 + ms(15_000))


SEQUENCE_ROWS = [
    (
        "back strictly inside at 14.999 s reopens",
        [("105", 0), ("104.99", 14_999)],
        OPEN,
        [(OPEN, LIMIT, 0), (LIMIT, OPEN, 14_999)],
    ),
    (
        "back inside at 15.000 s is too late: already paused",
        [("105", 0), ("104.99", 15_000)],
        PAUSED,
        [(OPEN, LIMIT, 0), (LIMIT, PAUSED, 15_000)],
    ),
    (
        "touching the band again does not restart the 15 s",
        [("105", 0), ("106", 10_000), ("105", 15_000)],
        PAUSED,
        [(OPEN, LIMIT, 0), (LIMIT, PAUSED, 15_000)],
    ),
    (
        "still at the band edge is not back inside",
        [("105", 0), ("105.00", 5_000)],
        LIMIT,
        [(OPEN, LIMIT, 0)],
    ),
    (
        "prices do not end a pause",
        [("105", 0), ("100", 20_000), ("100", 314_999)],
        PAUSED,
        [(OPEN, LIMIT, 0), (LIMIT, PAUSED, 15_000)],
    ),
    (
        "the pause ends at 5 min 15 s; a price at the band then starts a new limit state",
        [("105", 0), ("105", 315_000)],
        LIMIT,
        [
            (OPEN, LIMIT, 0),
            (LIMIT, PAUSED, 15_000),
            (PAUSED, OPEN, 315_000),
            (OPEN, LIMIT, 315_000),
        ],
    ),
]


@pytest.mark.parametrize(
    ("prices", "final", "expected"),
    [row[1:] for row in SEQUENCE_ROWS],
    ids=[row[0] for row in SEQUENCE_ROWS],
)
def test_limit_state_sequences(prices, final, expected):
    state, changes = drive(prices)
    assert state.status is final
    assert [(c.from_status, c.to_status, c.at) for c in changes] == [
        (before, after, T0 + ms(elapsed)) for before, after, elapsed in expected
    ]


def test_without_a_band_the_luld_state_only_ages():
    state, _ = drive([("105", 0)])
    aged, changes = on_band_price(SYMBOL, state, D("1"), None, T0 + ms(15_000))
    assert aged.status is PAUSED
    assert [c.to_status for c in changes] == [PAUSED]
    assert drive([("1", 0)], band=None)[0] == OPEN_STATE


# --- halts ---------------------------------------------------------------------------------


def test_a_manual_halt_needs_a_reason_and_keeps_it():
    with pytest.raises(ValueError, match="reason"):
        manual_halt("  ", T0)
    halt = manual_halt("erroneous prints on the feed", T0)
    assert (halt.status, halt.until, halt.reason, halt.detail) == (
        HALTED,
        None,
        "MANUAL_HALT",
        "erroneous prints on the feed",
    )
    assert manual_resume(T0).status is OPEN


SPLIT = HaltWindow(et("2026-11-24 09:00"), et("2026-11-24 10:00"), "4-for-1 split")
EARNINGS = HaltWindow(et("2026-11-24 09:30"), et("2026-11-24 11:00"), "earnings")

SCHEDULE_ROWS = [
    ("before the window: open", et("2026-11-24 08:59:59.999"), OPEN, None),
    ("from its start: halted", et("2026-11-24 09:00"), HALTED, et("2026-11-24 10:00")),
    (
        "overlapping windows: the one ending last",
        et("2026-11-24 09:45"),
        HALTED,
        et("2026-11-24 11:00"),
    ),
    ("at its end: open", et("2026-11-24 11:00"), OPEN, None),
]


@pytest.mark.parametrize(
    ("moment", "status", "until"),
    [row[1:] for row in SCHEDULE_ROWS],
    ids=[row[0] for row in SCHEDULE_ROWS],
)
def test_corporate_action_windows(moment, status, until):
    state = scheduled_halt([SPLIT, EARNINGS], moment)
    assert (state.status, state.until) == (status, until)
    if status is HALTED:
        assert state.reason == "CORPORATE_ACTION"


def test_a_halt_window_round_trips_through_strings():
    assert HaltWindow.from_dict(SPLIT.to_dict()) == SPLIT


def test_a_halt_window_must_end_after_it_starts():
    with pytest.raises(ValueError, match="end after"):
        HaltWindow(T0, T0, "nothing")


# --- the published state -------------------------------------------------------------------


def breakers_after(prices):
    breakers = InstrumentBreakers()
    changes = ()
    for price, elapsed in prices:
        breakers, new = on_price(SYMBOL, breakers, D(price), BAND, T0 + ms(elapsed))
        changes += new
    return breakers, changes


def test_a_fast_jump_to_the_band_is_a_velocity_pause_over_a_limit_state():
    breakers, changes = breakers_after([("100", 0), ("106", 500)])
    assert breakers.luld.status is LIMIT
    assert breakers.velocity.pause.status is PAUSED
    published = published_state(breakers, T0 + ms(500))
    assert (published.status, published.reason) == (PAUSED, "VELOCITY_PAUSE")
    assert {c.reason for c in changes} == {"LULD_LIMIT_STATE_UPPER", "VELOCITY_PAUSE"}


def test_after_the_velocity_pause_the_luld_pause_shows():
    breakers, _ = breakers_after([("100", 0), ("106", 500)])
    at_ten = published_state(breakers, T0 + ms(10_500))
    assert (at_ten.status, at_ten.reason) == (LIMIT, "LULD_LIMIT_STATE_UPPER")
    at_fifteen = published_state(breakers, T0 + ms(15_500))
    assert (at_fifteen.status, at_fifteen.reason) == (PAUSED, "LULD_PAUSE")


PUBLISHED_ROWS = [
    (
        "a market-wide halt over a limit state",
        {"market_wide": MarketState(HALTED, T0 + timedelta(minutes=15), "MWCB_LEVEL_1", T0)},
        HALTED,
        "MWCB_LEVEL_1",
    ),
    (
        "close_only from the oracle over a limit state",
        {"oracle": MarketState(CLOSE_ONLY, None, "ORACLE_STALE", T0)},
        CLOSE_ONLY,
        "ORACLE_STALE",
    ),
    (
        "a corporate action over a limit state",
        {"scheduled": [HaltWindow(T0, T0 + timedelta(hours=1), "split")]},
        HALTED,
        "CORPORATE_ACTION",
    ),
    ("the limit state alone", {}, LIMIT, "LULD_LIMIT_STATE_UPPER"),
]


@pytest.mark.parametrize(
    ("inputs", "status", "reason"),
    [row[1:] for row in PUBLISHED_ROWS],
    ids=[row[0] for row in PUBLISHED_ROWS],
)
def test_published_state_precedence(inputs, status, reason):
    breakers, _ = breakers_after([("105", 0)])
    published = published_state(breakers, T0 + ms(1), **inputs)
    assert (published.status, published.reason) == (status, reason)


def test_a_manual_halt_outranks_and_outlasts_everything():
    breakers, _ = breakers_after([("105", 0)])
    halted = InstrumentBreakers(breakers.luld, breakers.velocity, manual_halt("review", T0))
    for elapsed in (0, 15_000, 10_000_000):
        assert published_state(halted, T0 + ms(elapsed)).reason == "MANUAL_HALT"


def test_transitions_over_the_change_instants_are_exact():
    breakers, _ = breakers_after([("100", 0), ("106", 500)])
    window = HaltWindow(T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), "dividend")
    changes = transitions_over(
        SYMBOL,
        lambda moment: published_state(breakers, moment, scheduled=[window]),
        T0 + ms(500),
        T0 + timedelta(hours=1),
        change_instants(breakers, scheduled=[window]),
    )
    assert [(c.to_status, c.reason, c.at) for c in changes] == [
        (LIMIT, "LULD_LIMIT_STATE_UPPER", T0 + ms(10_500)),
        (PAUSED, "LULD_PAUSE", T0 + ms(15_500)),
        (OPEN, "LULD_PAUSE_ENDED", T0 + ms(315_500)),
        (HALTED, "CORPORATE_ACTION", T0 + timedelta(minutes=10)),
        (OPEN, "CORPORATE_ACTION_ENDED", T0 + timedelta(minutes=20)),
    ]


def test_instrument_breakers_round_trip_through_strings():
    breakers, _ = breakers_after([("100", 0), ("106", 500)])
    breakers = InstrumentBreakers(breakers.luld, breakers.velocity, manual_halt("review", T0))
    stored = breakers.to_dict()
    assert all(isinstance(value, str) for value in stored.values())
    assert InstrumentBreakers.from_dict(stored) == breakers
    assert InstrumentBreakers.from_dict(InstrumentBreakers().to_dict()) == InstrumentBreakers()
