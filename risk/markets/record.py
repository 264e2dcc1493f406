"""One instrument's market record: everything the controller keeps about it, as one flat
map of strings -- the fields of one Redis hash, ``gh:{inst:<SYMBOL>}:market``.

One hash, one slot: the tick path updates it in one optimistic transaction, a reader gets it
in one HGETALL, and the pre-trade step can read it from a Lua script in the instrument's slot
(DESIGN.md, "The hot path"). The layout, by field prefix:

- ``def_*``: the instrument's definition (class, calendar, tier, tick, leverage, version).
- ``ref_*``: ``ReferenceState`` -- reference, basis, the last close/external/book ticks
  (``price@instant``), the LULD window.
- ``luld_*``, ``velocity_*``, ``manual_*``: ``InstrumentBreakers`` (``MarketState`` fields
  ``status``, ``until``, ``reason``, ``since``, ``detail``).
- ``mw_*``: the market-wide halt fanned out to this instrument (a ``MarketState``).
- ``mwcb_*``: the market-wide breaker itself, on the index instrument only.
- ``ca_windows``: scheduled corporate-action halts, a JSON list of ``HaltWindow``.
- ``kill_*``: the instrument's kill switch, ``kill_status = halted`` when engaged.
- ``announced_at``: transitions up to this instant are in the transitions stream.
- ``pub_*``: the published ``state``, ``reason``, ``until``, ``session``, ``reference``,
  ``lower``/``upper`` band, as computed at ``pub_at`` and exact until ``pub_recheck_at``.

Instants are RFC 3339 UTC with microseconds; empty strings mean "none".

Every state object has ``to_dict``/``from_dict`` in the pure core; this module only adds the
prefixes, so a field read back is the field written, to the microsecond.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from risk.markets.breakers import HaltWindow, InstrumentBreakers
from risk.markets.market_wide import MarketWideState
from risk.markets.reference_price import ReferenceState
from risk.markets.state import OPEN_STATE, MarketState, MarketStatus
from risk.markets.ticks import PricePoint, format_instant, format_point, parse_instant, parse_point
from risk.markets.velocity import VelocityState

KILL_SWITCH_REASON = "KILL_SWITCH"
NO_REFERENCE = ReferenceState()
NO_BREAKERS = InstrumentBreakers()
QUIET_INDEX = MarketWideState()
_WINDOW_CACHE_LIMIT = 100_000
_point_texts: dict[PricePoint, str] = {}
_text_points: dict[str, PricePoint] = {}


def _format_window(points: tuple[PricePoint, ...]) -> str:
    """The LULD window in the pure core's format (``price@instant ...``). The window is
    rewritten on every tick but changes by a point or two, so each point's text is made
    once per process: formatting 300 instants per tick cost more than the rules did."""
    texts = []
    for point in points:
        text = _point_texts.get(point)
        if text is None:
            if len(_point_texts) > _WINDOW_CACHE_LIMIT:
                _point_texts.clear()
            text = _point_texts[point] = format_point(point)
        texts.append(text)
    return " ".join(texts)


def _parse_window(text: str) -> tuple[PricePoint, ...]:
    points = []
    for token in text.split():
        point = _text_points.get(token)
        if point is None:
            if len(_text_points) > _WINDOW_CACHE_LIMIT:
                _text_points.clear()
            point = parse_point(token)
            assert point is not None
            _text_points[token] = point
        points.append(point)
    return tuple(points)


@dataclass(frozen=True, slots=True)
class InstrumentDefinition:
    """What the controller needs of an instrument's contract (API.md, "Reference data")."""

    symbol: str
    product_class: str
    calendar: str
    tier: int
    tick_size: Decimal
    max_leverage: Decimal
    is_market_index: bool = False
    version: int = 0

    def to_dict(self) -> dict[str, str]:
        return {
            "product_class": self.product_class,
            "calendar": self.calendar,
            "tier": str(self.tier),
            "tick_size": str(self.tick_size),
            "max_leverage": str(self.max_leverage),
            "is_market_index": "1" if self.is_market_index else "0",
            "version": str(self.version),
        }

    @classmethod
    def from_dict(cls, symbol: str, fields: Mapping[str, str]) -> InstrumentDefinition | None:
        if not fields.get("calendar"):
            return None
        return cls(
            symbol=symbol,
            product_class=fields["product_class"],
            calendar=fields["calendar"],
            tier=int(fields["tier"]),
            tick_size=Decimal(fields["tick_size"]),
            max_leverage=Decimal(fields["max_leverage"]),
            is_market_index=fields.get("is_market_index") == "1",
            version=int(fields.get("version") or 0),
        )


