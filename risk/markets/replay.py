"""Tape replay: feed recorded prices through the same market controller on a virtual clock
(DESIGN.md, "Markets": for black-swan simulation and back-tests).

A tape is a CSV with a header ``ts,instrument,source,price`` (lines starting with ``#`` are
comments), in time order. Each row is applied at its own instant -- ``now`` is the row's
``ts`` -- through :class:`risk.markets.controller.MarketController` over an in-memory store.
Before a row is applied, every instrument whose publication has run out is swept, so transitions
made by deadlines (a limit state becoming a pause at 15.000 s, a halt ending, a feed going stale)
are reported at their exact instants, in time order, as if a sweeper had been watching.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from core.clock import ManualClock, isoformat_z, use_clock
from risk.markets.config import DEFAULT_MARKET_CONFIG, MarketConfig
from risk.markets.controller import MarketController, MarketSnapshot
from risk.markets.record import InstrumentDefinition
from risk.markets.reference_price import TickRejection
from risk.markets.state import Transition
from risk.markets.store import MemoryMarketStore
from risk.markets.ticks import PriceTick, TickSource, parse_instant

NEW_YORK = ZoneInfo("America/New_York")
TAPE_COLUMNS = ("ts", "instrument", "source", "price")


class TapeError(ValueError):
    """A tape row that cannot be replayed; names the line."""


@dataclass(frozen=True, slots=True)
class TapeRow:
    line: int
    at: datetime
    instrument: str
    source: TickSource
    price: Decimal


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """A transition, or a tick refused by rule, as the replay reports it."""

    at: datetime
    instrument: str
    kind: str
    from_status: str = ""
    to_status: str = ""
    reason: str = ""
    until: datetime | None = None
    detail: str = ""


@dataclass
class ReplayResult:
    rows: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    events: list[ReplayEvent] = field(default_factory=list)

    @property
    def transitions(self) -> list[ReplayEvent]:
        return [event for event in self.events if event.kind == "transition"]

    @property
    def ignored(self) -> list[ReplayEvent]:
        return [event for event in self.events if event.kind == "ignored"]


def read_tape(path: Path) -> list[TapeRow]:
    rows = []
    with path.open(newline="") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        reader = csv.DictReader(lines)
        if tuple(reader.fieldnames or ()) != TAPE_COLUMNS:
            raise TapeError(f"{path}: the header must be {','.join(TAPE_COLUMNS)}")
        previous = None
        for number, record in enumerate(reader, start=1):
            try:
                at = parse_instant(record["ts"])
                source = TickSource(record["source"])
                price = Decimal(record["price"])
            except (ValueError, InvalidOperation) as exc:
                raise TapeError(f"{path} row {number}: {exc}") from None
            if at is None or (previous is not None and at < previous):
                raise TapeError(f"{path} row {number}: the tape must be in time order")
            previous = at
            rows.append(TapeRow(number, at, record["instrument"], source, price))
    return rows


def _transition_event(transition: Transition) -> ReplayEvent:
    return ReplayEvent(
        at=transition.at,
        instrument=transition.instrument,
        kind="transition",
        from_status=transition.from_status.value,
        to_status=transition.to_status.value,
        reason=transition.reason,
        until=transition.until,
        detail=transition.detail or "",
    )


def _ignored_event(row: TapeRow, rejection: TickRejection) -> ReplayEvent:
    return ReplayEvent(
        at=row.at,
        instrument=row.instrument,
        kind="ignored",
        reason=rejection.value,
        detail=f"{row.source.value} {row.price} (tape row {row.line})",
    )


def replay(
    rows: list[TapeRow],
    snapshot: MarketSnapshot,
    *,
    speed: float = 0.0,
    until: datetime | None = None,
    on_event: Callable[[ReplayEvent], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayResult:
    """Replay ``rows``; ``speed`` > 0 sleeps the tape's time divided by it between rows."""
    result = ReplayResult(rows=len(rows))
    if not rows:
        return result
    unknown = sorted({row.instrument for row in rows} - set(snapshot.instruments))
    if unknown:
        raise TapeError(f"the tape names instruments nobody defined: {', '.join(unknown)}")
    store = MemoryMarketStore()
    controller = MarketController(store, lambda: snapshot)
    written: set[str] = set()

    def emit(events: Iterable[ReplayEvent]) -> None:
        for event in events:
            result.events.append(event)
            if on_event is not None:
                on_event(event)

    def sweep_due(now: datetime) -> None:
        found = []
        for symbol in sorted(written):
            recheck = parse_instant(store.read(symbol).get("pub_recheck_at", ""))
            if recheck is not None and recheck <= now:
                found += controller.sweep(symbol, now)
        emit(_transition_event(t) for t in sorted(found, key=lambda t: (t.at, t.instrument)))

    virtual = ManualClock(rows[0].at)
    result.started_at = rows[0].at
    with use_clock(virtual):
        previous = rows[0].at
        for row in rows:
            if speed > 0 and row.at > previous:
                sleep((row.at - previous).total_seconds() / speed)
            previous = row.at
            virtual.set(row.at)
            sweep_due(row.at)
            update = controller.apply_ticks(
                row.instrument, [PriceTick(row.source, row.price, row.at)], row.at
            )
            written.add(row.instrument)
            emit(_ignored_event(row, rejection) for _, rejection in update.ignored)
            changes = sorted(
                (*update.transitions, *update.fan_out), key=lambda t: (t.at, t.instrument)
            )
            written.update(t.instrument for t in update.fan_out)
            emit(_transition_event(t) for t in changes)
        end = max(until or rows[-1].at, rows[-1].at)
        virtual.set(end)
        sweep_due(end)
        result.ended_at = end
    return result


