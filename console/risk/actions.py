"""The risk kinds of maker-checker change (discovered by ``console.maker_checker``).

Halting or resuming a market, engaging or releasing a kill switch and changing a session's
parameters are proposals a second risk officer approves (DESIGN.md, "Console"); the approver
is the services' ``actor``. An emergency kill-switch engage is the one exception: it takes
effect at once, as its maker, and a second officer reviews it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from console.change_kinds import register_action
from console.risk.forms import (
    EmergencyKillSwitchForm,
    InstrumentLimitsForm,
    KillSwitchForm,
    MarketForm,
    SessionParametersForm,
)
from console.roles import RISK_OFFICER
from risk.markets import halts, kill_switches, services
from risk.markets.services import SESSION_FIELDS

MARKET_HALT = "market.halt"
MARKET_RESUME = "market.resume"
KILL_SWITCH_ENGAGE = "kill_switch.engage"
KILL_SWITCH_RELEASE = "kill_switch.release"
SESSION_PARAMETERS_CHANGE = "session_parameters.change"
INSTRUMENT_LIMITS_CHANGE = "instrument_limits.change"
LIMIT_FIELDS = (
    "max_leverage",
    "max_order_quantity",
    "max_order_notional",
    "max_position_notional",
    "open_interest_cap",
)

ROLES = [RISK_OFFICER]
"""Market and session decisions are the risk officer's alone (like ``rule.change`` is the
compliance officer's); administrators run the venue, they do not decide its risk."""


def _halt(payload: Mapping[str, Any], approver: str) -> dict:
    update = halts.halt_market(symbol=payload["symbol"], reason=payload["reason"], actor=approver)
    return {"symbol": payload["symbol"], "state": update.view.state.value}


def _resume(payload: Mapping[str, Any], approver: str) -> dict:
    update = halts.resume_market(symbol=payload["symbol"], reason=payload["reason"], actor=approver)
    return {"symbol": payload["symbol"], "state": update.view.state.value}


def _switch_name(payload: Mapping[str, Any]) -> str:
    target = payload.get("target") or ""
    return f"{payload['scope']}:{target}" if target else payload["scope"]


def _engage(payload: Mapping[str, Any], actor: str) -> dict:
    switch = kill_switches.engage(
        scope=payload["scope"],
        target=payload.get("target") or "",
        actor=actor,
        reason=payload["reason"],
    )
    return {"switch": _switch_name(payload), "engaged": switch.engaged, "version": switch.version}


def _release(payload: Mapping[str, Any], approver: str) -> dict:
    switch = kill_switches.release(
        scope=payload["scope"],
        target=payload.get("target") or "",
        actor=approver,
        reason=payload["reason"],
    )
    return {"switch": _switch_name(payload), "engaged": switch.engaged, "version": switch.version}


def _session_values(payload: Mapping[str, Any]) -> dict:
    """Payload values are stored as text (JSON has no decimals); the service takes decimals,
    ``None`` for "none"."""
    return {
        name: None if payload.get(name) in (None, "") else Decimal(str(payload[name]))
        for name in SESSION_FIELDS
    }


def _change_session(payload: Mapping[str, Any], approver: str) -> dict:
    row = services.set_session_parameters(
        session=payload["session"], values=_session_values(payload), actor=approver
    )
    return {"session": row.session, "version": row.version}


register_action(
    MARKET_HALT,
    roles=ROLES,
    execute=_halt,
    label="Halt a market",
    form=MarketForm,
    target=lambda payload: f"market:{payload['symbol']}",
    scope="market",
    describe=lambda payload: f"Halt {payload['symbol']}",
    reason_in_payload=True,
)

register_action(
    MARKET_RESUME,
    roles=ROLES,
    execute=_resume,
    label="Resume a market",
    form=MarketForm,
    target=lambda payload: f"market:{payload['symbol']}",
    scope="market",
    describe=lambda payload: f"Resume {payload['symbol']}",
    reason_in_payload=True,
)

register_action(
    KILL_SWITCH_ENGAGE,
    roles=ROLES,
    execute=_engage,
    label="Engage a kill switch",
    form=EmergencyKillSwitchForm,
    target=lambda payload: f"kill_switch:{_switch_name(payload)}",
    emergency=True,
    describe=lambda payload: f"Engage the {_switch_name(payload)} kill switch",
    reason_in_payload=True,
)

register_action(
    KILL_SWITCH_RELEASE,
    roles=ROLES,
    execute=_release,
    label="Release a kill switch",
    form=KillSwitchForm,
    target=lambda payload: f"kill_switch:{_switch_name(payload)}",
    describe=lambda payload: f"Release the {_switch_name(payload)} kill switch",
    reason_in_payload=True,
)

register_action(
    SESSION_PARAMETERS_CHANGE,
    roles=ROLES,
    execute=_change_session,
    label="Change session parameters",
    form=SessionParametersForm,
    target=lambda payload: f"session:{payload['session']}",
    scope="session",
    describe=lambda payload: f"Change the {payload['session']} session's parameters",
)


def _change_limits(payload: Mapping[str, Any], approver: str) -> dict:
    from risk.models import Instrument

    row = Instrument.objects.get(symbol=payload["symbol"])
    fields = {name: getattr(row, name) for name in services.INSTRUMENT_FIELDS}
    for name in LIMIT_FIELDS:
        if payload.get(name) not in (None, ""):
            fields[name] = Decimal(str(payload[name]))
    instrument, _ = services.put_instrument(symbol=row.symbol, fields=fields, actor=approver)
    return {"symbol": instrument.symbol, "version": instrument.version}


register_action(
    INSTRUMENT_LIMITS_CHANGE,
    roles=ROLES,
    execute=_change_limits,
    label="Change an instrument's limits",
    form=InstrumentLimitsForm,
    target=lambda payload: f"instrument:{payload['symbol']}",
    scope="market",
    describe=lambda payload: f"Change the limits of {payload['symbol']}",
)
