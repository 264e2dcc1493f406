"""Alerts: the one way any part of Gatehouse tells an officer that something needs a look.

``raise_alert`` is the whole API for event-driven alerts (market state changes,
reconciliation breaks, segregation shortfalls, large withdrawals, failed nightly checks).
It is de-duplicated by key within a window: the window is aligned to the epoch (a 1 h window
is the clock hour), so every worker computes the same ``window_start`` for the same moment
and the database's unique (key, window_start) decides, without any lock, which of two racing
workers creates the alert and which one counts a repeat. A repeat inside the window — even
after the alert was resolved — is counted on that alert: the window is the caller's
statement of how long one incident lasts; the next window raises afresh. The channels are
told once per alert (``notifications``), when it is first raised.

Officers move an alert open → acknowledged → resolved (resolving straight from open is
allowed: a false positive needs no acknowledgement first); every transition records who and
why, in the alert's own history and in the audit chain. Anything else is a ``Conflict``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from core import audit, clock
from core.errors import Conflict, NotFound, ValidationFailed
from oversight.models import ALERT_SEVERITIES, Alert, AlertEvent

logger = logging.getLogger("gatehouse.alerts")

DEFAULT_WINDOW = timedelta(hours=1)
SYSTEM_ACTOR = "system:alerts"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RANK = {severity: rank for rank, severity in enumerate(ALERT_SEVERITIES)}

# status → the statuses an officer may move it to
_TRANSITIONS = {
    "open": {"acknowledged", "resolved"},
    "acknowledged": {"resolved"},
    "resolved": set(),
}


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the de-duplication window holding ``now``: epoch-aligned, so it is the
    same on every worker without coordination."""
    if window <= timedelta(0):
        raise ValueError("the de-duplication window must be positive")
    return _EPOCH + ((now.astimezone(UTC) - _EPOCH) // window) * window


def severity_rank(severity: str) -> int:
    return _RANK[severity]


def _snapshot(alert: Alert) -> dict:
    return {
        "key": alert.dedup_key,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "assigned_to": alert.assigned_to,
    }


def _validate(*, key: str, kind: str, severity: str, title: str, detail: dict) -> None:
    fields: dict[str, list[str]] = {}
    if not key or len(key) > 200:
        fields["key"] = ["Between 1 and 200 characters."]
    if not kind or len(kind) > 60:
        fields["kind"] = ["Between 1 and 60 characters."]
    if severity not in _RANK:
        fields["severity"] = [f"One of {', '.join(ALERT_SEVERITIES)}."]
    if not title:
        fields["title"] = ["Required."]
    if not isinstance(detail, dict):
        fields["detail"] = ["Must be an object."]
    if fields:
        raise ValidationFailed("The alert is not valid.", fields=fields)


alert_raised = Signal()
"""Sent after the commit that created an alert (``alert_id``); the notification task is
queued by its receiver (``oversight.receivers``)."""


def _announce(alert_id: int) -> None:
    """Tell the channels, after the commit. If the broker is down the alert still exists
    and the scheduled notification sweep tells the channels later."""
    alert_raised.send(Alert, alert_id=alert_id)


def _live(key: str, start: datetime) -> Alert | None:
    return Alert.objects.select_for_update().filter(dedup_key=key, window_start=start).first()


def raise_alert(
    *,
    key: str,
    kind: str,
    severity: str,
    title: str,
    detail: dict,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    raised_by: str = SYSTEM_ACTOR,
) -> Alert:
    """Raise an alert, or count a repeat of the one already raised for ``key`` in this
    window (its severity only ever goes up; title and detail become the latest). Safe to
    call from any number of workers at once."""
    _validate(key=key, kind=kind, severity=severity, title=title, detail=detail)
    start = window_start(now, window)
    with transaction.atomic():
        alert = _live(key, start)
        if alert is None:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        dedup_key=key,
                        window_start=start,
                        kind=kind,
                        severity=severity,
                        title=title[:300],
                        detail=detail,
                        first_seen=now,
                        last_seen=now,
                    )
            except IntegrityError:
                alert = _live(key, start)  # another worker created it first: a repeat
                if alert is None:
                    raise
            else:
                AlertEvent.objects.create(
                    alert=alert, at=now, actor=raised_by, action="raised", status_after="open"
                )
                audit.record(
                    actor=raised_by,
                    action="alert.raise",
                    object_type="alert",
                    object_id=str(alert.pk),
                    after={**_snapshot(alert), "title": alert.title},
                )
                transaction.on_commit(lambda: _announce(alert.pk), robust=True)
                return alert
        if severity_rank(severity) > severity_rank(alert.severity):
            alert.severity = severity
        alert.occurrences += 1
        alert.last_seen = max(alert.last_seen, now)
        alert.title, alert.detail = title[:300], detail
        alert.save(update_fields=["severity", "occurrences", "last_seen", "title", "detail"])
    return alert