@dataclass(frozen=True, slots=True)
class MarketRecord:
    symbol: str
    definition: InstrumentDefinition | None = None
    reference: ReferenceState = NO_REFERENCE
    breakers: InstrumentBreakers = NO_BREAKERS
    market_wide: MarketState = OPEN_STATE
    index_breaker: MarketWideState = QUIET_INDEX
    corporate_actions: tuple[HaltWindow, ...] = ()
    kill: MarketState = OPEN_STATE
    announced_at: datetime | None = None

    @property
    def kill_engaged(self) -> bool:
        return self.kill.status is MarketStatus.HALTED

    def with_changes(self, **changes) -> MarketRecord:
        return replace(self, **changes)


def _add_prefix(fields: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {prefix + key: value for key, value in fields.items()}


def decode_hash(raw: Mapping) -> dict[str, str]:
    """HGETALL's bytes (or already-decoded strings) as a dict of strings."""
    return {
        (key.decode() if isinstance(key, bytes) else key): (
            value.decode() if isinstance(value, bytes) else value
        )
        for key, value in raw.items()
    }


def _grouped(fields: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Fields by prefix in one pass: ``luld_until`` goes to ``groups["luld"]["until"]``."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in fields.items():
        head, _, tail = key.partition("_")
        group = groups.get(head)
        if group is None:
            group = groups[head] = {}
        group[tail] = value
    return groups


def parse_market_hash(symbol: str, raw: Mapping, *, with_windows: bool = True) -> MarketRecord:
    """The record stored in an instrument's market hash (bytes or strings). An empty hash is
    a market nobody has written yet: open, no reference. ``with_windows=False`` skips the LULD
    and velocity price windows, which only the tick path needs (reads are faster without)."""
    groups = _grouped(decode_hash(raw))
    empty: dict[str, str] = {}
    reference_fields = groups.get("ref", empty)
    window_text = reference_fields.pop("window", "")
    reference = ReferenceState.from_dict(reference_fields)
    if with_windows and window_text:
        window = _parse_window(window_text)
        window_sum = sum((point.price for point in window), Decimal(0))
        reference = replace(reference, window=window, window_sum=window_sum)
    velocity = groups.get("velocity", empty)
    if not with_windows:
        velocity.pop("recent", None)
    windows = groups.get("ca", empty).get("windows")
    return MarketRecord(
        symbol=symbol,
        definition=InstrumentDefinition.from_dict(symbol, groups.get("def", empty)),
        reference=reference,
        breakers=InstrumentBreakers(
            luld=MarketState.from_dict(groups.get("luld", empty)),
            velocity=VelocityState.from_dict(velocity),
            manual=MarketState.from_dict(groups.get("manual", empty)),
        ),
        market_wide=MarketState.from_dict(groups.get("mw", empty)),
        index_breaker=MarketWideState.from_dict(groups.get("mwcb", empty)),
        corporate_actions=tuple(HaltWindow.from_dict(w) for w in json.loads(windows))
        if windows
        else (),
        kill=MarketState.from_dict(groups.get("kill", empty)),
        announced_at=parse_instant(groups.get("announced", empty).get("at", "")),
    )


def record_fields(record: MarketRecord) -> dict[str, str]:
    """The hash fields of ``record`` (without the ``pub_`` publication, see market_view)."""
    fields: dict[str, str] = {}
    if record.definition is not None:
        fields |= _add_prefix(record.definition.to_dict(), "def_")
    reference = record.reference
    window = reference.window
    fields |= _add_prefix(
        replace(reference, window=()).to_dict() if window else reference.to_dict(), "ref_"
    )
    fields["ref_window"] = _format_window(window)
    fields |= record.breakers.to_dict()
    fields |= _add_prefix(record.market_wide.to_dict(), "mw_")
    if record.definition is not None and record.definition.is_market_index:
        fields |= _add_prefix(record.index_breaker.to_dict(), "mwcb_")
    fields["ca_windows"] = json.dumps(
        [window.to_dict() for window in record.corporate_actions], separators=(",", ":")
    )
    fields |= _add_prefix(record.kill.to_dict(), "kill_")
    fields["announced_at"] = format_instant(record.announced_at)
    return fields


def kill_state(engaged: bool, now: datetime, detail: str | None = None) -> MarketState:
    """An engaged instrument kill switch publishes as a halt without end (RULES.md §3:
    kill switches are among the controls a market-access gateway keeps)."""
    if not engaged:
        return OPEN_STATE
    return MarketState(MarketStatus.HALTED, None, KILL_SWITCH_REASON, now, detail)
