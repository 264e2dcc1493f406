"""The market controller: the one place that changes a market's stored record.

It runs the pure rules (``risk.markets.price_feed``, ``risk.markets.breakers``,
``risk.markets.view``) against an abstract :class:`~risk.markets.store.MarketStore` and an explicit
``now``, so the same code runs live (Redis, the system clock) and in replay (a dict, a virtual
clock). Every write goes through :meth:`MarketController._write`, which

1. reads the instrument's record and advances its time to ``max(now, announced_at)`` so one
   instrument's history never runs backwards, whatever the workers' clocks say;
2. finds the transitions its deadlines made since the last write (``transitions_since``),
3. applies the change, and records the transition it makes at ``now``, if any;
4. writes the record, the publication (``pub_`` fields) and the transitions in one
   optimistic transaction (retried on conflict).

The first write of an instrument establishes its state and announces nothing.

For the pre-trade engineer: :func:`market_view` (one instrument's view at ``now``, from a
hash you may already have fetched) and :func:`risk.markets.record.parse_market_hash`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from risk.markets.breakers import HaltWindow, InstrumentBreakers, manual_halt, manual_resume
from risk.markets.config import DEFAULT_MARKET_CONFIG, MarketConfig
from risk.markets.market_wide import affected_instruments
from risk.markets.price_feed import apply_tick, newer_market_wide
from risk.markets.record import (
    InstrumentDefinition,
    MarketRecord,
    decode_hash,
    kill_state,
    parse_market_hash,
    record_fields,
)
from risk.markets.reference_price import TickRejection
from risk.markets.state import (
    MarketState,
    MarketStatus,
    Transition,
    effective_state,
    transition_between,
)
from risk.markets.store import MarketStore, MarketWrite
from risk.markets.ticks import PriceTick
from risk.markets.view import (
    PUBLICATION_FIELDS,
    MarketView,
    compute_view,
    publication_due,
    publish,
    published_at,
    transitions_since,
    view_from_publication,
)

__all__ = [
    "MarketController",
    "MarketSnapshot",
    "MarketUpdate",
    "MarketView",
    "UnknownInstrument",
    "parse_market_hash",
]


class UnknownInstrument(LookupError):
    """No instrument of that symbol is defined."""


class MarketAlreadyHalted(Exception):
    """An operator's halt is already in place; resume it before halting again."""


class MarketNotHalted(Exception):
    """There is no operator's halt to resume."""


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """The instruments and configuration the controller works with, immutable."""

    instruments: Mapping[str, InstrumentDefinition]
    config: MarketConfig = DEFAULT_MARKET_CONFIG
    versions: Mapping[str, int] = field(default_factory=dict)
    """The ``instruments`` and ``sessions`` policy versions it was built from."""

    @property
    def market_index(self) -> InstrumentDefinition | None:
        return next((i for i in self.instruments.values() if i.is_market_index), None)

    def subject_to_market_wide(self) -> tuple[str, ...]:
        return affected_instruments(
            (i.symbol, i.product_class, i.calendar) for i in self.instruments.values()
        )


@dataclass(frozen=True, slots=True)
class MarketUpdate:
    """The outcome of one write: the view right after it, the transitions it recorded (at
    their exact instants), the ticks refused by rule as (position, reason), and the
    market-wide halt it triggered with the transitions of its fan-out."""

    view: MarketView
    transitions: tuple[Transition, ...] = ()
    ignored: tuple[tuple[int, TickRejection], ...] = ()
    market_wide_level: int | None = None
    fan_out: tuple[Transition, ...] = field(default=())


Edit = Callable[[MarketRecord, datetime], tuple[MarketRecord, Any]]


