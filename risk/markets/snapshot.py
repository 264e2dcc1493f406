"""The instruments' policy snapshot: one snapshot of the instruments table and the market
configuration, built from the database by one query and stamped with the ``instruments``
and ``sessions`` policy versions it was built from (``core.policy``), so the tick path,
state reads and the pre-trade check never query the ORM.

Two readers, one build: the market controller reads ``market`` (every instrument's
definition and the per-session parameters, ``MarketSnapshot``); the pre-trade check and
the order lifecycle read ``instruments`` (every instrument's trading terms). Both come from
the same rows, with one decimal normalisation (``core.decimals.plain``, as the selectors
write it), so no reader sees a definition and terms of different versions.

Readers off the hot path call ``verified()`` once per request (one read of the announced
versions; a rebuild only when they moved), then ``current()``. A symbol the snapshot does
not know triggers one rebuild (``refreshed``). The pre-trade check asks ``holder.current()``
and lets its account step say when the snapshot is older than announced
(``holder.at_least``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType

from core import policy
from core.decimals import plain
from core.policy import SnapshotHolder
from risk.markets import selectors
from risk.markets.config import MarketConfig, load_market_config
from risk.markets.controller import MarketSnapshot
from risk.markets.record import InstrumentDefinition
from risk.models import Instrument

COMPONENTS = (policy.INSTRUMENTS, policy.SESSIONS)


@dataclass(frozen=True, slots=True)
class InstrumentTerms:
    """The contract's per-instrument limits (API.md, instruments), as the pre-trade check
    enforces them. ``open_interest_cap_lots`` is the platform cap in lots, rounded down
    (towards safety), worked out once per snapshot rather than once per order."""

    symbol: str
    product_class: str
    tick_size: Decimal
    lot_size: Decimal
    max_leverage: Decimal
    max_order_quantity: Decimal
    max_order_notional: Decimal
    max_position_notional: Decimal
    open_interest_cap: Decimal
    open_interest_cap_lots: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cap_lots = (self.open_interest_cap / self.lot_size).to_integral_value(ROUND_FLOOR)
        object.__setattr__(self, "open_interest_cap_lots", int(cap_lots))

    def lots(self, quantity: Decimal) -> int:
        """``quantity`` in lots, rounded up (towards safety): what the atomic steps count."""
        return int((quantity / self.lot_size).to_integral_value(ROUND_CEILING))


def terms_of(row: Instrument, definition: InstrumentDefinition) -> InstrumentTerms:
    """The row's terms; tick size (and leverage, for the definition) as the selectors
    normalise them, the limits exactly as stored (the answers quote them)."""
    return InstrumentTerms(
        symbol=row.symbol,
        product_class=row.product_class,
        tick_size=definition.tick_size,
        lot_size=Decimal(plain(row.lot_size)),
        max_leverage=row.max_leverage,
        max_order_quantity=row.max_order_quantity,
        max_order_notional=row.max_order_notional,
        max_position_notional=row.max_position_notional,
        open_interest_cap=row.open_interest_cap,
    )


@dataclass(frozen=True, slots=True)
class InstrumentSnapshot:
    """Every instrument's definition (``market``) and trading terms (``instruments``), and
    the market configuration, immutable."""

    market: MarketSnapshot
    instruments: Mapping[str, InstrumentTerms]

    @property
    def versions(self) -> Mapping[str, int]:
        return self.market.versions

    @property
    def config(self) -> MarketConfig:
        return self.market.config

    @property
    def definitions(self) -> Mapping[str, InstrumentDefinition]:
        return self.market.instruments

    @property
    def version(self) -> str:
        """The part of a decision's ``policy_version`` that names this snapshot."""
        return f"i{self.versions[policy.INSTRUMENTS]}.s{self.versions[policy.SESSIONS]}"

    def terms(self, symbol: str) -> InstrumentTerms | None:
        return self.instruments.get(symbol)

    def product_class(self, symbol: str) -> str | None:
        terms = self.instruments.get(symbol)
        return None if terms is None else terms.product_class


def build(previous: InstrumentSnapshot | None) -> InstrumentSnapshot:
    versions = policy.versions_in_database()
    definitions, instruments = {}, {}
    for row in Instrument.objects.all():
        definition = definitions[row.symbol] = selectors.definition_of(row)
        instruments[row.symbol] = terms_of(row, definition)
    market = MarketSnapshot(
        instruments=MappingProxyType(definitions),
        config=load_market_config(versions[policy.SESSIONS]),
        versions=MappingProxyType({name: versions[name] for name in COMPONENTS}),
    )
    return InstrumentSnapshot(market=market, instruments=MappingProxyType(instruments))


holder: SnapshotHolder[InstrumentSnapshot] = SnapshotHolder(build, COMPONENTS)


def current() -> MarketSnapshot:
    return holder.current().market


def verified() -> MarketSnapshot:
    return holder.verified().market


def refreshed() -> MarketSnapshot:
    """Rebuild now (after this process changed instruments, or on an unknown symbol)."""
    holder.reset()
    return holder.current().market
