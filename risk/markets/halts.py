"""Operators' halts and resumes, and corporate-action halts scheduled in advance.

A manual halt (``operator`` scope, a reason required) has no end until resumed (issue 6); a
corporate-action halt is a window [starts_at, ends_at) around a split, dividend or earnings
release, kept in the database and mirrored into the instrument's market hash, so the market
is halted from ``starts_at`` to the microsecond with no timer (``risk.markets.breakers``).

Order of effects: the market hash is written first, inside the database transaction, and the
durable ``MarketEvent`` and audit entry follow. If the database then fails, the market is
halted (the safe side) and the sweeper still announces the transition from the hash's stream.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from core import audit, clock
from core.errors import Conflict, NotFound, ValidationFailed
from risk.markets import selectors
from risk.markets.controller import (
    MarketAlreadyHalted,
    MarketNotHalted,
    MarketUpdate,
    UnknownInstrument,
)
from risk.markets.live import live_controller
from risk.markets.state import Reason
from risk.models import CORPORATE_ACTION_KINDS, CorporateActionHalt, Instrument, MarketEvent

MAX_REASON = 500


def _known(symbol: str) -> None:
    if not Instrument.objects.filter(symbol=symbol).exists():
        raise NotFound(f"no instrument {symbol}")


def _record_event(symbol: str, update: MarketUpdate, reason: str, detail: str, actor: str):
    """The operator's durable record; the same row the sweeper would write for the
    transition (unique on instrument, instant, status), now with who and why."""
    view = update.view
    moved = [t for t in update.transitions if t.at == view.at]
    from_status = moved[-1].from_status.value if moved else view.state.value
    MarketEvent.objects.update_or_create(
        instrument=symbol,
        at=view.at,
        to_status=view.state.value,
        defaults={
            "from_status": from_status,
            "reason": reason,
            "until": view.until,
            "detail": detail[:MAX_REASON],
            "actor": actor,
            "recorded_at": clock.now(),
        },
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("reason: required", fields={"reason": ["A reason is required."]})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            "reason: too long", fields={"reason": [f"At most {MAX_REASON} characters."]}
        )
    return reason


def halt_market(*, symbol: str, reason: str, actor: str) -> MarketUpdate:
    reason = _reason(reason)
    _known(symbol)
    with transaction.atomic():
        try:
            update = live_controller().halt(symbol, reason, clock.now())
        except MarketAlreadyHalted:
            raise Conflict(f"{symbol} is already halted by an operator; resume it first") from None
        except UnknownInstrument:
            raise NotFound(f"no instrument {symbol}") from None
        _record_event(symbol, update, Reason.MANUAL_HALT.value, reason, actor)
        audit.record(
            actor=actor,
            action="market.halt",
            object_type="market",
            object_id=symbol,
            after={"state": update.view.state.value, "reason": reason},
        )
    return update


def resume_market(*, symbol: str, reason: str, actor: str) -> MarketUpdate:
    reason = _reason(reason)
    _known(symbol)
    with transaction.atomic():
        try:
            update = live_controller().resume(symbol, clock.now())
        except MarketNotHalted:
            raise Conflict(f"{symbol} is not halted by an operator") from None
        except UnknownInstrument:
            raise NotFound(f"no instrument {symbol}") from None
        _record_event(symbol, update, f"{Reason.MANUAL_HALT.value}_ENDED", reason, actor)
        audit.record(
            actor=actor,
            action="market.resume",
            object_type="market",
            object_id=symbol,
            after={"state": update.view.state.value, "reason": reason},
        )
    return update


def mirror_corporate_actions(symbol: str, now: datetime | None = None) -> MarketUpdate:
    """Write the instrument's pending corporate-action windows into its market hash."""
    now = now or clock.now()
    return live_controller().set_corporate_actions(
        symbol, selectors.corporate_action_windows(symbol, now), now
    )


def schedule_corporate_action(
    *, symbol: str, kind: str, starts_at: datetime, ends_at: datetime, detail: str, actor: str
) -> CorporateActionHalt:
    _known(symbol)
    if kind not in CORPORATE_ACTION_KINDS:
        raise ValidationFailed(
            "kind: unknown", fields={"kind": [f"One of {', '.join(CORPORATE_ACTION_KINDS)}."]}
        )
    if not starts_at < ends_at:
        raise ValidationFailed(
            "ends_at: must be after starts_at", fields={"ends_at": ["Must be after starts_at."]}
        )
    now = clock.now()
    if ends_at <= now:
        raise ValidationFailed(
            "ends_at: already over", fields={"ends_at": ["The window is already over."]}
        )
    with transaction.atomic():
        action = CorporateActionHalt.objects.create(
            symbol=symbol,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            detail=detail.strip()[:MAX_REASON],
            created_at=now,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="corporate_action.schedule",
            object_type="corporate_action",
            object_id=str(action.pk),
            after=_action_fields(action),
        )
        mirror_corporate_actions(symbol, now)
    return action


def cancel_corporate_action(*, symbol: str, action_id: int, actor: str) -> CorporateActionHalt:
    with transaction.atomic():
        action = (
            CorporateActionHalt.objects.select_for_update()
            .filter(pk=action_id, symbol=symbol)
            .first()
        )
        if action is None:
            raise NotFound(f"no corporate action {action_id} on {symbol}")
        if action.cancelled_at is not None:
            return action
        now = clock.now()
        before = _action_fields(action)
        action.cancelled_at, action.cancelled_by = now, actor
        action.save(update_fields=["cancelled_at", "cancelled_by"])
        audit.record(
            actor=actor,
            action="corporate_action.cancel",
            object_type="corporate_action",
            object_id=str(action.pk),
            before=before,
            after=_action_fields(action),
        )
        mirror_corporate_actions(symbol, now)
    return action


def _action_fields(action: CorporateActionHalt) -> dict:
    return {
        "symbol": action.symbol,
        "kind": action.kind,
        "starts_at": action.starts_at.isoformat(),
        "ends_at": action.ends_at.isoformat(),
        "detail": action.detail,
        "cancelled_at": action.cancelled_at.isoformat() if action.cancelled_at else None,
    }
