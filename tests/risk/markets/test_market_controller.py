"""The market controller on its in-memory store: what ticks, deadlines, halts and the
market-wide breaker do to a market, read back exactly at any instant."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk.markets.breakers import HaltWindow
from risk.markets.controller import MarketAlreadyHalted, MarketNotHalted, UnknownInstrument
from risk.markets.record import parse_market_hash
from risk.markets.reference_price import TickRejection
from risk.markets.state import MarketStatus
from risk.markets.view import compute_view, view_from_publication
from tests.risk.clock import et, ms
from tests.risk.market_fixtures import BOOK, CLOSE, EXTERNAL, D, feed, memory_controller, tick

AAPL, SPY, BTC, TSLA = "AAPL-PERP", "SPY-PERP", "BTC-PERP", "TSLA-PERP"
T0 = et("2026-11-24 10:00")
PRIOR_CLOSE = et("2026-11-23 16:00")
OPEN, LIMIT, PAUSED, HALTED, CLOSE_ONLY = (
    MarketStatus.OPEN,
    MarketStatus.LIMIT_STATE,
    MarketStatus.PAUSED,
    MarketStatus.HALTED,
    MarketStatus.CLOSE_ONLY,
)


def opened(symbol=AAPL, price="100.00", at=T0):
    """A regular-session market with a close, a feed and a book at ``price``."""
    controller = memory_controller()
    feed(
        controller,
        symbol,
        tick(CLOSE, price, PRIOR_CLOSE),
        tick(EXTERNAL, price, at),
        tick(BOOK, price, at),
    )
    return controller


def state_at(controller, moment, symbol=AAPL):
    view = controller.view(symbol, moment)
    return view.state, view.reason, view.until


def test_first_prices_give_reference_band_and_open():
    view = opened().view(AAPL, T0)
    assert view.to_contract() == {
        "symbol": AAPL,
        "state": "open",
        "session": "regular",
        "reference_price": "100.00",
        "band": {"lower": "95.00", "upper": "105.00"},
        "until": None,
        "reason": None,
    }


def test_limit_state_pause_and_reopen_at_exact_deadlines():
    controller = opened()
    touch = T0 + ms(5_000)
    update = feed(controller, AAPL, tick(EXTERNAL, "101", touch), tick(BOOK, "105.00", touch))
    assert [(t.to_status, t.reason, t.at) for t in update.transitions] == [
        (LIMIT, "LULD_LIMIT_STATE_UPPER", touch)
    ]
    paused_at, reopens_at = touch + ms(15_000), touch + ms(315_000)
    assert state_at(controller, paused_at - ms(1)) == (LIMIT, "LULD_LIMIT_STATE_UPPER", paused_at)
    assert state_at(controller, paused_at) == (PAUSED, "LULD_PAUSE", reopens_at)
    assert state_at(controller, reopens_at - ms(1))[0] is PAUSED
    # the feed went quiet at touch: by the reopening instant the oracle is stale
    assert state_at(controller, reopens_at)[:2] == (CLOSE_ONLY, "ORACLE_STALE")


def test_back_inside_within_15_s_reopens():
    controller = opened()
    feed(controller, AAPL, tick(BOOK, "105.00", T0 + ms(1_000)))
    update = feed(controller, AAPL, tick(BOOK, "104.99", T0 + ms(15_999)))
    assert [(t.from_status, t.to_status) for t in update.transitions] == [(LIMIT, OPEN)]


def test_sweep_announces_each_deadline_once_at_its_instant():
    controller = opened()
    feed(controller, AAPL, tick(EXTERNAL, "101", T0 + ms(1)), tick(BOOK, "105", T0 + ms(1)))
    later = T0 + ms(400_000)
    announced = controller.sweep(AAPL, later)
    assert [(t.from_status, t.to_status, t.reason, t.at) for t in announced] == [
        (LIMIT, PAUSED, "LULD_PAUSE", T0 + ms(15_001)),
        (PAUSED, CLOSE_ONLY, "ORACLE_STALE", T0 + ms(315_001)),
    ]
    assert controller.sweep(AAPL, later) == ()
    assert controller.sweep(AAPL, later + ms(1)) == ()


def test_first_write_announces_nothing():
    controller = memory_controller()
    update = feed(controller, AAPL, tick(CLOSE, "100", PRIOR_CLOSE), now=T0)
    assert update.transitions == ()
    assert update.view.state is CLOSE_ONLY  # a regular session without a feed


def test_velocity_pause_on_a_fast_move_inside_the_band():
    controller = opened(BTC, "100000.0")
    feed(controller, BTC, tick(BOOK, "100000.0", T0 + ms(100)))
    fast = T0 + ms(900)
    update = feed(controller, BTC, tick(EXTERNAL, "95000.0", fast), tick(BOOK, "94900.0", fast))
    assert [(t.to_status, t.reason, t.until) for t in update.transitions] == [
        (PAUSED, "VELOCITY_PAUSE", T0 + ms(10_900))
    ]
    assert state_at(controller, T0 + ms(10_899), BTC)[0] is PAUSED
    assert state_at(controller, T0 + ms(10_900), BTC)[0] is OPEN


def test_oracle_goes_stale_exactly_30_s_after_the_last_feed_tick_in_regular_hours():
    controller = opened()
    assert state_at(controller, T0 + ms(29_999))[0] is OPEN
    assert state_at(controller, T0 + ms(30_000))[:2] == (CLOSE_ONLY, "ORACLE_STALE")
    feed(controller, AAPL, tick(EXTERNAL, "100.01", T0 + ms(31_000)))
    assert state_at(controller, T0 + ms(31_000))[0] is OPEN


REFUSED_ROWS = [
    (
        "a duplicate of the last feed tick",
        tick(EXTERNAL, "100.5", T0),
        TickRejection.DUPLICATE_TICK,
    ),
    (
        "older than the last feed tick",
        tick(EXTERNAL, "100.5", T0 - ms(1)),
        TickRejection.OUT_OF_ORDER,
    ),
    ("stamped in the future", tick(EXTERNAL, "100.5", T0 + ms(10)), TickRejection.FUTURE_TICK),
    (
        "a feed tick 2 minutes old",
        tick(EXTERNAL, "100.5", T0 - ms(120_001)),
        TickRejection.OUT_OF_ORDER,
    ),
    ("a near-zero print", tick(BOOK, "0.01", T0 + ms(1)), TickRejection.ABSURD_PRICE),
    (
        "a close before the last official close",
        tick(CLOSE, "99", PRIOR_CLOSE - ms(1)),
        TickRejection.OUT_OF_ORDER,
    ),
]


@pytest.mark.parametrize(
    ("refused", "rejection"),
    [row[1:] for row in REFUSED_ROWS],
    ids=[row[0] for row in REFUSED_ROWS],
)
def test_refused_ticks_never_move_state(refused, rejection):
    controller = opened()
    before = controller.store.read(AAPL)
    update = controller.apply_ticks(AAPL, [refused], T0 + ms(1))
    assert update.ignored == ((0, rejection),)
    after = controller.store.read(AAPL)
    assert {k: v for k, v in after.items() if not k.startswith(("pub_", "announced"))} == {
        k: v for k, v in before.items() if not k.startswith(("pub_", "announced"))
    }


def test_stale_book_tick_is_refused():
    controller = opened()
    update = controller.apply_ticks(AAPL, [tick(BOOK, "100", T0 + ms(1))], T0 + ms(61_001))
    assert update.ignored == ((0, TickRejection.STALE_TICK),)


def test_a_write_never_runs_an_instruments_clock_backwards():
    controller = opened()
    update = controller.apply_ticks(AAPL, [tick(BOOK, "105", T0 + ms(500))], T0 + ms(500))
    late = controller.apply_ticks(AAPL, [tick(BOOK, "104", T0 + ms(400))], T0 + ms(450))
    assert update.view.state is LIMIT
    assert late.view.at == T0 + ms(500)
    assert late.ignored == ((0, TickRejection.OUT_OF_ORDER),)


def test_market_wide_level_1_fans_out_to_equity_markets_once_a_day():
    controller = memory_controller()
    for symbol, price in ((SPY, "5000.00"), (AAPL, "100.00"), (TSLA, "400.00"), (BTC, "100000")):
        feed(controller, symbol, tick(CLOSE, price, PRIOR_CLOSE), now=T0)
        feed(controller, symbol, tick(EXTERNAL, price, T0), tick(BOOK, price, T0))
    drop = T0 + ms(10_000)
    update = feed(controller, SPY, tick(EXTERNAL, "4650.00", drop))
    assert update.market_wide_level == 1
    halted_until = drop + timedelta(minutes=15)
    assert state_at(controller, drop, SPY) == (HALTED, "MWCB_LEVEL_1", halted_until)
    assert sorted(t.instrument for t in update.fan_out) == [AAPL, TSLA]
    assert state_at(controller, drop, AAPL) == (HALTED, "MWCB_LEVEL_1", halted_until)
    assert state_at(controller, drop, BTC)[0] is not HALTED  # 24x7 crypto is not equity-like
    assert state_at(controller, halted_until, AAPL)[0] is not HALTED
    again = feed(controller, SPY, tick(EXTERNAL, "4640.00", halted_until + ms(1)))
    assert again.market_wide_level is None  # level 1 is used up for the day
    level_2 = feed(controller, SPY, tick(EXTERNAL, "4350.00", halted_until + ms(20_000)))
    assert level_2.market_wide_level == 2
    assert state_at(controller, halted_until + ms(20_000), TSLA)[1] == "MWCB_LEVEL_2"


def test_fan_out_is_idempotent():
    controller = opened()
    feed(controller, SPY, tick(CLOSE, "5000", PRIOR_CLOSE), now=T0)
    update = feed(controller, SPY, tick(EXTERNAL, "4600", T0 + ms(1)))
    halt = controller.market_wide_halt(T0 + ms(2))
    assert halt is not None and halt.since == T0 + ms(1)
    assert controller.fan_out_market_wide(halt, T0 + ms(2)) == ()
    assert update.market_wide_level == 1


def test_manual_halt_and_resume():
    controller = opened()
    update = controller.halt(AAPL, "fat finger on the book", T0 + ms(5))
    assert (update.view.state, update.view.reason, update.view.until) == (
        HALTED,
        "MANUAL_HALT",
        None,
    )
    with pytest.raises(MarketAlreadyHalted):
        controller.halt(AAPL, "again", T0 + ms(6))
    resumed = controller.resume(AAPL, T0 + ms(7))
    assert resumed.view.state is OPEN
    assert [t.reason for t in resumed.transitions] == ["MANUAL_HALT_ENDED"]
    with pytest.raises(MarketNotHalted):
        controller.resume(AAPL, T0 + ms(8))


def test_corporate_action_window_halts_exactly():
    controller = opened()
    starts, ends = T0 + timedelta(minutes=1), T0 + timedelta(minutes=31)
    window = HaltWindow(starts, ends, "split: 4-for-1")
    controller.set_corporate_actions(AAPL, [window], T0)
    feed(controller, AAPL, tick(EXTERNAL, "100", starts - ms(1)))
    assert state_at(controller, starts - ms(1))[0] is OPEN
    assert state_at(controller, starts) == (HALTED, "CORPORATE_ACTION", ends)
    assert state_at(controller, ends - ms(1))[0] is HALTED
    assert state_at(controller, ends)[0] is not HALTED


def test_instrument_kill_switch_publishes_a_halt():
    controller = opened()
    update = controller.set_kill_switch(AAPL, True, T0 + ms(1))
    assert (update.view.state, update.view.reason, update.view.kill_switch) == (
        HALTED,
        "KILL_SWITCH",
        True,
    )
    assert controller.set_kill_switch(AAPL, False, T0 + ms(2)).view.state is OPEN


def test_unknown_instrument():
    with pytest.raises(UnknownInstrument):
        memory_controller().view("NOPE", T0)


def test_hash_round_trips():
    controller = opened()
    feed(controller, AAPL, tick(BOOK, "105", T0 + ms(3)))
    fields = controller.store.read(AAPL)
    record = parse_market_hash(AAPL, fields)
    from risk.markets.record import record_fields

    assert {k: v for k, v in record_fields(record).items()} == {
        k: v for k, v in fields.items() if not k.startswith("pub_")
    }


@settings(max_examples=60, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(1, 40_000), st.sampled_from(["100", "104", "105.5", "94", "99"])),
        min_size=1,
        max_size=8,
    ),
    probes=st.lists(st.integers(0, 900_000), min_size=1, max_size=8),
)
def test_stored_publication_equals_recomputation(moves, probes):
    """The ``pub_`` fields a Lua reader may use are what recomputing gives, whenever they
    claim to be exact."""
    controller = opened()
    moment = T0
    for gap, price in moves:
        moment += ms(gap)
        feed(controller, AAPL, tick(EXTERNAL, "100.2", moment), tick(BOOK, price, moment))
    fields = controller.store.read(AAPL)
    record = parse_market_hash(AAPL, fields)
    snapshot_config = memory_controller()._snapshot().config
    for offset in probes:
        probe = moment + ms(offset)
        stored = view_from_publication(AAPL, fields, record.definition, probe, snapshot_config)
        if stored is not None:
            assert stored == compute_view(record, probe, snapshot_config)


def test_reference_and_band_off_hours_come_from_the_blend():
    controller = memory_controller()
    evening = et("2026-11-24 17:00")
    feed(controller, AAPL, tick(CLOSE, "100.00", et("2026-11-24 16:00")), now=evening)
    update = feed(
        controller, AAPL, tick(EXTERNAL, "101.00", evening), tick(BOOK, "101.00", evening)
    )
    view = update.view
    assert view.session.value == "after_hours"
    assert view.reference_price is not None and D("100") <= view.reference_price <= D("101")
    assert view.band is not None and view.band.lower < view.reference_price < view.band.upper
    assert view.max_leverage == D("10")  # 20x regular, halved after hours (RULES.md §4)
