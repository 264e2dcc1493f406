"""Oracle health: a market whose outside price cannot be trusted goes ``close_only``.

DESIGN.md, "Markets" and issue 6: when the external feed is stale, or disagrees with the
venue's own book by more than a threshold, new risk must not be added against a price nobody
outside the venue vouches for; existing positions may still be reduced (``close_only``).

- Stale: the last external tick is ``oracle_max_age`` old or older (30 s in the regular
  session, 2 min pre-market and after-hours). Sessions with None (overnight, weekend,
  holiday) expect no feed, so its silence is not a failure there.
- Diverging: both prices seen within ``comparison_max_age`` and
  ``|book - external| > external x max_divergence`` (default 5%, strictly beyond).

Computed on read from the last external and book prices, so the state is exact at any instant:
it is stale from ``external.at + oracle_max_age`` exactly, and that instant is its ``since``.
An input is fresh while younger than its cut-off, the same rule as the reference's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from risk.markets.sessions import SessionParameters
from risk.markets.state import OPEN_STATE, MarketState, MarketStatus, Reason
from risk.markets.ticks import PricePoint


@dataclass(frozen=True, slots=True)
class OracleParameters:
    max_divergence: Decimal = Decimal("0.05")
    comparison_max_age: timedelta = timedelta(seconds=60)


DEFAULT_ORACLE_PARAMETERS = OracleParameters()


def oracle_state(
    external: PricePoint | None,
    book: PricePoint | None,
    now: datetime,
    session_params: SessionParameters,
    params: OracleParameters = DEFAULT_ORACLE_PARAMETERS,
) -> MarketState:
    """``close_only`` with the reason, or ``open``."""
    max_age = session_params.oracle_max_age
    if max_age is not None:
        if external is None:
            return MarketState(MarketStatus.CLOSE_ONLY, None, Reason.ORACLE_STALE.value)
        if now - external.at >= max_age:
            return MarketState(
                MarketStatus.CLOSE_ONLY, None, Reason.ORACLE_STALE.value, external.at + max_age
            )
    if external is None or book is None:
        return OPEN_STATE
    horizon = now - params.comparison_max_age
    if external.at < horizon or book.at < horizon:
        return OPEN_STATE
    if abs(book.price - external.price) > external.price * params.max_divergence:
        return MarketState(
            MarketStatus.CLOSE_ONLY,
            None,
            Reason.ORACLE_DIVERGENCE.value,
            max(external.at, book.at),
        )
    return OPEN_STATE


def oracle_stale_at(
    external: PricePoint | None, session_params: SessionParameters
) -> datetime | None:
    """The instant the feed goes stale if nothing more arrives (a sweeper's candidate instant)."""
    if external is None or session_params.oracle_max_age is None:
        return None
    return external.at + session_params.oracle_max_age
