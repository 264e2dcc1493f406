"""The reference price: the LULD rule in the regular session, the blend off-hours
(RULES.md §1, §4; issue 6: "moves only on >= 1%", "a stale input dropped and the clamp applied")."""

from datetime import timedelta
from decimal import Decimal

import pytest

from risk.markets.reference_price import (
    ReferenceBasis,
    ReferenceParameters,
    ReferenceState,
    TickRejection,
    discovery_bounds,
    reference_at,
    tick_rejection,
    update_reference,
    weighted_median,
)
from risk.markets.sessions import DEFAULTS, SessionName, session_at
from risk.markets.ticks import PricePoint, PriceTick, TickSource
from tests.risk.clock import et

D = Decimal
EXTERNAL, BOOK, CLOSE = TickSource.EXTERNAL, TickSource.BOOK, TickSource.CLOSE
OPEN = et("2026-11-24 09:30")


def feed(ticks, state=None, params=None, calendar="XNYS"):
    """Apply (source, price, instant) ticks in order, each arriving at its own instant."""
    state = state or ReferenceState()
    params = params or ReferenceParameters()
    for source, price, moment in ticks:
        tick = PriceTick(source, D(price), moment)
        state = update_reference(state, tick, moment, session_at(moment, calendar), params)
    return state


def at(seconds, start=OPEN, milliseconds=0):
    return start + timedelta(seconds=seconds, milliseconds=milliseconds)


# --- regular session: the LULD rule --------------------------------------------------------

LULD_ROWS = [
    # name, [(price, milliseconds after the open)], reference
    ("the first eligible price of the session is the reference", [("100", 0)], "100"),
    ("a mean 0.5% away does not move it", [("100", 0), ("101", 1000)], "100"),
    (
        "a mean exactly 1% away moves it",
        [("100", 0), ("101", 1000), ("102", 2000)],
        "101.00000000",
    ),
    ("a mean 0.99% away does not move it", [("100", 0), ("101.98", 1000)], "100"),
    ("a mean 1% down moves it", [("100", 0), ("99", 1000), ("98", 2000)], "99.00000000"),
    (
        "the mean is over the preceding 5 minutes: a price exactly 5 min old is out",
        [("100", 0), ("100", 60_000), ("103", 300_000)],
        "101.50000000",
    ),
    (
        "a price 4:59.999 old is still in the mean",
        [("100", 0), ("100", 60_000), ("103", 299_999)],
        "101.00000000",
    ),
    (
        "the mean is rounded to 1e-8 half-even",
        [("100", 0), ("101.5", 1000), ("102.5", 2000)],
        "101.33333333",
    ),
]


@pytest.mark.parametrize(
    ("prices", "expected"),
    [row[1:] for row in LULD_ROWS],
    ids=[row[0] for row in LULD_ROWS],
)
def test_luld_reference(prices, expected):
    state = feed([(EXTERNAL, price, at(0, milliseconds=ms)) for price, ms in prices])
    assert state.price == D(expected)
    assert str(state.price) == expected


def test_a_moved_reference_is_the_luld_mean():
    state = feed([(EXTERNAL, price, at(s)) for price, s in [("100", 0), ("101", 1), ("102", 2)]])
    assert state.basis is ReferenceBasis.LULD_MEAN


def test_book_and_close_ticks_do_not_move_the_regular_reference():
    state = feed([(EXTERNAL, "100", at(0)), (BOOK, "150", at(1)), (CLOSE, "150", at(2))])
    assert state.price == D("100")
    assert state.book == PricePoint(D("150"), at(1))


def test_no_external_price_in_the_regular_session_means_no_reference():
    state = feed([(BOOK, "100", at(0))])
    assert state.price is None


def test_a_new_regular_session_starts_from_its_opening_price():
    yesterday = feed([(EXTERNAL, "100", at(0)), (EXTERNAL, "100", at(60))])
    today_open = et("2026-11-25 09:30")
    state = feed([(EXTERNAL, "120", today_open)], state=yesterday)
    assert state.price == D("120")
    assert state.basis is ReferenceBasis.OPENING_PRICE
    assert state.window == (PricePoint(D("120"), today_open),)


def test_the_opening_price_replaces_the_pre_market_blend():
    pre = feed([(EXTERNAL, "100", et("2026-11-24 09:00"))])
    assert pre.basis is ReferenceBasis.OFF_HOURS_BLEND
    state = feed([(EXTERNAL, "97", OPEN)], state=pre)
    assert (state.price, state.basis) == (D("97"), ReferenceBasis.OPENING_PRICE)


