"""States with deadlines resolve exactly at any millisecond; the most restrictive cause wins
(RULES.md §1: 15 s in the limit state, then a 5-minute pause)."""

from datetime import timedelta

import pytest

from risk.markets.state import (
    OPEN_STATE,
    PRECEDENCE,
    MarketState,
    MarketStatus,
    Reason,
    Transition,
    deadlines,
    effective_state,
    most_restrictive,
    resolve,
    transition_between,
    transitions_over,
)
from tests.risk.clock import et, ms

T0 = et("2026-11-24 10:00")
LIMIT = MarketState(
    MarketStatus.LIMIT_STATE, T0 + ms(15_000), Reason.LULD_LIMIT_STATE_UPPER.value, T0
)
PAUSE_ENDS = T0 + ms(15_000) + timedelta(minutes=5)

LIMIT_ROWS = [
    ("limit state at entry", 0, MarketStatus.LIMIT_STATE),
    ("limit state at 14.999 s", 14_999, MarketStatus.LIMIT_STATE),
    ("paused at 15.000 s", 15_000, MarketStatus.PAUSED),
    ("paused at 5 min 14.999 s", 314_999, MarketStatus.PAUSED),
    ("open at 5 min 15.000 s", 315_000, MarketStatus.OPEN),
    ("still open a day later", 86_400_000, MarketStatus.OPEN),
]


@pytest.mark.parametrize(
    ("elapsed_ms", "expected"),
    [row[1:] for row in LIMIT_ROWS],
    ids=[row[0] for row in LIMIT_ROWS],
)
def test_limit_state_pauses_and_reopens_at_exact_deadlines(elapsed_ms, expected):
    assert effective_state(LIMIT, T0 + ms(elapsed_ms)).status is expected


def test_the_pause_runs_from_the_moment_the_15_seconds_ran_out():
    paused = effective_state(LIMIT, T0 + ms(200_000))
    assert paused == MarketState(
        MarketStatus.PAUSED, PAUSE_ENDS, Reason.LULD_PAUSE.value, T0 + ms(15_000)
    )


def test_the_reopened_state_begins_at_the_deadline_not_at_the_read():
    assert effective_state(LIMIT, T0 + timedelta(hours=1)).since == PAUSE_ENDS


def test_resolve_stamps_each_transition_at_its_deadline():
    state, transitions = resolve("AAPL-PERP", LIMIT, T0 + timedelta(hours=1))
    assert state.status is MarketStatus.OPEN
    assert transitions == (
        Transition(
            "AAPL-PERP",
            MarketStatus.LIMIT_STATE,
            MarketStatus.PAUSED,
            "LULD_PAUSE",
            T0 + ms(15_000),
            PAUSE_ENDS,
        ),
        Transition(
            "AAPL-PERP", MarketStatus.PAUSED, MarketStatus.OPEN, "LULD_PAUSE_ENDED", PAUSE_ENDS
        ),
    )


def test_resolve_before_a_deadline_changes_nothing():
    assert resolve("AAPL-PERP", LIMIT, T0 + ms(14_999)) == (LIMIT, ())


def test_deadlines_lists_every_future_change():
    assert deadlines(LIMIT) == (T0 + ms(15_000), PAUSE_ENDS)
    assert deadlines(OPEN_STATE) == ()


def test_a_halt_with_a_deadline_reopens_exactly_then():
    halt = MarketState(MarketStatus.HALTED, T0 + timedelta(minutes=15), "MWCB_LEVEL_1", T0)
    assert effective_state(halt, T0 + timedelta(minutes=15) - ms(1)).status is MarketStatus.HALTED
    assert effective_state(halt, T0 + timedelta(minutes=15)).status is MarketStatus.OPEN


def test_a_state_without_deadline_lasts():
    halt = MarketState(MarketStatus.HALTED, None, "MANUAL_HALT", T0)
    assert effective_state(halt, T0 + timedelta(days=30)) is halt


def test_precedence_order():
    assert PRECEDENCE == (
        MarketStatus.HALTED,
        MarketStatus.PAUSED,
        MarketStatus.CLOSE_ONLY,
        MarketStatus.LIMIT_STATE,
        MarketStatus.OPEN,
    )


HALT = MarketState(MarketStatus.HALTED, T0 + timedelta(minutes=15), "MWCB_LEVEL_1", T0)
PAUSE = MarketState(MarketStatus.PAUSED, T0 + ms(10_000), "VELOCITY_PAUSE", T0)
CLOSE_ONLY = MarketState(MarketStatus.CLOSE_ONLY, None, "ORACLE_STALE", T0)

