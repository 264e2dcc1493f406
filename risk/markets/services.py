"""Writes of reference data: instruments and per-session parameters. One function per use
case, one transaction, its audit entry and the announcement of the new policy version
(``core.policy``), so the very next check on every worker decides with the change; the
instrument's market hash is refreshed after the commit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from core import audit, clock, policy
from core.decimals import plain as decimal_text
from core.errors import NotFound, ValidationFailed
from core.policy import SnapshotUnavailable
from core.redis_client import REDIS_ERRORS
from risk.markets import snapshot as market_snapshot
from risk.markets.sessions import SessionName, SessionParameters
from risk.models import Instrument, InstrumentVersion, SessionParameter, SessionParameterVersion

INSTRUMENT_FIELDS = (
    "product_class",
    "underlying",
    "calendar",
    "tier",
    "tick_size",
    "lot_size",
    "max_leverage",
    "max_order_quantity",
    "max_order_notional",
    "max_position_notional",
    "open_interest_cap",
    "is_market_index",
)
DECIMAL_FIELDS = (
    "tick_size",
    "lot_size",
    "max_leverage",
    "max_order_quantity",
    "max_order_notional",
    "max_position_notional",
    "open_interest_cap",
)
SESSION_FIELDS = (
    "band_multiplier",
    "leverage_cap_fraction",
    "position_limit_fraction",
    "reference_time_constant_seconds",
    "oracle_max_age_seconds",
)


def plain(value):
    """A decimal as its shortest exact string (``0.0100000000`` from the database is
    ``0.01``), so history and audit entries compare and read the same on every backend."""
    return decimal_text(value) if isinstance(value, Decimal) else value


def instrument_fields(row: Instrument) -> dict:
    return {name: plain(getattr(row, name)) for name in INSTRUMENT_FIELDS}


def _refresh_market(symbol: str) -> None:
    """After the commit: rebuild this process's snapshot and rewrite the instrument's
    definition and publication into its market hash. Best effort: every tick write and the
    sweeper rewrite them too."""

    from risk.markets.live import live_controller

    try:
        market_snapshot.refreshed()
        live_controller().sweep(symbol, clock.now())
    except (*REDIS_ERRORS, SnapshotUnavailable):
        pass


def put_instrument(*, symbol: str, fields: dict, actor: str) -> tuple[Instrument, bool]:
    """Create or replace an instrument (validated by the caller's serializer); returns
    (instrument, created). The same fields again change nothing and write no version.
    At most one instrument is the market index (RULES.md §2); the database enforces it."""
    after = {name: plain(fields[name]) for name in INSTRUMENT_FIELDS}
    with transaction.atomic():
        row = Instrument.objects.select_for_update().filter(symbol=symbol).first()
        before = instrument_fields(row) if row else None
        if before == after:
            policy.announce_current(policy.INSTRUMENTS)
            return row, False
        if after["is_market_index"]:
            other = Instrument.objects.filter(is_market_index=True).exclude(symbol=symbol).first()
            if other is not None:
                raise ValidationFailed(
                    f"is_market_index: {other.symbol} is already the market index",
                    fields={"is_market_index": [f"{other.symbol} is already the market index."]},
                )
        now = clock.now()
        created = row is None
        if created:
            row = Instrument(symbol=symbol)
        for name in INSTRUMENT_FIELDS:
            setattr(row, name, fields[name])
        row.version = 1 if created else row.version + 1
        row.updated_at, row.updated_by = now, actor
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:
            raise ValidationFailed(
                "is_market_index: another instrument is already the market index",
                fields={"is_market_index": ["Another instrument is already the market index."]},
            ) from exc
        InstrumentVersion.objects.create(
            symbol=symbol, version=row.version, fields=after, changed_at=now, changed_by=actor
        )
        audit.record(
            actor=actor,
            action="instrument.create" if created else "instrument.update",
            object_type="instrument",
            object_id=symbol,
            before=before,
            after=after,
        )
        policy.advance(policy.INSTRUMENTS)
        transaction.on_commit(lambda: _refresh_market(symbol))
    return row, created


def _seconds(duration: timedelta | None) -> Decimal | None:
    if duration is None:
        return None
    return Decimal(duration // timedelta(microseconds=1)).scaleb(-6)


def session_values(row: SessionParameter) -> dict:
    return {name: plain(getattr(row, name)) for name in SESSION_FIELDS}


def set_session_parameters(*, session: str, values: dict, actor: str) -> SessionParameter:
    """Change one session's band multiplier, leverage cap, position-limit fraction, EMA time
    constant or oracle age (RULES.md §4: data an officer edits, with history)."""
    try:
        name = SessionName(session)
    except ValueError:
        raise NotFound(f"no session {session!r}") from None
    after = {key: plain(values[key]) for key in SESSION_FIELDS}
    with transaction.atomic():
        row = SessionParameter.objects.select_for_update().filter(session=name.value).first()
        before = session_values(row) if row else None
        if before == after:
            policy.announce_current(policy.SESSIONS)
            return row
        now = clock.now()
        if row is None:
            row = SessionParameter(session=name.value, version=0)
        for key in SESSION_FIELDS:
            setattr(row, key, values[key])
        row.version += 1
        row.updated_at, row.updated_by = now, actor
        row.save()
        SessionParameterVersion.objects.create(
            session=name.value, version=row.version, values=after, changed_at=now, changed_by=actor
        )
        audit.record(
            actor=actor,
            action="session_parameters.update",
            object_type="session_parameters",
            object_id=name.value,
            before=before,
            after=after,
        )
        policy.advance(policy.SESSIONS)
        transaction.on_commit(_republish_markets)
    return row


def _republish_markets() -> None:
    """After the commit: every market's stored band and leverage are recomputed with the
    new parameters now, not when their publication would have run out. Best effort: the
    pub_ fields of a market nobody can reach are refreshed by its next write."""

    from risk.markets.live import live_controller

    now = clock.now()
    try:
        snapshot = market_snapshot.refreshed()
        for symbol in snapshot.instruments:
            live_controller().republish(symbol, now)
    except (*REDIS_ERRORS, SnapshotUnavailable):
        pass


def session_values_of(params: SessionParameters) -> dict:
    """The model's values for the pure core's parameters (used by seeding and tests)."""
    return {
        "band_multiplier": params.band_multiplier,
        "leverage_cap_fraction": params.leverage_cap_fraction,
        "position_limit_fraction": params.position_limit_fraction,
        "reference_time_constant_seconds": _seconds(params.reference_time_constant),
        "oracle_max_age_seconds": _seconds(params.oracle_max_age),
    }
