"""What a market looks like at an instant: its published state, session, reference and band,
computed exactly from the stored record and an explicit ``now`` (DESIGN.md, "Markets": no
timer needs to have fired).

Every write also stores the result as the ``pub_`` fields of the record's hash, with
``pub_recheck_at``: the first instant after the write at which anything in the view can change
by itself (a breaker deadline, a session boundary, a band-doubling boundary, an input or the
oracle going stale). A reader at ``pub_at <= now < pub_recheck_at`` may use the stored fields
as they are -- a Lua script can too -- and anyone else recomputes. Both give the same answer;
the tests check it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from core.clock import isoformat_z
from risk.markets.bands import (
    CLOSING_BAND_PERIOD,
    OPENING_BAND_PERIOD,
    Band,
    InvalidBandInput,
    price_band,
)
from risk.markets.breakers import change_instants, published_state
from risk.markets.config import MarketConfig
from risk.markets.oracle_health import oracle_state
from risk.markets.record import InstrumentDefinition, MarketRecord, parse_market_hash
from risk.markets.reference_price import reference_at
from risk.markets.sessions import SessionInfo, SessionName, SessionParameters, session_at
from risk.markets.state import (
    MarketState,
    MarketStatus,
    Transition,
    deadlines,
    most_restrictive,
    transitions_over,
)
from risk.markets.ticks import format_instant, parse_instant

_MICROSECOND = timedelta(microseconds=1)
PUBLICATION_FIELDS = (
    "def_product_class",
    "def_calendar",
    "def_tier",
    "def_tick_size",
    "def_max_leverage",
    "def_is_market_index",
    "def_version",
    "pub_state",
    "pub_reason",
    "pub_until",
    "pub_detail",
    "pub_session",
    "pub_reference",
    "pub_lower",
    "pub_upper",
    "pub_at",
    "pub_recheck_at",
    "pub_config",
    "kill_status",
)
"""What a reader of the stored publication needs (HMGET these, or read them in Lua)."""
_ZERO_EXPONENT = 0


@dataclass(frozen=True, slots=True)
class MarketView:
    """One instrument's market at ``at``: what the state API shows and the pre-trade check
    obeys. ``session_params`` carries the session's leverage cap and position-limit fraction."""

    symbol: str
    at: datetime
    state: MarketStatus
    reason: str | None
    until: datetime | None
    session: SessionName
    session_params: SessionParameters
    reference_price: Decimal | None
    band: Band | None
    definition: InstrumentDefinition
    kill_switch: bool = False
    detail: str | None = None

    @property
    def tier(self) -> int:
        return self.definition.tier

    @property
    def tick_size(self) -> Decimal:
        return self.definition.tick_size

    @property
    def max_leverage(self) -> Decimal:
        """The session's leverage cap (RULES.md §4: lower off-hours)."""
        return self.session_params.max_leverage(self.definition.max_leverage)

    def to_contract(self) -> dict:
        """The body of GET /markets/{symbol}/state (API.md), exactly."""
        tick = self.definition.tick_size
        band = self.band
        return {
            "symbol": self.symbol,
            "state": self.state.value,
            "session": self.session.value,
            "reference_price": None
            if self.reference_price is None
            else display_price(self.reference_price, tick),
            "band": None
            if band is None
            else {
                "lower": display_price(band.lower, tick),
                "upper": display_price(band.upper, tick),
            },
            "until": None if self.until is None else isoformat_z(self.until),
            "reason": self.reason,
        }


def display_price(value: Decimal, tick_size: Decimal) -> str:
    """A price with no more places than it needs and no fewer than the tick's."""
    exponent = min(
        value.normalize().as_tuple().exponent,
        tick_size.normalize().as_tuple().exponent,
        _ZERO_EXPONENT,
    )
    return str(value.quantize(Decimal(1).scaleb(exponent)))


def session_of(definition: InstrumentDefinition, now: datetime) -> SessionInfo:
    """The session at ``now``; one write asks for the same instant several times."""
    return _session_at(now, definition.calendar)


_session_at = lru_cache(maxsize=4096)(session_at)


