"""Micro-benchmark of the pure market-safety core: sessions, bands, references, states.

These functions sit on the tick path and (sessions, bands, effective state) on the pre-trade
hot path, whose stateless part has a 12 µs median budget (DESIGN.md, "Performance targets").
Every call is timed on its own with ``time.perf_counter_ns`` after a warm-up, so the p99 shows
pauses a mean would hide; times are integer nanoseconds rendered as Decimal microseconds.
The ``timer_overhead`` row (an empty call) is the same-run baseline included in every row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bench.timing import row
from risk.markets.bands import price_band
from risk.markets.breakers import InstrumentBreakers, on_price, published_state
from risk.markets.oracle_health import oracle_state
from risk.markets.reference_price import ReferenceParameters, ReferenceState, update_reference
from risk.markets.sessions import DEFAULTS, SessionName, session_at
from risk.markets.state import MarketState, MarketStatus, effective_state
from risk.markets.ticks import PriceTick, TickSource

_NEW_YORK = ZoneInfo("America/New_York")


def _et(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=_NEW_YORK).astimezone(UTC)


def _cycle(values: list) -> Callable[[], object]:
    return itertools.cycle(values).__next__


def _stream(first, step: Callable) -> Callable[[], object]:
    """A call that advances a state by one tick each time (pure state in, state out)."""
    holder = [first]

    def call() -> object:
        holder[0] = step(holder[0])
        return holder[0]

    return call


def run(quick: bool = False) -> list[dict]:
    """Rows of ``name``, ``median_us``, ``p99_us`` (Decimal), ``n`` and ``note``."""
    n = 20_000 if quick else 200_000
    week = [_et("2026-11-23 00:00") + timedelta(minutes=7 * k) for k in range(1440)]
    midday = _et("2026-11-24 12:00")
    evening = _et("2026-11-24 17:00")
    regular = session_at(midday)
    after_hours = session_at(evening)
    rows = [row("timer_overhead", lambda: None, n, "baseline: an empty call, in every row")]

    next_instant = _cycle(week)
    rows.append(
        row(
            "session_at XNYS",
            lambda: session_at(next_instant()),
            n,
            "instants cycled over a week: every session name",
        )
    )
    rows.append(row("session_at 24x7", lambda: session_at(midday, "24x7"), n, "continuous"))

    regular_params, after_params = DEFAULTS[SessionName.REGULAR], DEFAULTS[SessionName.AFTER_HOURS]
    reference, tick = Decimal("190.1234"), Decimal("0.01")
    rows.append(
        row(
            "price_band regular",
            lambda: price_band(reference, 1, tick, regular, regular_params),
            n,
            "tier 1, $190, tick 0.01",
        )
    )
    rows.append(
        row(
            "price_band after_hours",
            lambda: price_band(reference, 2, tick, after_hours, after_params),
            n,
            "tier 2 with the session multiplier",
        )
    )

    rows.append(row("update_reference regular (LULD)", _luld_stream(midday), n, _LULD_NOTE))
    rows.append(row("update_reference off-hours blend", _blend_stream(evening), n, _BLEND_NOTE))

    limit = MarketState(
        MarketStatus.LIMIT_STATE, midday + timedelta(seconds=15), "LULD_LIMIT_STATE_UPPER", midday
    )
    before, after = midday + timedelta(seconds=14), midday + timedelta(minutes=10)
    rows.append(
        row("effective_state no deadline passed", lambda: effective_state(limit, before), n, "")
    )
    rows.append(
        row(
            "effective_state two deadlines passed",
            lambda: effective_state(limit, after),
            n,
            "limit state -> pause -> open, resolved on read",
        )
    )
    breakers = InstrumentBreakers(luld=limit)
    oracle = oracle_state(None, None, midday, regular_params)
    rows.append(
        row(
            "published_state all causes",
            lambda: published_state(breakers, before, oracle=oracle),
            n,
            "manual, scheduled, market-wide, velocity, LULD, oracle",
        )
    )
    band = price_band(reference, 1, tick, regular, regular_params)
    rows.append(
        row(
            "on_price LULD + velocity",
            _breaker_stream(midday, band),
            n,
            "a tick per 100 ms: about 10 prices in the 1 s look-back",
        )
    )
    return rows


_LULD_NOTE = "a tick per second: 300 prices in the 5-minute window (session given)"
_BLEND_NOTE = "close, feed and book all fresh; EMA, clamp, discovery bounds (20x)"


def _luld_stream(start) -> Callable[[], object]:
    prices = [Decimal("190.00") + Decimal(k % 7) / 100 for k in range(7)]
    counter = itertools.count(1)
    session = session_at(start)

    def step(state: ReferenceState) -> ReferenceState:
        k = next(counter)
        moment = start + timedelta(seconds=k)
        tick = PriceTick(TickSource.EXTERNAL, prices[k % 7], moment)
        return update_reference(state, tick, moment, session)

    return _stream(ReferenceState(), step)


def _blend_stream(start) -> Callable[[], object]:
    params = ReferenceParameters(max_leverage=Decimal(20))
    close_at = session_at(start).last_official_close
    state = ReferenceState(price=Decimal("190"), updated_at=start)
    close = PriceTick(TickSource.CLOSE, Decimal("190.00"), close_at)
    state = update_reference(state, close, start, session_at(start), params)
    sources = [TickSource.EXTERNAL, TickSource.BOOK]
    counter = itertools.count(1)
    session = session_at(start)

    def step(current: ReferenceState) -> ReferenceState:
        k = next(counter)
        moment = start + timedelta(microseconds=100 * k)
        price = Decimal("190.50") + Decimal(k % 5) / 100
        tick = PriceTick(sources[k % 2], price, moment)
        return update_reference(current, tick, moment, session, params)

    return _stream(state, step)


def _breaker_stream(start, band) -> Callable[[], object]:
    prices = [Decimal("190.00") + Decimal(k % 9) / 100 for k in range(9)]
    counter = itertools.count(1)

    def step(breakers: InstrumentBreakers) -> InstrumentBreakers:
        k = next(counter)
        moment = start + timedelta(milliseconds=100 * k)
        return on_price("AAPL-PERP", breakers, prices[k % 9], band, moment)[0]

    return _stream(InstrumentBreakers(), step)
