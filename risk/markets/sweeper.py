"""The market sweeper: announces transitions and samples prices. Correctness never depends
on it -- every read computes the state exactly from stored deadlines (DESIGN.md, "Markets")
-- it only makes what happened visible and durable:

1. for each instrument, records what deadlines did since the last write (limit state to
   pause at 15.000 s, pause to open, halts ending, feeds going stale) into the instrument's
   transitions stream, refreshes a publication that ran out, and re-fans-out a market-wide
   halt still in force (in case a fan-out was interrupted);
2. drains every transitions stream into ``MarketEvent`` rows, exactly once (unique on
   instrument, instant and status: a second drain of the same entry writes nothing);
3. once a minute: samples each market's reference, band and book price into ``PriceSample``
   for the console's chart, and rewrites corporate-action windows and kill switches from the
   database into Redis (a flushed Redis must not silently lift a halt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core import clock
from core.redis_client import get_redis, global_key
from risk.markets import kill_switches, selectors, signals
from risk.markets import snapshot as market_snapshot
from risk.markets.controller import MarketController
from risk.markets.live import live_controller
from risk.markets.reference_price import ReferenceParameters
from risk.markets.store import MarketStore
from risk.markets.ticks import format_instant, parse_instant, parse_point
from risk.models import MarketEvent, PriceSample

DRAIN_BATCH = 1000
SWEEP_LOCK = global_key("market_sweep_lock")
SWEEP_LOCK_MS = 10_000


@dataclass(frozen=True, slots=True)
class SweepReport:
    instruments: int = 0
    transitions: int = 0
    events_written: int = 0
    samples_written: int = 0
    skipped: bool = False


def drain_transitions(store: MarketStore, symbols) -> int:
    """Move every pending transition into ``MarketEvent``; returns rows written."""
    written = 0
    recorded_at = clock.now()
    for symbol in symbols:
        while True:
            entries = store.pending_transitions(symbol, DRAIN_BATCH)
            if not entries:
                break
            rows = [_event(symbol, fields, recorded_at) for _, fields in entries]
            before = MarketEvent.objects.filter(instrument=symbol).count()
            MarketEvent.objects.bulk_create(rows, ignore_conflicts=True)
            written += MarketEvent.objects.filter(instrument=symbol).count() - before
            signals.market_events_recorded.send(MarketEvent, events=rows, now=recorded_at)
            store.acknowledge(symbol, [entry_id for entry_id, _ in entries])
            if len(entries) < DRAIN_BATCH:
                break
    return written


def _event(symbol: str, fields: dict[str, str], recorded_at: datetime) -> MarketEvent:
    return MarketEvent(
        instrument=symbol,
        at=parse_instant(fields["at"]),
        from_status=fields["from"],
        to_status=fields["to"],
        reason=fields["reason"],
        until=parse_instant(fields.get("until", "")),
        detail=fields.get("detail", "")[:500],
        recorded_at=recorded_at,
    )


BOOK_PRICE_MAX_AGE = ReferenceParameters().book_max_age
"""A book mark older than this at the sample is no price any more: the reference stops
counting it then too, and the chart shows a gap rather than a flat line."""


def fresh_book_price(fields: dict[str, str], now: datetime) -> Decimal | None:
    """The venue's own price: the last ``book`` tick, if it is fresh at ``now``."""
    book = parse_point(fields.get("ref_book", ""))
    if book is None or not now - BOOK_PRICE_MAX_AGE <= book.at <= now:
        return None
    return book.price


def sample_prices(controller: MarketController, symbols, now: datetime) -> int:
    minute = now.replace(second=0, microsecond=0)
    rows = []
    for symbol, fields in controller.store.read_many(symbols).items():
        view = controller.view(symbol, now, fields)
        band = view.band
        rows.append(
            PriceSample(
                instrument=view.symbol,
                at=minute,
                session=view.session.value,
                state=view.state.value,
                reference_price=view.reference_price,
                band_lower=None if band is None else band.lower,
                band_upper=None if band is None else band.upper,
                book_price=fresh_book_price(fields, now),
            )
        )
    return len(PriceSample.objects.bulk_create(rows, ignore_conflicts=True))


def resync_from_database(controller: MarketController, symbols, now: datetime) -> None:
    for symbol in symbols:
        controller.set_corporate_actions(
            symbol, selectors.corporate_action_windows(symbol, now), now
        )
    kill_switches.sync_to_redis(now)


def _claim_minute(now: datetime) -> bool:
    minute = format_instant(now.replace(second=0, microsecond=0))
    return bool(get_redis().set(global_key(f"market_minute:{minute}"), "1", nx=True, ex=600))


def sweep(now: datetime | None = None) -> SweepReport:
    """One pass over every instrument; skipped while another pass holds the lock."""
    redis = get_redis()
    if not redis.set(SWEEP_LOCK, "1", nx=True, px=SWEEP_LOCK_MS):
        return SweepReport(skipped=True)
    try:
        now = now or clock.now()
        controller = live_controller()
        snapshot = market_snapshot.verified()
        symbols = sorted(snapshot.instruments)
        halt = controller.market_wide_halt(now)
        affected = set(snapshot.subject_to_market_wide()) if halt is not None else set()
        transitions = 0
        for symbol in symbols:
            transitions += len(controller.sweep(symbol, now, halt if symbol in affected else None))
        events = drain_transitions(controller.store, symbols)
        samples = 0
        if _claim_minute(now):
            samples = sample_prices(controller, symbols, now)
            resync_from_database(controller, symbols, now)
        return SweepReport(len(symbols), transitions, events, samples)
    finally:
        redis.delete(SWEEP_LOCK)