def band_around(
    reference: Decimal | None,
    definition: InstrumentDefinition,
    session: SessionInfo,
    session_params: SessionParameters,
    config: MarketConfig,
) -> Band | None:
    """The band in force; none without a reference (orders get ``NO_REFERENCE_PRICE``) or
    with a reference below one tick, around which no band can be drawn."""
    if reference is None:
        return None
    try:
        return price_band(
            reference,
            definition.tier,
            definition.tick_size,
            session,
            session_params,
            continuous_percentage=config.continuous_band,
        )
    except InvalidBandInput:
        return None


def published_at(
    record: MarketRecord, now: datetime, config: MarketConfig, session: SessionInfo | None = None
) -> MarketState:
    """The published state: the instrument's breakers, the market-wide halt fanned out to it,
    its corporate-action windows, its oracle health and its kill switch, most restrictive
    first (``risk.markets.state``)."""
    definition = record.definition
    assert definition is not None, "a market without a definition has no state"
    if session is None:
        session = session_of(definition, now)
    params = config.session_params(session.name)
    reference = record.reference
    oracle = oracle_state(reference.external, reference.book, now, params, config.oracle)
    state = published_state(
        record.breakers,
        now,
        market_wide=record.market_wide,
        scheduled=record.corporate_actions,
        oracle=oracle,
        timing=config.luld_timing,
    )
    if record.kill_engaged:
        state = most_restrictive((record.kill, state), now, config.luld_timing)
    return state


def compute_view(record: MarketRecord, now: datetime, config: MarketConfig) -> MarketView:
    definition = record.definition
    assert definition is not None, "a market without a definition has no view"
    session = session_of(definition, now)
    params = config.session_params(session.name)
    state = published_at(record, now, config, session)
    reference = reference_at(
        record.reference, now, session, config.reference_for(definition.max_leverage)
    )
    return MarketView(
        symbol=record.symbol,
        at=now,
        state=state.status,
        reason=state.reason,
        until=state.until,
        session=session.name,
        session_params=params,
        reference_price=reference,
        band=band_around(reference, definition, session, params, config),
        definition=definition,
        kill_switch=record.kill_engaged,
        detail=state.detail,
    )


def _input_expiries(record: MarketRecord, config: MarketConfig, oracle_ages) -> list[datetime]:
    """Instants at which an input to the reference or the oracle goes stale. The divergence
    check drops an input strictly after its comparison age, hence one microsecond later."""
    reference = record.reference
    params = config.reference
    comparison = config.oracle.comparison_max_age
    instants = []
    external, book = reference.external, reference.book
    if external is not None:
        instants += [external.at + params.external_max_age]
        instants += [external.at + comparison + _MICROSECOND]
        instants += [external.at + age for age in oracle_ages if age is not None]
        moved_at = reference.external_moved_at
        if moved_at is not None and params.external_max_unchanged is not None:
            instants.append(moved_at + params.external_max_unchanged)
    if book is not None:
        instants += [book.at + params.book_max_age, book.at + comparison + _MICROSECOND]
    return instants


def _state_instants(record: MarketRecord, config: MarketConfig) -> list[datetime]:
    return [
        *change_instants(
            record.breakers,
            market_wide=record.market_wide,
            scheduled=record.corporate_actions,
            timing=config.luld_timing,
        ),
        *deadlines(record.kill, config.luld_timing),
    ]


def recheck_at(
    record: MarketRecord, now: datetime, config: MarketConfig, session: SessionInfo
) -> datetime | None:
    """The first instant after ``now`` at which the view may change without a write."""
    candidates = _state_instants(record, config)
    if session.ends_at is not None:
        candidates.append(session.ends_at)
    if session.is_regular and session.regular_open is not None:
        candidates.append(session.regular_open + OPENING_BAND_PERIOD)
    if session.is_regular and session.regular_close is not None:
        candidates.append(session.regular_close - CLOSING_BAND_PERIOD)
    oracle_age = config.session_params(session.name).oracle_max_age
    candidates += _input_expiries(record, config, (oracle_age,))
    return min((moment for moment in candidates if moment > now), default=None)


