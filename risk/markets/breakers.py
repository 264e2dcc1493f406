"""The market state machine of one instrument: LULD limit states and pauses, velocity pauses,
manual and scheduled halts, composed with the market-wide breaker and oracle health.

LULD (RULES.md §1; LULD plan §VI-§VII): a price at or through a band edge puts the market in
the limit state for 15 s; a price strictly back inside the band ends it; if it has not ended
within 15 s the market pauses for 5 minutes and then reopens. While paused, prices do not move
the LULD state. Which price drives it is the caller's choice; the venue's book mark is the one
a band protects.

Each cause is kept as its own :class:`MarketState` with a deadline, and the published state is
the most restrictive of them at the instant asked (``risk.markets.state``: halted > paused >
close_only > limit_state > open). Manual halts (operator scope, a reason required) have no
end until resumed; corporate-action halts (splits, dividends, earnings) are windows scheduled
in advance and are inputs, as are the market-wide halt and the oracle state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from risk.markets.bands import Band
from risk.markets.state import (
    DEFAULT_LULD_TIMING,
    OPEN_STATE,
    LuldTiming,
    MarketState,
    MarketStatus,
    Reason,
    Transition,
    deadlines,
    most_restrictive,
    resolve,
    transition_between,
)
from risk.markets.ticks import format_instant, parse_instant, require_aware
from risk.markets.velocity import (
    DEFAULT_VELOCITY_PARAMETERS,
    NO_RECENT_PRICES,
    VelocityParameters,
    VelocityState,
    on_velocity_price,
)


def on_band_price(
    instrument: str,
    luld: MarketState,
    price: Decimal,
    band: Band | None,
    now: datetime,
    timing: LuldTiming = DEFAULT_LULD_TIMING,
) -> tuple[MarketState, tuple[Transition, ...]]:
    """The LULD state after ``price`` at ``now``. Deadlines that passed before ``now`` are
    resolved first, so a price arriving exactly at 15.000 s finds the market already paused.
    Without a band (no reference price) the LULD state only ages."""
    luld, transitions = resolve(instrument, luld, now, timing)
    if band is None:
        return luld, transitions
    following = luld
    if luld.status is MarketStatus.OPEN and band.is_reached_by(price):
        reason = (
            Reason.LULD_LIMIT_STATE_UPPER if price >= band.upper else Reason.LULD_LIMIT_STATE_LOWER
        )
        following = MarketState(
            MarketStatus.LIMIT_STATE, now + timing.limit_state, reason.value, now
        )
    elif luld.status is MarketStatus.LIMIT_STATE and band.is_strictly_inside(price):
        following = MarketState(MarketStatus.OPEN, None, None, now)
    change = transition_between(instrument, luld, following, now)
    if change is not None:
        transitions = (*transitions, change)
    return following, transitions


def manual_halt(reason: str, now: datetime) -> MarketState:
    """An operator's halt: no end until resumed; the operator's words kept as ``detail``."""
    require_aware(now)
    if not reason.strip():
        raise ValueError("a manual halt needs a reason")
    return MarketState(MarketStatus.HALTED, None, Reason.MANUAL_HALT.value, now, reason.strip())


def manual_resume(now: datetime) -> MarketState:
    require_aware(now)
    return MarketState(MarketStatus.OPEN, None, None, now)


@dataclass(frozen=True, slots=True)
class HaltWindow:
    """A halt scheduled in advance, [starts_at, ends_at): a split, a dividend, earnings."""

    starts_at: datetime
    ends_at: datetime
    detail: str
    reason: str = Reason.CORPORATE_ACTION.value

    def __post_init__(self) -> None:
        require_aware(self.starts_at, "starts_at")
        require_aware(self.ends_at, "ends_at")
        if not self.starts_at < self.ends_at:
            raise ValueError("a halt window must end after it starts")

    def to_dict(self) -> dict[str, str]:
        return {
            "starts_at": format_instant(self.starts_at),
            "ends_at": format_instant(self.ends_at),
            "detail": self.detail,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> HaltWindow:
        starts_at, ends_at = parse_instant(fields["starts_at"]), parse_instant(fields["ends_at"])
        if starts_at is None or ends_at is None:
            raise ValueError("a halt window needs both ends")
        reason = fields.get("reason") or Reason.CORPORATE_ACTION.value
        return cls(starts_at, ends_at, fields["detail"], reason)


def scheduled_halt(windows: Iterable[HaltWindow], now: datetime) -> MarketState:
    """The halt of the window covering ``now`` that ends last, or ``open``."""
    covering = [window for window in windows if window.starts_at <= now < window.ends_at]
    if not covering:
        return OPEN_STATE
    window = max(covering, key=lambda window: window.ends_at)
    return MarketState(
        MarketStatus.HALTED, window.ends_at, window.reason, window.starts_at, window.detail
    )


@dataclass(frozen=True, slots=True)
class InstrumentBreakers:
    """The causes stored per instrument. The market-wide halt is shared, scheduled windows
    are reference data, and oracle health is computed from the reference inputs, so those
    three are passed in when the state is read."""

    luld: MarketState = OPEN_STATE
    velocity: VelocityState = NO_RECENT_PRICES
    manual: MarketState = OPEN_STATE

    def to_dict(self) -> dict[str, str]:
        fields = {f"luld_{key}": value for key, value in self.luld.to_dict().items()}
        fields |= {f"velocity_{key}": value for key, value in self.velocity.to_dict().items()}
        fields |= {f"manual_{key}": value for key, value in self.manual.to_dict().items()}
        return fields

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> InstrumentBreakers:
        return cls(
            luld=MarketState.from_dict(_prefixed(fields, "luld_")),
            velocity=VelocityState.from_dict(_prefixed(fields, "velocity_")),
            manual=MarketState.from_dict(_prefixed(fields, "manual_")),
        )


def _prefixed(fields: dict[str, str], prefix: str) -> dict[str, str]:
    return {key[len(prefix) :]: value for key, value in fields.items() if key.startswith(prefix)}


def on_price(
    instrument: str,
    breakers: InstrumentBreakers,
    price: Decimal,
    band: Band | None,
    now: datetime,
    *,
    timing: LuldTiming = DEFAULT_LULD_TIMING,
    velocity: VelocityParameters = DEFAULT_VELOCITY_PARAMETERS,
) -> tuple[InstrumentBreakers, tuple[Transition, ...]]:
    """Feed one price to the instrument's own breakers (LULD and velocity).

    The transitions are those of each cause; the published state's transitions come from
    comparing :func:`published_state` before and after (or :func:`transitions_over`).
    """
    luld, luld_changes = on_band_price(instrument, breakers.luld, price, band, now, timing)
    pace, velocity_changes = on_velocity_price(instrument, breakers.velocity, price, now, velocity)
    return InstrumentBreakers(luld, pace, breakers.manual), luld_changes + velocity_changes


def published_state(
    breakers: InstrumentBreakers,
    now: datetime,
    *,
    market_wide: MarketState = OPEN_STATE,
    scheduled: Iterable[HaltWindow] = (),
    oracle: MarketState = OPEN_STATE,
    timing: LuldTiming = DEFAULT_LULD_TIMING,
) -> MarketState:
    """The state the API shows and the pre-trade check obeys, exact at ``now``."""
    require_aware(now)
    return most_restrictive(
        (
            breakers.manual,
            scheduled_halt(scheduled, now),
            market_wide,
            breakers.velocity.pause,
            breakers.luld,
            oracle,
        ),
        now,
        timing,
    )


def change_instants(
    breakers: InstrumentBreakers,
    *,
    market_wide: MarketState = OPEN_STATE,
    scheduled: Iterable[HaltWindow] = (),
    timing: LuldTiming = DEFAULT_LULD_TIMING,
) -> tuple[datetime, ...]:
    """Every instant at which the published state may change by itself, for
    :func:`risk.markets.state.transitions_over` (add the oracle's stale instant to them)."""
    instants = [
        *deadlines(breakers.luld, timing),
        *deadlines(breakers.velocity.pause, timing),
        *deadlines(breakers.manual, timing),
        *deadlines(market_wide, timing),
    ]
    for window in scheduled:
        instants += [window.starts_at, window.ends_at]
    return tuple(sorted(instants))
