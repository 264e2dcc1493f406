"""The reference price bands and breakers are drawn around.

Regular session (and ``24x7`` instruments, whose underlying always trades): the LULD plan's
rule (RULES.md §1, LULD plan §V.A). The first eligible price of the session -- an
``external`` tick; the book is the venue's own price and cannot vouch for itself -- is the
reference (the plan's opening price). After that the reference is the arithmetic mean of the
eligible prices in the preceding 5 minutes, (now - 5 min, now], and moves only when that mean
differs from the current reference by 1% or more.

Off-hours (pre-market, after-hours, overnight, weekend, holiday) the underlying's price is
thin or absent, so the reference is a blend (RULES.md §4), recomputed on every tick:

    inputs  close C (fresh iff stamped at or after the session's last official close),
            external E (fresh iff < 2 min old and moved within 30 min), book B (< 1 min old)
    target  T = weighted median of the fresh inputs, weights C:1, E:2, B:2, clamped into the
            discovery bounds C * (1 -/+ 1/L), L = max_leverage x session leverage fraction
    step    R' = R + a * (T - R), a = min(1, dt / tau), tau the session's time constant
    clamp   R' kept within R * (1 -/+ 1%), rounded to 1e-8; no fresh input -> no reference

Why these choices: the median of three (Hyperliquid) means no single input -- a stale close,
a feed repeating it, a thin book printing near zero -- can drag the reference alone; with the
weights, when one input drops out the live price (feed or book) outweighs the close, and two
live prices average. The EMA with a 1% clamp per update (Felix, trade.xyz) makes the reference
follow slowly: a burst of ticks within a second moves it by dt/tau of the gap, not by a
percent per tick. The discovery bounds (trade.xyz) keep it where a position at the session's
maximum leverage cannot be wiped out by drift alone. A reference that merely repeats itself
is not fresh (RULES.md §4, Chainlink): the feed drops out when it has not moved for 30 min,
and a close older than the last official close is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum

from risk.markets.sessions import DEFAULTS, SessionInfo, SessionParameters
from risk.markets.ticks import (
    PricePoint,
    PriceTick,
    TickSource,
    format_decimal,
    format_instant,
    format_point,
    format_points,
    parse_decimal,
    parse_instant,
    parse_point,
    parse_points,
    require_aware,
)

_EXACT = Context(prec=50, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_MICROSECOND = timedelta(microseconds=1)


class ReferenceBasis(StrEnum):
    """How the current reference was arrived at; shown in replays and the console."""

    NONE = "none"
    OPENING_PRICE = "opening_price"
    LULD_MEAN = "luld_mean"
    OFF_HOURS_BLEND = "off_hours_blend"


_LIVE_BASES = frozenset({ReferenceBasis.OPENING_PRICE, ReferenceBasis.LULD_MEAN})


class TickRejection(StrEnum):
    """Why a tick may not move state (issue 6, "Ticks")."""

    NON_POSITIVE_PRICE = "NON_POSITIVE_PRICE"
    FUTURE_TICK = "FUTURE_TICK"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    DUPLICATE_TICK = "DUPLICATE_TICK"
    STALE_TICK = "STALE_TICK"
    ABSURD_PRICE = "ABSURD_PRICE"


@dataclass(frozen=True, slots=True)
class ReferenceParameters:
    """Configuration of the reference; one per instrument (``max_leverage`` is its own)."""

    luld_window: timedelta = timedelta(minutes=5)
    luld_move_threshold: Decimal = Decimal("0.01")
    external_max_age: timedelta = timedelta(minutes=2)
    external_max_unchanged: timedelta | None = timedelta(minutes=30)
    book_max_age: timedelta = timedelta(minutes=1)
    close_weight: Decimal = Decimal(1)
    external_weight: Decimal = Decimal(2)
    book_weight: Decimal = Decimal(2)
    max_step: Decimal = Decimal("0.01")
    max_leverage: Decimal | None = None
    scale: Decimal = Decimal("0.00000001")
    absurd_factor: Decimal | None = None


DEFAULT_REFERENCE_PARAMETERS = ReferenceParameters()


@dataclass(frozen=True, slots=True)
class ReferenceState:
    """Everything the reference depends on; stored per instrument, replaced on each tick."""

    price: Decimal | None = None
    basis: ReferenceBasis = ReferenceBasis.NONE
    updated_at: datetime | None = None
    close: PricePoint | None = None
    external: PricePoint | None = None
    external_moved_at: datetime | None = None
    book: PricePoint | None = None
    window: tuple[PricePoint, ...] = ()
    window_sum: Decimal = _ZERO

    def to_dict(self) -> dict[str, str]:
        return {
            "price": format_decimal(self.price),
            "basis": self.basis.value,
            "updated_at": format_instant(self.updated_at),
            "close": format_point(self.close),
            "external": format_point(self.external),
            "external_moved_at": format_instant(self.external_moved_at),
            "book": format_point(self.book),
            "window": format_points(self.window),
        }

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> ReferenceState:
        window = parse_points(fields.get("window", ""))
        return cls(
            price=parse_decimal(fields.get("price", "")),
            basis=ReferenceBasis(fields.get("basis") or ReferenceBasis.NONE),
            updated_at=parse_instant(fields.get("updated_at", "")),
            close=parse_point(fields.get("close", "")),
            external=parse_point(fields.get("external", "")),
            external_moved_at=parse_instant(fields.get("external_moved_at", "")),
            book=parse_point(fields.get("book", "")),
            window=window,
            window_sum=sum((point.price for point in window), _ZERO),
        )


def _latest(state: ReferenceState, source: TickSource) -> PricePoint | None:
    if source is TickSource.EXTERNAL:
        return state.external
    if source is TickSource.BOOK:
        return state.book
    return state.close


def tick_rejection(
    state: ReferenceState,
    tick: PriceTick,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters = DEFAULT_REFERENCE_PARAMETERS,
) -> TickRejection | None:
    """Why ``tick`` must not move state, or None. The ticks API refuses these; this module
    ignores them, so a bad tick never moves a reference even if the shell forgot to check."""
    if not tick.price.is_finite() or tick.price <= 0:
        return TickRejection.NON_POSITIVE_PRICE
    if tick.at > now:
        return TickRejection.FUTURE_TICK
    latest = _latest(state, tick.source)
    if latest is not None and tick.at < latest.at:
        return TickRejection.OUT_OF_ORDER
    if latest is not None and tick.at == latest.at:
        return TickRejection.DUPLICATE_TICK
    if tick.source is TickSource.EXTERNAL and now - tick.at >= params.external_max_age:
        return TickRejection.STALE_TICK
    if tick.source is TickSource.BOOK and now - tick.at >= params.book_max_age:
        return TickRejection.STALE_TICK
    last_close = session.last_official_close
    if tick.source is TickSource.CLOSE and last_close is not None and tick.at < last_close:
        return TickRejection.STALE_TICK
    factor = params.absurd_factor
    if factor is not None and state.price is not None:
        if tick.price > state.price * factor or tick.price * factor < state.price:
            return TickRejection.ABSURD_PRICE
    return None


def update_reference(
    state: ReferenceState,
    tick: PriceTick | None,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters = DEFAULT_REFERENCE_PARAMETERS,
    session_params: SessionParameters | None = None,
) -> ReferenceState:
    """The state after ``tick`` arrives at ``now`` (``tick=None``: re-evaluate, e.g. when
    inputs may have gone stale). A rejected tick returns ``state`` itself, unchanged."""
    require_aware(now)
    if tick is not None:
        if tick_rejection(state, tick, now, session, params) is not None:
            return state
        state = _record(state, tick)
    if session_params is None:
        session_params = DEFAULTS[session.name]
    if session.is_off_hours:
        return _blend(state, now, session, params, session_params)
    if tick is not None and tick.source is TickSource.EXTERNAL:
        return _luld(state, tick.point, now, session, params)
    return state


def reference_at(
    state: ReferenceState,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters = DEFAULT_REFERENCE_PARAMETERS,
) -> Decimal | None:
    """The reference to use at ``now``: off-hours, none once every input has gone stale,
    even if no tick has arrived since (exact at any instant, without a timer)."""
    if session.is_off_hours and not _fresh_inputs(state, now, session, params):
        return None
    return state.price


def _record(state: ReferenceState, tick: PriceTick) -> ReferenceState:
    point = tick.point
    close, external, book = state.close, state.external, state.book
    moved_at = state.external_moved_at
    if tick.source is TickSource.EXTERNAL:
        if external is None or external.price != tick.price or moved_at is None:
            moved_at = tick.at
        external = point
    elif tick.source is TickSource.BOOK:
        book = point
    else:
        close = point
    return ReferenceState(
        state.price,
        state.basis,
        state.updated_at,
        close,
        external,
        moved_at,
        book,
        state.window,
        state.window_sum,
    )


def _luld(
    state: ReferenceState,
    point: PricePoint,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters,
) -> ReferenceState:
    """LULD plan §V.A: mean of the preceding 5 minutes, moved on a change of 1% or more."""
    horizon = now - params.luld_window
    session_starts = session.starts_at
    window, window_sum = state.window, state.window_sum
    first_kept = 0
    for kept in window:
        if kept.at > horizon and (session_starts is None or kept.at >= session_starts):
            break
        window_sum = _EXACT.subtract(window_sum, kept.price)
        first_kept += 1
    window = (*window[first_kept:], point)
    window_sum = _EXACT.add(window_sum, point.price)
    price, basis = state.price, state.basis
    opening = (
        price is None
        or basis not in _LIVE_BASES
        or (
            session_starts is not None
            and (state.updated_at is None or state.updated_at < session_starts)
        )
    )
    if opening:
        price, basis = point.price, ReferenceBasis.OPENING_PRICE
    else:
        assert price is not None
        mean = _EXACT.divide(window_sum, Decimal(len(window)))
        mean = mean.quantize(params.scale, rounding=ROUND_HALF_EVEN, context=_EXACT)
        if abs(mean - price) >= price * params.luld_move_threshold:
            price, basis = mean, ReferenceBasis.LULD_MEAN
    return ReferenceState(
        price,
        basis,
        now,
        state.close,
        state.external,
        state.external_moved_at,
        state.book,
        window,
        window_sum,
    )


def _fresh_inputs(
    state: ReferenceState,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters,
) -> list[tuple[Decimal, Decimal]]:
    """(price, weight) of each input usable at ``now``; the staleness cut-offs live here."""
    inputs = []
    close, external, book = state.close, state.external, state.book
    last_close = session.last_official_close
    if close is not None and last_close is not None and close.at >= last_close:
        inputs.append((close.price, params.close_weight))
    if external is not None and now - external.at < params.external_max_age:
        unchanged_for = now - (state.external_moved_at or external.at)
        limit = params.external_max_unchanged
        if limit is None or unchanged_for < limit:
            inputs.append((external.price, params.external_weight))
    if book is not None and now - book.at < params.book_max_age:
        inputs.append((book.price, params.book_weight))
    return [(price, weight) for price, weight in inputs if weight > 0]


def weighted_median(inputs: list[tuple[Decimal, Decimal]]) -> Decimal:
    """The price at which half the weight lies on each side; the midpoint when a split falls
    exactly between two prices (so equal weights give the ordinary median)."""
    ordered = sorted(inputs)
    total = sum((weight for _, weight in ordered), _ZERO)
    running = _ZERO
    for position, (price, weight) in enumerate(ordered):
        running += weight
        if running * _TWO > total:
            return price
        if running * _TWO == total:
            return _EXACT.divide(price + ordered[position + 1][0], _TWO)
    raise ValueError("weighted median of no positive weight")


def discovery_bounds(
    close: Decimal, max_leverage: Decimal, session_params: SessionParameters
) -> tuple[Decimal, Decimal]:
    """±1/L around the last official close, L the session's leverage cap (RULES.md §4,
    trade.xyz: 20x gives ±5%). A lower cap widens the bounds, as it widens what a position
    at that cap can survive."""
    half_width = _EXACT.divide(_ONE, session_params.max_leverage(max_leverage))
    return close - close * half_width, close + close * half_width


def _blend(
    state: ReferenceState,
    now: datetime,
    session: SessionInfo,
    params: ReferenceParameters,
    session_params: SessionParameters,
) -> ReferenceState:
    inputs = _fresh_inputs(state, now, session, params)
    if not inputs:
        return _replace_price(state, None, ReferenceBasis.NONE, now)
    scale = params.scale
    target = weighted_median(inputs)
    close, last_close = state.close, session.last_official_close
    if (
        params.max_leverage is not None
        and close is not None
        and last_close is not None
        and close.at >= last_close
    ):
        low, high = discovery_bounds(close.price, params.max_leverage, session_params)
        target = _clamp(target, _round(low, scale, ROUND_CEILING), _round(high, scale, ROUND_FLOOR))
    current = state.price
    if current is None:
        return _replace_price(
            state, _round(target, scale, ROUND_HALF_EVEN), ReferenceBasis.OFF_HOURS_BLEND, now
        )
    weight = _ONE
    time_constant = session_params.reference_time_constant
    if time_constant and state.updated_at is not None:
        elapsed = max(now - state.updated_at, timedelta(0))
        weight = min(_ONE, _EXACT.divide(elapsed // _MICROSECOND, time_constant // _MICROSECOND))
    smoothed = _round(current + _EXACT.multiply(weight, target - current), scale, ROUND_HALF_EVEN)
    step = current * params.max_step
    low = _round(current - step, scale, ROUND_CEILING)
    high = _round(current + step, scale, ROUND_FLOOR)
    moved = _clamp(smoothed, low, high) if low <= high else current
    return _replace_price(state, moved, ReferenceBasis.OFF_HOURS_BLEND, now)


def _replace_price(
    state: ReferenceState, price: Decimal | None, basis: ReferenceBasis, now: datetime
) -> ReferenceState:
    """Off-hours result; the LULD window is emptied, as the next session starts its own."""
    return ReferenceState(
        price, basis, now, state.close, state.external, state.external_moved_at, state.book
    )


def _round(value: Decimal, scale: Decimal, rounding: str) -> Decimal:
    return value.quantize(scale, rounding=rounding, context=_EXACT)


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return low if value < low else high if value > high else value