def publish(
    record: MarketRecord, now: datetime, config: MarketConfig
) -> tuple[MarketView, dict[str, str]]:
    """The view at ``now`` and the ``pub_`` fields that store it with how long it stays
    exact; written with every record."""
    view = compute_view(record, now, config)
    assert record.definition is not None
    recheck = recheck_at(record, now, config, session_of(record.definition, now))
    band = view.band
    return view, {
        "pub_state": view.state.value,
        "pub_reason": view.reason or "",
        "pub_until": format_instant(view.until),
        "pub_detail": view.detail or "",
        "pub_session": view.session.value,
        "pub_reference": "" if view.reference_price is None else str(view.reference_price),
        "pub_lower": "" if band is None else str(band.lower),
        "pub_upper": "" if band is None else str(band.upper),
        "pub_at": format_instant(now),
        "pub_recheck_at": format_instant(recheck),
        "pub_config": str(config.version),
    }


def publication_due(fields: Mapping[str, str], now: datetime) -> bool:
    """Whether the stored ``pub_`` fields no longer describe ``now``."""
    written_at = parse_instant(fields.get("pub_at", ""))
    if written_at is None or now < written_at:
        return True
    recheck = parse_instant(fields.get("pub_recheck_at", ""))
    return recheck is not None and now >= recheck


def view_from_publication(
    symbol: str,
    fields: Mapping[str, str],
    definition: InstrumentDefinition,
    now: datetime,
    config: MarketConfig,
) -> MarketView | None:
    """The stored view, when it is still exact at ``now`` and was drawn with this
    definition and these session parameters; None means recompute."""
    if (
        publication_due(fields, now)
        or fields.get("def_version") != str(definition.version)
        or fields.get("pub_config", "0") != str(config.version)
    ):
        return None
    session = SessionName(fields["pub_session"])
    reference = fields.get("pub_reference") or None
    lower, upper = fields.get("pub_lower"), fields.get("pub_upper")
    return MarketView(
        symbol=symbol,
        at=now,
        state=MarketStatus(fields["pub_state"]),
        reason=fields.get("pub_reason") or None,
        until=parse_instant(fields.get("pub_until", "")),
        session=session,
        session_params=config.session_params(session),
        reference_price=None if reference is None else Decimal(reference),
        band=Band(Decimal(lower), Decimal(upper)) if lower and upper else None,
        definition=definition,
        kill_switch=fields.get("kill_status") == MarketStatus.HALTED.value,
        detail=fields.get("pub_detail") or None,
    )


def view_from_hash(
    symbol: str,
    fields: Mapping[str, str],
    definition: InstrumentDefinition,
    now: datetime,
    config: MarketConfig,
) -> MarketView:
    """The market at ``now`` from the instrument's whole stored hash (decoded): the stored
    publication while it is exact, else computed from the record. Of the definition stored
    in the hash and the snapshot's, the newer wins (an instrument change is in force before
    the controller has republished it)."""
    fast = view_from_publication(symbol, fields, definition, now, config)
    if fast is not None:
        return fast
    record = parse_market_hash(symbol, fields, with_windows=False)
    stored = record.definition
    if stored is None or stored.version <= definition.version:
        record = record.with_changes(definition=definition)
    return compute_view(record, now, config)


def transitions_since(
    record: MarketRecord, since: datetime, now: datetime, config: MarketConfig
) -> tuple[Transition, ...]:
    """The published state's transitions in (since, now], each at its exact instant, for a
    record nobody wrote in between (``risk.markets.state.transitions_over``)."""
    definition = record.definition
    if definition is None or now <= since:
        return ()
    instants = _state_instants(record, config)
    session = session_of(definition, since)
    oracle_ages = {config.session_params(session.name).oracle_max_age}
    while session.ends_at is not None and session.ends_at <= now:
        instants.append(session.ends_at)
        session = session_of(definition, session.ends_at)
        oracle_ages.add(config.session_params(session.name).oracle_max_age)
    instants += _input_expiries(record, config, oracle_ages)
    return transitions_over(
        record.symbol,
        lambda moment: published_at(record, moment, config),
        since,
        now,
        instants,
    )
