"""Invariants, by hypothesis (issue 6): the band always contains the reference; off-hours a
tick never moves the reference by more than the clamp; deadlines resolve the same whoever
reads them and when; stored states read back identical."""

from datetime import timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from risk.markets.bands import price_band
from risk.markets.reference_price import ReferenceParameters, ReferenceState, update_reference
from risk.markets.sessions import DEFAULTS, session_at
from risk.markets.state import (
    MarketState,
    MarketStatus,
    effective_state,
    most_restrictive,
)
from risk.markets.ticks import PriceTick, TickSource
from tests.risk.clock import et

D = Decimal
WEEK_START = et("2026-11-23 00:00")
WEEK_MS = 7 * 24 * 3600 * 1000

references = st.decimals(min_value=D("0.0001"), max_value=D("100000"), places=4)
ticks = st.sampled_from([D("0.0001"), D("0.001"), D("0.01"), D("0.05"), D("0.25"), D("1")])
instants = st.integers(min_value=0, max_value=WEEK_MS).map(
    lambda offset: WEEK_START + timedelta(milliseconds=offset)
)


@settings(deadline=None, max_examples=300)
@given(
    reference=references,
    tick=ticks,
    tier=st.sampled_from([1, 2]),
    moment=instants,
    calendar=st.sampled_from(["XNYS", "24x7"]),
)
def test_the_band_always_contains_the_reference(reference, tick, tier, moment, calendar):
    assume(reference >= tick)
    session = session_at(moment, calendar)
    band = price_band(reference, tier, tick, session, DEFAULTS[session.name])
    assert tick <= band.lower <= reference < band.upper
    assert band.lower % tick == 0
    assert band.upper % tick == 0
    if reference > tick:
        assert band.lower < reference


OFF_HOURS_STARTS = [
    et("2026-11-24 16:00"),  # after-hours into the overnight
    et("2026-11-28 00:00"),  # the weekend
    et("2026-11-25 20:00"),  # the Thanksgiving holiday
]

tick_steps = st.tuples(
    st.sampled_from(list(TickSource)),
    st.decimals(min_value=D("1"), max_value=D("1000"), places=2),
    st.integers(min_value=0, max_value=600_000),
)


@settings(deadline=None, max_examples=200)
@given(
    start=st.sampled_from(OFF_HOURS_STARTS),
    opening=st.decimals(min_value=D("1"), max_value=D("1000"), places=2),
    steps=st.lists(tick_steps, min_size=1, max_size=40),
    max_leverage=st.sampled_from([None, D("2"), D("20"), D("50")]),
)
def test_off_hours_a_tick_never_moves_the_reference_beyond_the_clamp(
    start, opening, steps, max_leverage
):
    params = ReferenceParameters(max_leverage=max_leverage)
    state = ReferenceState(price=opening, updated_at=start)
    moment = start
    for source, price, elapsed_ms in steps:
        moment += timedelta(milliseconds=elapsed_ms)
        session = session_at(moment)
        assert session.is_off_hours
        before = state.price
        state = update_reference(state, PriceTick(source, price, moment), moment, session, params)
        after = state.price
        if before is not None and after is not None:
            assert abs(after - before) <= before * params.max_step
        stored = ReferenceState.from_dict(state.to_dict())
        assert stored == state


limit_entries = st.integers(min_value=0, max_value=3_600_000)
read_offsets = st.integers(min_value=0, max_value=3_600_000)


@settings(max_examples=200)
@given(entered=limit_entries, first=read_offsets, second=read_offsets)
def test_resolving_deadlines_does_not_depend_on_when_anyone_read(entered, first, second):
    earlier, later = sorted((first, second))
    since = WEEK_START + timedelta(milliseconds=entered)
    state = MarketState(
        MarketStatus.LIMIT_STATE, since + timedelta(seconds=15), "LULD_LIMIT_STATE_UPPER", since
    )
    first_read = WEEK_START + timedelta(milliseconds=earlier)
    second_read = WEEK_START + timedelta(milliseconds=later)
    assert effective_state(effective_state(state, first_read), second_read) == effective_state(
        state, second_read
    )


statuses = st.sampled_from(list(MarketStatus))
deadline_offsets = st.one_of(st.none(), st.integers(min_value=1, max_value=600_000))


@settings(max_examples=200)
@given(causes=st.lists(st.tuples(statuses, deadline_offsets), max_size=6))
def test_the_published_state_is_at_least_as_restrictive_as_every_cause(causes):
    states = [
        MarketState(
            status,
            None if offset is None else WEEK_START + timedelta(milliseconds=offset),
            status.value.upper(),
            WEEK_START,
        )
        for status, offset in causes
    ]
    published = most_restrictive(states, WEEK_START)
    for state in states:
        assert published.rank >= effective_state(state, WEEK_START).rank
