"""Market states with deadlines, resolved exactly at any instant.

A market is ``open``, in ``limit_state``, ``paused``, ``halted`` or ``close_only`` (API.md,
"Market data and market state"), each with an ``until`` and a ``reason``. Time-based changes
are not made by a timer: a state carries its deadline, and :func:`effective_state` works out
what it has become by ``now`` (DESIGN.md, "Markets": "a check is exact to the millisecond
without waiting for a timer"). A limit state that was not resolved within 15 s became a
5-minute pause at the very instant the 15 s ran out (RULES.md §1), whoever reads it and when.

Several causes can hold a market at once (a LULD pause during a market-wide halt while the
oracle is stale). The published state is the most restrictive of them, in this order:

    halted > paused > close_only > limit_state > open

A halt stops everything, for the longest. A pause is a short halt. ``close_only`` still lets
positions shrink, which a pause does not. A limit state only refuses prices beyond the band.
Between two states of the same kind, the one without an end, else the later end, wins: the
market reopens when the last cause ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from risk.markets.ticks import format_instant, parse_instant, require_aware


class MarketStatus(StrEnum):
    OPEN = "open"
    LIMIT_STATE = "limit_state"
    PAUSED = "paused"
    HALTED = "halted"
    CLOSE_ONLY = "close_only"


PRECEDENCE = (
    MarketStatus.HALTED,
    MarketStatus.PAUSED,
    MarketStatus.CLOSE_ONLY,
    MarketStatus.LIMIT_STATE,
    MarketStatus.OPEN,
)
"""Most restrictive first."""

_RANK = {status: len(PRECEDENCE) - position for position, status in enumerate(PRECEDENCE)}


class Reason(StrEnum):
    """Reason codes of the states the breakers set (upper case, API.md "Conventions")."""

    LULD_LIMIT_STATE_UPPER = "LULD_LIMIT_STATE_UPPER"
    LULD_LIMIT_STATE_LOWER = "LULD_LIMIT_STATE_LOWER"
    LULD_PAUSE = "LULD_PAUSE"
    VELOCITY_PAUSE = "VELOCITY_PAUSE"
    MWCB_LEVEL_1 = "MWCB_LEVEL_1"
    MWCB_LEVEL_2 = "MWCB_LEVEL_2"
    MWCB_LEVEL_3 = "MWCB_LEVEL_3"
    ORACLE_STALE = "ORACLE_STALE"
    ORACLE_DIVERGENCE = "ORACLE_DIVERGENCE"
    CORPORATE_ACTION = "CORPORATE_ACTION"
    MANUAL_HALT = "MANUAL_HALT"


ENDED_SUFFIX = "_ENDED"
"""A transition back to ``open`` is named for what ended: ``LULD_PAUSE_ENDED``."""


@dataclass(frozen=True, slots=True)
class LuldTiming:
    """LULD plan §VI/§VII (RULES.md §1): 15 s in the limit state, then a 5-minute pause."""

    limit_state: timedelta = timedelta(seconds=15)
    pause: timedelta = timedelta(minutes=5)


DEFAULT_LULD_TIMING = LuldTiming()


@dataclass(frozen=True, slots=True)
class MarketState:
    """One state with its deadline. ``since`` is when it began; ``detail`` is free text (an
    operator's halt reason, a corporate action's description) beside the ``reason`` code."""

    status: MarketStatus = MarketStatus.OPEN
    until: datetime | None = None
    reason: str | None = None
    since: datetime | None = None
    detail: str | None = None

    @property
    def rank(self) -> int:
        return _RANK[self.status]

    def to_dict(self) -> dict[str, str]:
        return {
            "status": self.status.value,
            "until": format_instant(self.until),
            "reason": self.reason or "",
            "since": format_instant(self.since),
            "detail": self.detail or "",
        }

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> MarketState:
        return cls(
            status=MarketStatus(fields.get("status") or MarketStatus.OPEN),
            until=parse_instant(fields.get("until", "")),
            reason=fields.get("reason") or None,
            since=parse_instant(fields.get("since", "")),
            detail=fields.get("detail") or None,
        )


OPEN_STATE = MarketState()


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of a market's state, for alerts, the console and replay reports."""

    instrument: str
    from_status: MarketStatus
    to_status: MarketStatus
    reason: str
    at: datetime
    until: datetime | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {
            "instrument": self.instrument,
            "from": self.from_status.value,
            "to": self.to_status.value,
            "reason": self.reason,
            "at": format_instant(self.at),
            "until": format_instant(self.until),
            "detail": self.detail or "",
        }