def test_24x7_uses_the_luld_rule_at_any_hour():
    night = et("2026-11-28 03:00")
    state = feed(
        [(EXTERNAL, p, at(s, night)) for p, s in [("100", 0), ("101", 1), ("102", 2)]],
        calendar="24x7",
    )
    assert state.price == D("101.00000000")


# --- off-hours: the blend ------------------------------------------------------------------

AFTER = et("2026-11-24 17:00")
CLOSE_AT = et("2026-11-24 16:00")
STALE_CLOSE_AT = et("2026-11-23 16:00")


def blend(ticks, state=None, params=None, now=AFTER):
    """Record ticks (without evaluating), then evaluate once at ``now``."""
    state = state or ReferenceState()
    params = params or ReferenceParameters()
    for source, price, moment in ticks:
        tick = PriceTick(source, D(price), moment)
        recorded = update_reference(state, tick, moment, session_at(moment), params)
        assert recorded is not state, f"tick {tick} was refused"
        state = ReferenceState(
            state.price,
            state.basis,
            state.updated_at,
            recorded.close,
            recorded.external,
            recorded.external_moved_at,
            recorded.book,
        )
    return update_reference(state, None, now, session_at(now), params)


MINUTE = timedelta(minutes=1)

BLEND_ROWS = [
    ("the close alone is the reference", [(CLOSE, "100", CLOSE_AT)], "100"),
    (
        "all three fresh: the median",
        [(CLOSE, "100", CLOSE_AT), (EXTERNAL, "103", AFTER), (BOOK, "101", AFTER)],
        "101",
    ),
    (
        "a book printing near zero cannot drag the median",
        [(CLOSE, "100", CLOSE_AT), (EXTERNAL, "101", AFTER), (BOOK, "0.01", AFTER)],
        "100",
    ),
    (
        "close and a live price: the live price outweighs the close",
        [(CLOSE, "100", CLOSE_AT), (BOOK, "104", AFTER)],
        "104",
    ),
    (
        "two live prices without a close: their midpoint",
        [(EXTERNAL, "100", AFTER), (BOOK, "101", AFTER)],
        "100.5",
    ),
    (
        "a stale external (2 min old) is dropped",
        [(CLOSE, "100", CLOSE_AT), (EXTERNAL, "90", AFTER - 2 * MINUTE), (BOOK, "104", AFTER)],
        "104",
    ),
    (
        "an external 1:59.999 old still counts",
        [
            (CLOSE, "100", CLOSE_AT),
            (EXTERNAL, "90", AFTER - 2 * MINUTE + timedelta(milliseconds=1)),
            (BOOK, "104", AFTER),
        ],
        "100",
    ),
    (
        "a stale book (1 min old) is dropped",
        [(CLOSE, "100", CLOSE_AT), (BOOK, "104", AFTER - MINUTE)],
        "100",
    ),
    (
        "a close from before the last official close is stale",
        [(CLOSE, "80", STALE_CLOSE_AT), (EXTERNAL, "100", AFTER), (BOOK, "101", AFTER)],
        "100.5",
    ),
]


@pytest.mark.parametrize(
    ("ticks", "expected"),
    [row[1:] for row in BLEND_ROWS],
    ids=[row[0] for row in BLEND_ROWS],
)
def test_first_off_hours_reference(ticks, expected):
    state = blend(ticks)
    assert state.price == D(expected)
    assert state.basis is ReferenceBasis.OFF_HOURS_BLEND


def test_no_usable_input_means_no_reference():
    state = blend([(CLOSE, "100", STALE_CLOSE_AT), (BOOK, "104", AFTER - MINUTE)])
    assert state.price is None
    assert state.basis is ReferenceBasis.NONE


REPEATING_ROWS = [
    (
        "a feed unchanged for 29:59.999 still counts",
        timedelta(minutes=30) - timedelta(milliseconds=1),
        "104",
    ),
    ("a feed unchanged for 30 minutes is stale: the close decides", timedelta(minutes=30), "100"),
]


@pytest.mark.parametrize(
    ("unchanged_for", "expected"),
    [row[1:] for row in REPEATING_ROWS],
    ids=[row[0] for row in REPEATING_ROWS],
)
def test_an_external_feed_repeating_itself_goes_stale(unchanged_for, expected):
    """RULES.md §4: a feed that repeats a price is not a fresh one (Chainlink off-hours)."""
    state = ReferenceState(
        close=PricePoint(D("100"), CLOSE_AT),
        external=PricePoint(D("104"), AFTER),
        external_moved_at=AFTER - unchanged_for,
    )
    assert update_reference(state, None, AFTER, session_at(AFTER)).price == D(expected)


