"""How one tick moves one market record: reference, instrument breakers, and -- on the
market index -- the market-wide breaker. Pure: a record and a tick in, a record out.

Which prices drive what (documented choices, issue 6):

- Every accepted tick feeds the reference (``risk.markets.reference_price``), which decides
  by source.
- The LULD band and velocity logic watch the price the venue trades at: its ``book`` mark
  (``risk.markets.breakers``: "the venue's book mark is the one a band protects"). While the
  venue has no live mark (none within the book's staleness cut-off), the ``external`` price stands
  in, so an instrument fed only by its oracle is still protected. ``close`` ticks drive nothing.
- Market-wide breakers are measured on the index's ``external`` price -- the index level
  itself -- against its last official close (RULES.md §2). A thin print on the venue's own
  index book must not halt every equity market.
- A tick refused by rule (``risk.markets.reference_price.tick_rejection``) changes nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from risk.markets.breakers import on_price
from risk.markets.config import MarketConfig
from risk.markets.market_wide import is_subject_to_market_wide_breakers, on_index_price
from risk.markets.record import MarketRecord
from risk.markets.reference_price import (
    ReferenceParameters,
    ReferenceState,
    TickRejection,
    reference_at,
    tick_rejection,
    update_reference,
)
from risk.markets.sessions import SessionInfo
from risk.markets.state import MarketState
from risk.markets.ticks import PriceTick, TickSource
from risk.markets.view import band_around, session_of


@dataclass(frozen=True, slots=True)
class TickEffect:
    record: MarketRecord
    rejection: TickRejection | None = None
    market_wide_level: int | None = None


def drives_breakers(
    reference: ReferenceState, tick: PriceTick, now: datetime, params: ReferenceParameters
) -> bool:
    if tick.source is TickSource.BOOK:
        return True
    if tick.source is TickSource.EXTERNAL:
        book = reference.book
        return book is None or now - book.at >= params.book_max_age
    return False


def official_close(reference: ReferenceState, session: SessionInfo) -> Decimal | None:
    """The close received since the last official close; an older one measures nothing."""
    close, last_close = reference.close, session.last_official_close
    if close is None or last_close is None or close.at < last_close:
        return None
    return close.price


def newer_market_wide(current: MarketState, halt: MarketState) -> MarketState:
    """Fan-out is idempotent: a halt replaces the one in place only if it began later."""
    if current.since is None or (halt.since is not None and halt.since > current.since):
        return halt
    return current


def apply_tick(
    record: MarketRecord, tick: PriceTick, now: datetime, config: MarketConfig
) -> TickEffect:
    definition = record.definition
    assert definition is not None, "ticks need the instrument's definition"
    session = session_of(definition, now)
    session_params = config.session_params(session.name)
    params = config.reference_for(definition.max_leverage)
    before = record.reference
    rejection = tick_rejection(before, tick, now, session, params)
    if rejection is not None:
        return TickEffect(record, rejection)
    reference = update_reference(before, tick, now, session, params, session_params)
    record = record.with_changes(reference=reference)
    if drives_breakers(before, tick, now, params):
        band = band_around(
            reference_at(reference, now, session, params),
            definition,
            session,
            session_params,
            config,
        )
        breakers, _ = on_price(
            record.symbol,
            record.breakers,
            tick.price,
            band,
            now,
            timing=config.luld_timing,
            velocity=config.velocity,
        )
        record = record.with_changes(breakers=breakers)
    if definition.is_market_index and tick.source is TickSource.EXTERNAL:
        index_breaker, level = on_index_price(
            record.index_breaker,
            tick.price,
            official_close(reference, session),
            now,
            session,
            config.market_wide,
        )
        record = record.with_changes(index_breaker=index_breaker)
        if level is not None:
            if is_subject_to_market_wide_breakers(definition.product_class, definition.calendar):
                record = record.with_changes(
                    market_wide=newer_market_wide(record.market_wide, index_breaker.halt)
                )
            return TickEffect(record, None, level)
    return TickEffect(record)