def _expired(state: MarketState, timing: LuldTiming) -> MarketState:
    """What ``state`` becomes at its deadline, ``state.until``."""
    deadline = state.until
    assert deadline is not None
    if state.status is MarketStatus.LIMIT_STATE:
        return MarketState(
            MarketStatus.PAUSED, deadline + timing.pause, Reason.LULD_PAUSE.value, deadline
        )
    return MarketState(MarketStatus.OPEN, None, None, deadline)


def effective_state(
    state: MarketState, now: datetime, timing: LuldTiming = DEFAULT_LULD_TIMING
) -> MarketState:
    """``state`` as it stands at ``now``: every deadline at or before ``now`` has passed.

    Deadlines are inclusive of their instant: a limit state entered at t is still a limit
    state at t + 14.999 s and a pause from t + 15.000 s; the pause ends at t + 5 min 15 s.
    """
    while state.until is not None and state.until <= now:
        state = _expired(state, timing)
    return state


def transition_between(
    instrument: str, before: MarketState, after: MarketState, at: datetime
) -> Transition | None:
    """The transition from ``before`` to ``after``, or None when nothing a reader sees changed."""
    if before.status is after.status and before.reason == after.reason:
        return None
    if after.status is MarketStatus.OPEN:
        reason = f"{before.reason}{ENDED_SUFFIX}" if before.reason else "OPEN"
    else:
        reason = after.reason or after.status.value.upper()
    return Transition(
        instrument, before.status, after.status, reason, at, after.until, after.detail
    )


def resolve(
    instrument: str,
    state: MarketState,
    now: datetime,
    timing: LuldTiming = DEFAULT_LULD_TIMING,
) -> tuple[MarketState, tuple[Transition, ...]]:
    """:func:`effective_state`, with a transition stamped at each deadline that passed."""
    require_aware(now)
    transitions = []
    while state.until is not None and state.until <= now:
        following = _expired(state, timing)
        change = transition_between(instrument, state, following, state.until)
        if change is not None:
            transitions.append(change)
        state = following
    return state, tuple(transitions)


def deadlines(state: MarketState, timing: LuldTiming = DEFAULT_LULD_TIMING) -> tuple[datetime, ...]:
    """Every future instant at which ``state`` will change by itself (for sweepers, replay)."""
    instants = []
    while state.until is not None:
        instants.append(state.until)
        state = _expired(state, timing)
    return tuple(instants)


def most_restrictive(
    states: Iterable[MarketState],
    now: datetime,
    timing: LuldTiming = DEFAULT_LULD_TIMING,
) -> MarketState:
    """The published state: each cause resolved at ``now``, the highest precedence kept."""
    best = OPEN_STATE
    for state in states:
        current = effective_state(state, now, timing)
        if current.rank > best.rank or (
            current.rank == best.rank
            and best.status is not MarketStatus.OPEN
            and _lasts_longer(current, best)
        ):
            best = current
    return best


def _lasts_longer(candidate: MarketState, incumbent: MarketState) -> bool:
    if incumbent.until is None:
        return False
    return candidate.until is None or candidate.until > incumbent.until


def transitions_over(
    instrument: str,
    published: Callable[[datetime], MarketState],
    since: datetime,
    now: datetime,
    instants: Iterable[datetime],
) -> tuple[Transition, ...]:
    """Transitions of a published state between ``since`` (exclusive) and ``now``, each at
    its exact instant: ``published`` is evaluated at ``since`` and at every candidate instant
    (the causes' deadlines) in between. How a sweeper announces changes without a timer."""
    transitions = []
    before = published(since)
    for instant in sorted({moment for moment in instants if since < moment <= now}):
        after = published(instant)
        change = transition_between(instrument, before, after, instant)
        if change is not None:
            transitions.append(change)
        before = after
    return tuple(transitions)