def snapshot_for(
    symbols: Iterable[str],
    definitions: dict[str, InstrumentDefinition],
    fallback: dict[str, InstrumentDefinition],
    config: MarketConfig = DEFAULT_MARKET_CONFIG,
) -> MarketSnapshot:
    """Definitions for a tape: the given ones, with ``fallback`` (the demo instruments) for
    symbols they do not define. At most one market index is kept: the given one wins."""
    instruments = dict(definitions)
    has_index = any(d.is_market_index for d in instruments.values())
    for symbol in symbols:
        if symbol not in instruments and symbol in fallback:
            demo = fallback[symbol]
            if demo.is_market_index and has_index:
                continue
            instruments[symbol] = demo
            has_index = has_index or demo.is_market_index
    return MarketSnapshot(MappingProxyType(instruments), config)


def format_event(event: ReplayEvent, started_at: datetime) -> str:
    elapsed = (event.at - started_at) // timedelta(milliseconds=1)
    hours, elapsed = divmod(elapsed, 3_600_000)
    minutes, elapsed = divmod(elapsed, 60_000)
    clock_text = f"+{hours:02d}:{minutes:02d}:{elapsed // 1000:02d}.{elapsed % 1000:03d}"
    local = event.at.astimezone(NEW_YORK).strftime("%a %H:%M:%S.%f")[:-3]
    head = f"{isoformat_z(event.at)}  {local} ET  {clock_text:>12}  {event.instrument:<10}"
    if event.kind == "ignored":
        return f"{head}  ignored  {event.reason:<24} {event.detail}"
    until = f"  until {isoformat_z(event.until)}" if event.until else ""
    change = f"{event.from_status} -> {event.to_status}"
    return f"{head}  {change:<24} {event.reason}{until}"


REPORT_COLUMNS = (
    "at",
    "new_york",
    "elapsed_s",
    "instrument",
    "event",
    "from",
    "to",
    "reason",
    "until",
    "detail",
)


def write_report(path: Path, result: ReplayResult) -> None:
    assert result.started_at is not None
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for event in result.events:
            writer.writerow(
                [
                    isoformat_z(event.at),
                    event.at.astimezone(NEW_YORK).isoformat(timespec="milliseconds"),
                    f"{(event.at - result.started_at).total_seconds():.3f}",
                    event.instrument,
                    event.kind,
                    event.from_status,
                    event.to_status,
                    event.reason,
                    isoformat_z(event.until) if event.until else "",
                    event.detail,
                ]
            )
