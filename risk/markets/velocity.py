"""Velocity logic: a fast move pauses the market briefly (RULES.md §6, after CME).

A band catches a price that has gone too far from the reference; velocity logic catches one
that is going too fast, even inside a band -- which matters off-hours, where bands are wider
and the reference follows slowly. Shipped default: a move of more than 5% against any price
seen in the last second (inclusive: a price exactly 1.000 s old counts) pauses trading for
10 s. The move is measured against each earlier price, so a 5.01% drop from the second's high
pauses even if the second opened lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from risk.markets.state import (
    DEFAULT_LULD_TIMING,
    OPEN_STATE,
    MarketState,
    MarketStatus,
    Reason,
    Transition,
    resolve,
    transition_between,
)
from risk.markets.ticks import PricePoint, format_points, parse_points

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class VelocityParameters:
    threshold: Decimal = Decimal("0.05")
    look_back: timedelta = timedelta(seconds=1)
    pause: timedelta = timedelta(seconds=10)


DEFAULT_VELOCITY_PARAMETERS = VelocityParameters()


@dataclass(frozen=True, slots=True)
class VelocityState:
    """The prices within the look-back window, and the velocity pause if one is running."""

    recent: tuple[PricePoint, ...] = ()
    pause: MarketState = OPEN_STATE

    def to_dict(self) -> dict[str, str]:
        fields = {f"pause_{key}": value for key, value in self.pause.to_dict().items()}
        fields["recent"] = format_points(self.recent)
        return fields

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> VelocityState:
        pause = {
            key[len("pause_") :]: value for key, value in fields.items() if key.startswith("pause_")
        }
        return cls(
            recent=parse_points(fields.get("recent", "")), pause=MarketState.from_dict(pause)
        )


NO_RECENT_PRICES = VelocityState()


def is_too_fast(recent: tuple[PricePoint, ...], price: Decimal, threshold: Decimal) -> bool:
    """More than ``threshold`` away from some recent price, relative to that price."""
    if not recent:
        return False
    highest = max(point.price for point in recent)
    lowest = min(point.price for point in recent)
    return price < highest * (_ONE - threshold) or price > lowest * (_ONE + threshold)


def on_velocity_price(
    instrument: str,
    state: VelocityState,
    price: Decimal,
    now: datetime,
    params: VelocityParameters = DEFAULT_VELOCITY_PARAMETERS,
) -> tuple[VelocityState, tuple[Transition, ...]]:
    """The velocity state after ``price`` at ``now``; a running pause is not extended."""
    pause, transitions = resolve(instrument, state.pause, now, DEFAULT_LULD_TIMING)
    horizon = now - params.look_back
    recent = tuple(point for point in state.recent if point.at >= horizon)
    if pause.status is MarketStatus.OPEN and is_too_fast(recent, price, params.threshold):
        paused = MarketState(
            MarketStatus.PAUSED, now + params.pause, Reason.VELOCITY_PAUSE.value, now
        )
        change = transition_between(instrument, pause, paused, now)
        assert change is not None
        transitions = (*transitions, change)
        pause = paused
    return VelocityState((*recent, PricePoint(price, now)), pause), transitions
