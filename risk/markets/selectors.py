"""Reads of the markets part for views, the snapshot builder, the sweeper and replay."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from risk.markets.breakers import HaltWindow
from risk.markets.record import InstrumentDefinition
from risk.markets.sessions import SessionName, SessionParameters
from risk.markets.state import Reason
from risk.models import (
    CorporateActionHalt,
    Instrument,
    KillSwitch,
    MarketEvent,
    SessionParameter,
)


def _plain(value: Decimal) -> Decimal:
    """``10.0000000000`` from the database as ``10``, never ``1E+1``."""
    return Decimal(format(value.normalize(), "f"))


def instrument(symbol: str) -> Instrument | None:
    return Instrument.objects.filter(symbol=symbol).first()


def definition_of(row: Instrument) -> InstrumentDefinition:
    return InstrumentDefinition(
        symbol=row.symbol,
        product_class=row.product_class,
        calendar=row.calendar,
        tier=row.tier,
        tick_size=_plain(row.tick_size),
        max_leverage=_plain(row.max_leverage),
        is_market_index=row.is_market_index,
        version=row.version,
    )


def instrument_definitions() -> dict[str, InstrumentDefinition]:
    return {row.symbol: definition_of(row) for row in Instrument.objects.all()}


def _seconds(value: Decimal | None) -> timedelta | None:
    if value is None:
        return None
    return timedelta(microseconds=int(value.scaleb(6)))


def session_parameters_of(row: SessionParameter) -> SessionParameters:
    return SessionParameters(
        band_multiplier=_plain(row.band_multiplier),
        leverage_cap_fraction=_plain(row.leverage_cap_fraction),
        position_limit_fraction=_plain(row.position_limit_fraction),
        reference_time_constant=_seconds(row.reference_time_constant_seconds),
        oracle_max_age=_seconds(row.oracle_max_age_seconds),
    )


def session_parameters() -> dict[SessionName, SessionParameters]:
    return {
        SessionName(row.session): session_parameters_of(row)
        for row in SessionParameter.objects.all()
    }


def corporate_action_windows(symbol: str, now: datetime) -> list[HaltWindow]:
    """The scheduled halts of an instrument that are not over and not cancelled."""
    rows = CorporateActionHalt.objects.filter(
        symbol=symbol, cancelled_at__isnull=True, ends_at__gt=now
    ).order_by("starts_at")
    return [
        HaltWindow(
            row.starts_at, row.ends_at, f"{row.kind}: {row.detail}", Reason.CORPORATE_ACTION.value
        )
        for row in rows
    ]


def engaged_kill_switches() -> list[KillSwitch]:
    return list(KillSwitch.objects.filter(engaged=True))


def market_events(symbol: str, limit: int = 100) -> list[MarketEvent]:
    return list(MarketEvent.objects.filter(instrument=symbol).order_by("-at")[:limit])