def _transition(
    *, alert_id: int, to: str, actor: str, note: str, now: datetime | None
) -> tuple[Alert, dict]:
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if to not in _TRANSITIONS[alert.status]:
        raise Conflict(f"alert {alert_id} is {alert.status}; it cannot become {to}")
    before = _snapshot(alert)
    moment = now or clock.now()
    alert.status = to
    if to == "acknowledged":
        alert.acknowledged_by, alert.acknowledged_at = actor, moment
    else:
        alert.resolved_by, alert.resolved_at, alert.resolution = actor, moment, note
    alert.save()
    AlertEvent.objects.create(
        alert=alert,
        at=moment,
        actor=actor,
        action="acknowledged" if to == "acknowledged" else "resolved",
        status_after=to,
        note=note,
    )
    return alert, before


def acknowledge_alert(
    *, alert_id: int, actor: str, note: str = "", now: datetime | None = None
) -> Alert:
    """An officer has seen it and is on it."""
    with transaction.atomic():
        alert, before = _transition(
            alert_id=alert_id, to="acknowledged", actor=actor, note=note, now=now
        )
        audit.record(
            actor=actor,
            action="alert.acknowledge",
            object_type="alert",
            object_id=str(alert.pk),
            before=before,
            after={**_snapshot(alert), "note": note},
        )
    return alert


def resolve_alert(
    *, alert_id: int, actor: str, resolution: str, now: datetime | None = None
) -> Alert:
    """Close an alert. The resolution is required: an auditor must be able to read why."""
    if not resolution.strip():
        raise ValidationFailed(
            "resolution: say why the alert is resolved",
            fields={"resolution": ["Required."]},
        )
    with transaction.atomic():
        alert, before = _transition(
            alert_id=alert_id, to="resolved", actor=actor, note=resolution, now=now
        )
        audit.record(
            actor=actor,
            action="alert.resolve",
            object_type="alert",
            object_id=str(alert.pk),
            before=before,
            after={**_snapshot(alert), "resolution": resolution},
        )
    return alert


def assign_alert(*, alert_id: int, assignee: str, actor: str, now: datetime | None = None) -> Alert:
    """Give an alert to an officer (or take it back with an empty ``assignee``)."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(f"no alert {alert_id}")
        if alert.status == "resolved":
            raise Conflict(f"alert {alert_id} is resolved; it cannot be assigned")
        before = _snapshot(alert)
        alert.assigned_to = assignee
        alert.save(update_fields=["assigned_to"])
        AlertEvent.objects.create(
            alert=alert,
            at=now or clock.now(),
            actor=actor,
            action="assigned",
            status_after=alert.status,
            note=assignee,
        )
        audit.record(
            actor=actor,
            action="alert.assign",
            object_type="alert",
            object_id=str(alert.pk),
            before=before,
            after=_snapshot(alert),
        )
    return alert