def test_a_repeated_external_price_keeps_the_instant_it_last_moved():
    start = et("2026-11-24 16:30")
    ticks = [(EXTERNAL, "104", start + timedelta(minutes=minute)) for minute in range(3)]
    state = feed(ticks)
    assert state.external_moved_at == start
    later = start + timedelta(minutes=3)
    assert feed([(EXTERNAL, "104.5", later)], state=state).external_moved_at == later


CLAMP_ROWS = [
    ("a jump is clamped to 1% up", "100", "110", "101.00000000"),
    ("a drop is clamped to 1% down", "100", "80", "99.00000000"),
    ("a move under 1% goes through", "100", "100.5", "100.50000000"),
]


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [row[1:] for row in CLAMP_ROWS],
    ids=[row[0] for row in CLAMP_ROWS],
)
def test_each_off_hours_update_moves_at_most_one_percent(current, target, expected):
    long_ago = AFTER - timedelta(hours=1)
    state = ReferenceState(D(current), ReferenceBasis.OFF_HOURS_BLEND, long_ago)
    state = blend([(EXTERNAL, target, AFTER), (BOOK, target, AFTER)], state=state)
    assert state.price == D(expected)


def test_the_ema_moves_by_elapsed_over_the_time_constant():
    """After-hours tau is 5 minutes: 30 s later, a tenth of the gap."""
    previous = AFTER - timedelta(seconds=30)
    state = ReferenceState(D("100"), ReferenceBasis.OFF_HOURS_BLEND, previous)
    state = blend([(EXTERNAL, "100.5", AFTER), (BOOK, "100.5", AFTER)], state=state)
    assert state.price == D("100.05000000")


def test_a_burst_of_ticks_in_one_instant_does_not_walk_the_reference():
    state = ReferenceState(D("100"), ReferenceBasis.OFF_HOURS_BLEND, AFTER)
    session = session_at(AFTER)
    for step in range(100):
        tick = PriceTick(BOOK, D("150"), AFTER + timedelta(microseconds=step + 1))
        state = update_reference(state, tick, tick.at, session)
    assert D("100") < state.price < D("100.01")


def test_the_weekend_follows_more_slowly_than_the_night():
    """Overnight tau 1 h, weekend 8 h: the same 6 minutes move the night 8 times further."""
    night, weekend = et("2026-11-24 22:00"), et("2026-11-28 12:00")
    moved = {}
    for name, start in (("night", night), ("weekend", weekend)):
        state = ReferenceState(D("100"), ReferenceBasis.OFF_HOURS_BLEND, start)
        later = start + timedelta(minutes=6)
        state = update_reference(
            state, PriceTick(BOOK, D("100.8"), later), later, session_at(later)
        )
        moved[name] = state.price - D("100")
    assert moved == {"night": D("0.08"), "weekend": D("0.01")}


DISCOVERY_ROWS = [
    ("after-hours 20x at half leverage (10x): close +/-10%", AFTER, "110"),
    ("weekend 20x at a quarter (5x): close +/-20%", et("2026-11-28 12:00"), "120"),
]


@pytest.mark.parametrize(
    ("now", "expected"),
    [row[1:] for row in DISCOVERY_ROWS],
    ids=[row[0] for row in DISCOVERY_ROWS],
)
def test_the_reference_stays_inside_the_discovery_bounds(now, expected):
    params = ReferenceParameters(max_leverage=D(20))
    close_at = session_at(now).last_official_close
    ticks = [(CLOSE, "100", close_at), (EXTERNAL, "150", now), (BOOK, "150", now)]
    state = blend(ticks, params=params, now=now)
    assert state.price == D(expected)


def test_discovery_bounds_are_one_over_the_session_leverage():
    low, high = discovery_bounds(D("100"), D("20"), DEFAULTS[SessionName.REGULAR])
    assert (low, high) == (D("95"), D("105"))


def test_inputs_going_stale_without_a_tick_leave_no_reference():
    state = blend([(BOOK, "104", AFTER)])
    session = session_at(AFTER)
    assert reference_at(state, AFTER + timedelta(seconds=59), session) == D("104")
    assert reference_at(state, AFTER + timedelta(seconds=60), session) is None