PRECEDENCE_ROWS = [
    ("halted beats everything", [LIMIT, CLOSE_ONLY, PAUSE, HALT], HALT),
    ("paused beats close_only", [CLOSE_ONLY, PAUSE], PAUSE),
    ("close_only beats limit_state", [LIMIT, CLOSE_ONLY], CLOSE_ONLY),
    ("limit_state beats open", [OPEN_STATE, LIMIT], LIMIT),
    ("nothing at all is open", [], OPEN_STATE),
]


@pytest.mark.parametrize(
    ("states", "expected"),
    [row[1:] for row in PRECEDENCE_ROWS],
    ids=[row[0] for row in PRECEDENCE_ROWS],
)
def test_the_most_restrictive_cause_is_published(states, expected):
    assert most_restrictive(states, T0 + ms(1)) == expected


def test_an_expired_cause_no_longer_counts():
    assert most_restrictive([PAUSE, CLOSE_ONLY], T0 + ms(10_000)) == CLOSE_ONLY


def test_the_limit_state_becomes_a_pause_that_beats_close_only():
    published = most_restrictive([LIMIT, CLOSE_ONLY], T0 + ms(15_000))
    assert (published.status, published.reason) == (MarketStatus.PAUSED, "LULD_PAUSE")


def test_of_two_halts_the_longer_is_published():
    manual = MarketState(MarketStatus.HALTED, None, "MANUAL_HALT", T0)
    assert most_restrictive([HALT, manual], T0) == manual
    later = MarketState(MarketStatus.HALTED, T0 + timedelta(hours=1), "CORPORATE_ACTION", T0)
    assert most_restrictive([HALT, later], T0) == later
    assert most_restrictive([later, HALT], T0) == later


TRANSITION_ROWS = [
    ("open to limit state names the band", OPEN_STATE, LIMIT, "LULD_LIMIT_STATE_UPPER"),
    ("back to open names what ended", LIMIT, OPEN_STATE, "LULD_LIMIT_STATE_UPPER_ENDED"),
    ("a change of cause at the same status is a transition", HALT, CLOSE_ONLY, "ORACLE_STALE"),
]


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [row[1:] for row in TRANSITION_ROWS],
    ids=[row[0] for row in TRANSITION_ROWS],
)
def test_transition_reasons(before, after, reason):
    change = transition_between("X", before, after, T0)
    assert change is not None
    assert change.reason == reason


def test_no_visible_change_is_no_transition():
    assert transition_between("X", LIMIT, LIMIT, T0) is None


def test_transitions_over_a_gap_are_exact():
    """A sweeper waking late still reports each change at the instant it happened; the
    pause outranks close_only, which shows again when the pause ends."""
    changes = transitions_over(
        "AAPL-PERP",
        lambda moment: most_restrictive([LIMIT, CLOSE_ONLY], moment),
        T0,
        T0 + timedelta(hours=1),
        deadlines(LIMIT),
    )
    assert [(c.from_status, c.to_status, c.reason, c.at) for c in changes] == [
        (MarketStatus.CLOSE_ONLY, MarketStatus.PAUSED, "LULD_PAUSE", T0 + ms(15_000)),
        (MarketStatus.PAUSED, MarketStatus.CLOSE_ONLY, "ORACLE_STALE", PAUSE_ENDS),
    ]


MARKET_STATES = [OPEN_STATE, LIMIT, HALT, PAUSE, CLOSE_ONLY]


@pytest.mark.parametrize("state", MARKET_STATES, ids=[s.status.value for s in MARKET_STATES])
def test_market_state_round_trips_through_strings(state):
    stored = state.to_dict()
    assert all(isinstance(value, str) for value in stored.values())
    assert MarketState.from_dict(stored) == state


def test_a_transition_serializes_to_strings():
    change = transition_between("AAPL-PERP", OPEN_STATE, LIMIT, T0)
    assert change is not None
    assert change.to_dict() == {
        "instrument": "AAPL-PERP",
        "from": "open",
        "to": "limit_state",
        "reason": "LULD_LIMIT_STATE_UPPER",
        "at": "2026-11-24T15:00:00.000000Z",
        "until": "2026-11-24T15:00:15.000000Z",
        "detail": "",
    }