class MarketController:
    def __init__(
        self,
        store: MarketStore,
        snapshot: Callable[[], MarketSnapshot],
        refresh: Callable[[], MarketSnapshot] | None = None,
    ) -> None:
        self.store = store
        self._snapshot = snapshot
        self._refresh = refresh

    def snapshot_with(self, symbol: str) -> MarketSnapshot:
        """The snapshot, rebuilt once if it does not know ``symbol`` yet."""
        snapshot = self._snapshot()
        if symbol not in snapshot.instruments and self._refresh is not None:
            snapshot = self._refresh()
        if symbol not in snapshot.instruments:
            raise UnknownInstrument(symbol)
        return snapshot

    def definition(self, symbol: str) -> InstrumentDefinition:
        return self.snapshot_with(symbol).instruments[symbol]

    # --- reading ---------------------------------------------------------------------------

    def view(self, symbol: str, now: datetime, raw: Mapping | None = None) -> MarketView:
        """The market at ``now``, exact. ``raw``: the hash, if the caller fetched it already
        (HGETALL or a Lua script); otherwise it is read here in one round trip."""
        snapshot = self._snapshot()
        if symbol not in snapshot.instruments and self._refresh is not None:
            snapshot = self._refresh()
        if raw is None:
            fields = self.store.read_fields(symbol, PUBLICATION_FIELDS)
            if publication_due(fields, now):
                fields = self.store.read(symbol)
        else:
            fields = decode_hash(raw)
        stored = InstrumentDefinition.from_dict(
            symbol, {k[4:]: v for k, v in fields.items() if k.startswith("def_")}
        )
        known = snapshot.instruments.get(symbol)
        definition = (
            known if stored is None or (known and known.version >= stored.version) else stored
        )
        if definition is None:
            raise UnknownInstrument(symbol)
        fast = view_from_publication(symbol, fields, definition, now, snapshot.config)
        if fast is not None:
            return fast
        if raw is None and "ref_price" not in fields:
            fields = self.store.read(symbol)
        record = parse_market_hash(symbol, fields, with_windows=False)
        return compute_view(record.with_changes(definition=definition), now, snapshot.config)

    def views(self, symbols: Iterable[str], now: datetime) -> list[MarketView]:
        hashes = self.store.read_many(symbols)
        return [self.view(symbol, now, raw) for symbol, raw in hashes.items()]

    # --- writing ---------------------------------------------------------------------------

    def _write(
        self, symbol: str, now: datetime, edit: Edit, *, republish: bool = False
    ) -> tuple[Any, MarketUpdate]:
        """(the edit's result, the update); nothing is written when nothing changed, unless
        ``republish`` (the configuration changed under a stored publication)."""
        snapshot = self.snapshot_with(symbol)
        definition = snapshot.instruments[symbol]
        config = snapshot.config
        stored_definition = {"def_" + k: v for k, v in definition.to_dict().items()}

        def change(fields: dict[str, str]) -> MarketWrite:
            record = parse_market_hash(symbol, fields).with_changes(definition=definition)
            announced = record.announced_at
            at = now if announced is None or now >= announced else announced
            transitions = (
                () if announced is None else transitions_since(record, announced, at, config)
            )
            edited, result = edit(record, at)
            stale = (
                publication_due(fields, at)
                or fields.get("pub_config") != str(config.version)
                or any(fields.get(name) != value for name, value in stored_definition.items())
            )
            if edited == record and not transitions and not stale and not republish:
                view = view_from_publication(symbol, fields, definition, at, config)
                view = view or compute_view(record, at, config)
                return MarketWrite(None, (), (result, MarketUpdate(view)))
            edited = edited.with_changes(announced_at=at)
            if announced is not None:
                before = published_at(record, at, config)
                change = transition_between(symbol, before, published_at(edited, at, config), at)
                if change is not None:
                    transitions = (*transitions, change)
            view, published = publish(edited, at, config)
            update = MarketUpdate(view, transitions)
            return MarketWrite(record_fields(edited) | published, transitions, (result, update))

        return self.store.update(symbol, change)

    def apply_ticks(self, symbol: str, ticks: Sequence[PriceTick], now: datetime) -> MarketUpdate:
        """Apply one instrument's ticks in order, in one transaction. A level of the
        market-wide breaker triggered on the index is then fanned out into every affected
        instrument's own record (cluster-safe: no reader ever looks across slots)."""
        config = self._snapshot().config

        def edit(record: MarketRecord, at: datetime):
            ignored, level = [], None
            for position, tick in enumerate(ticks):
                effect = apply_tick(record, tick, at, config)
                if effect.rejection is not None:
                    ignored.append((position, effect.rejection))
                    continue
                record = effect.record
                level = effect.market_wide_level or level
            halt = record.index_breaker.halt if level is not None else None
            return record, (tuple(ignored), level, halt)

        (ignored, level, halt), update = self._write(symbol, now, edit)
        fan_out: tuple[Transition, ...] = ()
        if halt is not None:
            fan_out = self.fan_out_market_wide(halt, update.view.at, exclude=(symbol,))
        return MarketUpdate(update.view, update.transitions, ignored, level, fan_out)

    def fan_out_market_wide(
        self, halt: MarketState, now: datetime, exclude: Iterable[str] = ()
    ) -> tuple[Transition, ...]:
        """Write the market-wide halt into each affected instrument's record; idempotent."""
        skipped = set(exclude)
        transitions: list[Transition] = []
        for symbol in self._snapshot().subject_to_market_wide():
            if symbol in skipped:
                continue
            _, update = self._write(symbol, now, _with_market_wide(halt))
            transitions += update.transitions
        return tuple(transitions)

    def halt(self, symbol: str, reason: str, now: datetime) -> MarketUpdate:
        def edit(record: MarketRecord, at: datetime):
            if record.breakers.manual.status is MarketStatus.HALTED:
                raise MarketAlreadyHalted(symbol)
            breakers = _replace_manual(record.breakers, manual_halt(reason, at))
            return record.with_changes(breakers=breakers), None

        return self._write(symbol, now, edit)[1]

    def resume(self, symbol: str, now: datetime) -> MarketUpdate:
        def edit(record: MarketRecord, at: datetime):
            if record.breakers.manual.status is not MarketStatus.HALTED:
                raise MarketNotHalted(symbol)
            breakers = _replace_manual(record.breakers, manual_resume(at))
            return record.with_changes(breakers=breakers), None

        return self._write(symbol, now, edit)[1]

    def set_kill_switch(
        self, symbol: str, engaged: bool, now: datetime, detail: str | None = None
    ) -> MarketUpdate:
        def edit(record: MarketRecord, at: datetime):
            if record.kill_engaged == engaged:
                return record, None
            return record.with_changes(kill=kill_state(engaged, at, detail)), None

        return self._write(symbol, now, edit)[1]

    def set_corporate_actions(
        self, symbol: str, windows: Sequence[HaltWindow], now: datetime
    ) -> MarketUpdate:
        """Replace the instrument's scheduled halts with ``windows`` (those not yet over)."""

        def edit(record: MarketRecord, at: datetime):
            kept = tuple(sorted(windows, key=lambda w: (w.starts_at, w.ends_at)))
            return record.with_changes(corporate_actions=kept), None

        return self._write(symbol, now, edit)[1]

    def sweep(
        self, symbol: str, now: datetime, market_wide: MarketState | None = None
    ) -> tuple[Transition, ...]:
        """Announce what deadlines did since the last write and refresh a publication that
        has run out; writes nothing when neither is needed. ``market_wide``: the index's
        halt still in force, re-fanned out here in case a fan-out was interrupted."""
        edit = _with_market_wide(market_wide) if market_wide is not None else _unchanged
        _, update = self._write(symbol, now, edit)
        return update.transitions

    def republish(self, symbol: str, now: datetime) -> MarketView:
        """Rewrite the publication with the current configuration (after an officer changed
        session parameters, the stored band may be one the new parameters would not draw)."""
        return self._write(symbol, now, _unchanged, republish=True)[1].view

    def market_wide_halt(self, now: datetime) -> MarketState | None:
        """The halt of the market-wide breaker still in force at ``now``, read off the index."""
        index = self._snapshot().market_index
        if index is None:
            return None
        record = parse_market_hash(index.symbol, self.store.read(index.symbol), with_windows=False)
        halt = record.index_breaker.halt
        if effective_state(halt, now).status is not MarketStatus.HALTED:
            return None
        return halt


def _unchanged(record: MarketRecord, at: datetime):
    return record, None


def _with_market_wide(halt: MarketState) -> Edit:
    def edit(record: MarketRecord, at: datetime):
        return record.with_changes(market_wide=newer_market_wide(record.market_wide, halt)), None

    return edit


def _replace_manual(breakers: InstrumentBreakers, manual: MarketState) -> InstrumentBreakers:
    return InstrumentBreakers(breakers.luld, breakers.velocity, manual)