def test_the_regular_reference_holds_between_ticks():
    state = feed([(EXTERNAL, "100", OPEN)])
    later = OPEN + timedelta(hours=1)
    assert reference_at(state, later, session_at(later)) == D("100")


def test_a_weighted_median_splits_weight_exactly():
    assert weighted_median([(D("1"), D("1")), (D("3"), D("1"))]) == D("2")
    assert weighted_median([(D("1"), D("1")), (D("3"), D("2"))]) == D("3")
    assert weighted_median([(D("5"), D("1")), (D("1"), D("2")), (D("3"), D("2"))]) == D("3")


# --- ticks that may not move state ---------------------------------------------------------

HELD = ReferenceState(
    D("100"),
    ReferenceBasis.LULD_MEAN,
    at(10),
    None,
    PricePoint(D("100"), at(10)),
    at(10),
    PricePoint(D("100"), at(10)),
)

REJECTION_ROWS = [
    ("a zero price", PriceTick(EXTERNAL, D("0"), at(11)), at(11), TickRejection.NON_POSITIVE_PRICE),
    (
        "a negative price",
        PriceTick(BOOK, D("-1"), at(11)),
        at(11),
        TickRejection.NON_POSITIVE_PRICE,
    ),
    ("not a number", PriceTick(BOOK, D("NaN"), at(11)), at(11), TickRejection.NON_POSITIVE_PRICE),
    (
        "a tick from the future",
        PriceTick(EXTERNAL, D("100"), at(12)),
        at(11),
        TickRejection.FUTURE_TICK,
    ),
    (
        "older than the last of its source",
        PriceTick(EXTERNAL, D("100"), at(9)),
        at(11),
        TickRejection.OUT_OF_ORDER,
    ),
    (
        "the same instant again",
        PriceTick(EXTERNAL, D("101"), at(10)),
        at(11),
        TickRejection.DUPLICATE_TICK,
    ),
    (
        "an external tick 2 min old on arrival",
        PriceTick(EXTERNAL, D("100"), at(11)),
        at(131),
        TickRejection.STALE_TICK,
    ),
    (
        "a book tick 1 min old on arrival",
        PriceTick(BOOK, D("100"), at(11)),
        at(71),
        TickRejection.STALE_TICK,
    ),
    (
        "a close older than the last official close",
        PriceTick(CLOSE, D("100"), et("2026-11-23 15:59")),
        at(11),
        TickRejection.STALE_TICK,
    ),
]


@pytest.mark.parametrize(
    ("tick", "now", "expected"),
    [row[1:] for row in REJECTION_ROWS],
    ids=[row[0] for row in REJECTION_ROWS],
)
def test_bad_ticks_are_rejected_and_do_not_move_state(tick, now, expected):
    session = session_at(now)
    assert tick_rejection(HELD, tick, now, session) is expected
    assert update_reference(HELD, tick, now, session) is HELD


def test_an_absurd_price_is_rejected_when_configured():
    params = ReferenceParameters(absurd_factor=D(10))
    tick = PriceTick(BOOK, D("9.99"), at(11))
    assert (
        tick_rejection(HELD, tick, at(11), session_at(at(11)), params) is TickRejection.ABSURD_PRICE
    )
    fine = PriceTick(BOOK, D("10"), at(11))
    assert tick_rejection(HELD, fine, at(11), session_at(at(11)), params) is None


def test_the_same_instant_from_another_source_is_accepted():
    tick = PriceTick(BOOK, D("100"), at(11))
    assert tick_rejection(HELD, tick, at(11), session_at(at(11))) is None


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        update_reference(HELD, None, at(11).replace(tzinfo=None), session_at(at(11)))


# --- storage -------------------------------------------------------------------------------


def test_reference_state_round_trips_through_strings():
    state = feed([(EXTERNAL, p, at(s)) for p, s in [("100", 0), ("101.25", 1), ("102", 2)]])
    state = feed([(BOOK, "101", at(3))], state)
    close = PriceTick(CLOSE, D("99"), et("2026-11-23 16:00:00.123456"))
    state = update_reference(state, close, at(4), session_at(at(4)))
    assert state.close is not None
    stored = state.to_dict()
    assert all(isinstance(value, str) for value in stored.values())
    assert ReferenceState.from_dict(stored) == state


def test_an_empty_reference_state_round_trips():
    assert ReferenceState.from_dict(ReferenceState().to_dict()) == ReferenceState()
