"""Market-wide circuit breakers, after NYSE Rule 7.12 (RULES.md §2).

The decline is measured on the ``is_market_index`` instrument against the last official close
(the session's ``last_official_close``; in the regular session that is the prior day's close):

| level | decline | halt                                                                |
|-------|---------|---------------------------------------------------------------------|
| 1     | 7%      | 15 minutes, once per trade date, not at or after close - 35 min     |
| 2     | 13%     | 15 minutes, once per trade date, not at or after close - 35 min     |
| 3     | 20%     | to the end of the trade date (20:00 ET, when the next one begins)   |

"At or after 3:25 pm" is written as 35 minutes before the regular close, so an early close at
13:00 stops levels 1 and 2 from 12:25, as Rule 7.12 does for early closes. Each level is
reached by a decline of at least its percentage.

The policy for nights and weekends (RULES.md §2 asks for it written down and configurable):
breakers are measured in every XNYS session by default (``active_sessions``), against the
last official close. A trade date runs 20:00-20:00 ET (see ``risk.markets.sessions``), so
"once a day" means once per trade date: a level 1 halt overnight uses up that day's level 1. After
the regular close of a trading day only level 3 can trigger (the 3:25 rule still holds then); on a
weekend or holiday trade date there is no close, so levels 1 and 2 can trigger at any hour.
Reaching a level also uses up the levels below it, so a recovery from -14% through -8% does not
halt again. Level 3 halts until 20:00 ET -- the rest of the trading day, after-hours included.

Affected instruments: the equity-like ones, i.e. product class ``equity_perp`` or
``rwa_token`` on the ``XNYS`` calendar. Instruments on the NYSE calendar follow US equities;
``24x7`` crypto markets and stablecoins do not, even when the venue halts its stock perps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from risk.markets.sessions import XNYS, SessionInfo, SessionName
from risk.markets.state import (
    DEFAULT_LULD_TIMING,
    OPEN_STATE,
    MarketState,
    MarketStatus,
    Reason,
    effective_state,
)
from risk.markets.ticks import require_aware

EQUITY_LIKE_PRODUCT_CLASSES = frozenset({"equity_perp", "rwa_token"})
_LEVEL_REASONS = {1: Reason.MWCB_LEVEL_1, 2: Reason.MWCB_LEVEL_2, 3: Reason.MWCB_LEVEL_3}


@dataclass(frozen=True, slots=True)
class MarketWideParameters:
    level_1: Decimal = Decimal("0.07")
    level_2: Decimal = Decimal("0.13")
    level_3: Decimal = Decimal("0.20")
    halt: timedelta = timedelta(minutes=15)
    last_trigger_before_close: timedelta = timedelta(minutes=35)
    active_sessions: frozenset[SessionName] = frozenset(SessionName) - {SessionName.CONTINUOUS}


DEFAULT_MARKET_WIDE_PARAMETERS = MarketWideParameters()


@dataclass(frozen=True, slots=True)
class MarketWideState:
    """The venue-wide breaker: the levels used on ``trade_date`` and the halt, if any."""

    trade_date: date | None = None
    triggered_levels: frozenset[int] = frozenset()
    halt: MarketState = OPEN_STATE

    def to_dict(self) -> dict[str, str]:
        fields = {f"halt_{key}": value for key, value in self.halt.to_dict().items()}
        fields["trade_date"] = self.trade_date.isoformat() if self.trade_date else ""
        fields["triggered_levels"] = ",".join(str(level) for level in sorted(self.triggered_levels))
        return fields

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> MarketWideState:
        halt = {
            key[len("halt_") :]: value for key, value in fields.items() if key.startswith("halt_")
        }
        levels = fields.get("triggered_levels", "")
        trade_date = fields.get("trade_date", "")
        return cls(
            trade_date=date.fromisoformat(trade_date) if trade_date else None,
            triggered_levels=frozenset(int(level) for level in levels.split(",") if level),
            halt=MarketState.from_dict(halt),
        )


def decline_level(
    price: Decimal,
    last_close: Decimal,
    params: MarketWideParameters = DEFAULT_MARKET_WIDE_PARAMETERS,
) -> int | None:
    """The highest level whose decline ``price`` has reached against ``last_close``."""
    decline = last_close - price
    for level, fraction in ((3, params.level_3), (2, params.level_2), (1, params.level_1)):
        if decline >= last_close * fraction:
            return level
    return None


def on_index_price(
    state: MarketWideState,
    price: Decimal,
    last_close: Decimal | None,
    now: datetime,
    session: SessionInfo,
    params: MarketWideParameters = DEFAULT_MARKET_WIDE_PARAMETERS,
) -> tuple[MarketWideState, int | None]:
    """The breaker after the index prints ``price`` at ``now``; the level triggered, if any.

    No ``last_close`` (none received since the last official close) means nothing to measure
    against: no breaker fires, and the oracle and band checks remain.
    """
    require_aware(now)
    if session.name not in params.active_sessions or session.trade_date is None:
        return state, None
    halt = effective_state(state.halt, now, DEFAULT_LULD_TIMING)
    used = state.triggered_levels if state.trade_date == session.trade_date else frozenset()
    current = MarketWideState(session.trade_date, used, halt)
    if last_close is None or not last_close > 0:
        return current, None
    level = decline_level(price, last_close, params)
    if level is None or level in used:
        return current, None
    if level == 3:
        until = session.trade_date_ends_at
    else:
        cutoff = (
            session.regular_close - params.last_trigger_before_close
            if session.regular_close is not None
            else None
        )
        if cutoff is not None and now >= cutoff:
            return current, None
        until = now + params.halt
    reason = _LEVEL_REASONS[level].value
    halted = MarketState(MarketStatus.HALTED, until, reason, now)
    return MarketWideState(session.trade_date, used | set(range(1, level + 1)), halted), level


def is_subject_to_market_wide_breakers(product_class: str, calendar: str) -> bool:
    return calendar == XNYS and product_class in EQUITY_LIKE_PRODUCT_CLASSES


def affected_instruments(instruments: Iterable[tuple[str, str, str]]) -> tuple[str, ...]:
    """Symbols a market-wide halt applies to, from (symbol, product_class, calendar) rows."""
    return tuple(
        symbol
        for symbol, product_class, calendar in instruments
        if is_subject_to_market_wide_breakers(product_class, calendar)
    )
