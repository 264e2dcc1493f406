"""Alerts: the one way any part of Gatehouse tells an officer that something needs a look.

``raise_alert`` is the whole API for event-driven alerts (market state changes,
reconciliation breaks, segregation shortfalls, large withdrawals, failed nightly checks).
A raise of a key that has an alert already is a repeat, counted on that alert
(``occurrences``, ``last_seen``; severity only goes up), in two cases:

- **folding**: the key's alert is not resolved and was last seen within
  ``ALERT_FOLD_MINUTES`` (an instrument flipping to ``close_only`` and back every few
  minutes is one alert, however many clock hours it lasts);
- **de-duplication**: the key was raised in the same window, even if resolved since. The
  window is aligned to the epoch (a 1 h window is the clock hour), so every worker computes
  the same ``window_start``, and the database's unique (key, window_start) is the backstop
  against two workers creating the same alert.

Otherwise it is a new alert, which joins its kind and cause's incident or opens one
(``oversight.incidents``): officers work incidents, and the channels are told
(``notifications``) of the alert that opens an incident or raises its severity — never of a
repeat, nor of an alert that joins an incident at its severity.

Officers move an alert open → acknowledged → resolved (resolving straight from open is
allowed: a false positive needs no acknowledgement first); every transition records who and
why, in the alert's own history and in the audit chain, and refreshes its incident. Anything
else is a ``Conflict``. Acting on whole incidents, several at once: ``oversight.triage``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.dispatch import Signal

from core import audit, clock
from core.errors import Conflict, NotFound, ValidationFailed
from oversight import incidents
from oversight.incidents import severity_rank
from oversight.models import ALERT_SEVERITIES, Alert, AlertEvent

logger = logging.getLogger("gatehouse.alerts")

DEFAULT_WINDOW = timedelta(hours=1)
SYSTEM_ACTOR = "system:alerts"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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


def _snapshot(alert: Alert) -> dict:
    return {
        "key": alert.dedup_key,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "assigned_to": alert.assigned_to,
        "incident": alert.incident_id,
    }


def _validate(*, key: str, kind: str, severity: str, title: str, detail: dict, cause: str) -> None:
    fields: dict[str, list[str]] = {}
    if not key or len(key) > 200:
        fields["key"] = ["Between 1 and 200 characters."]
    if not kind or len(kind) > 60:
        fields["kind"] = ["Between 1 and 60 characters."]
    if len(cause) > 200:
        fields["cause"] = ["At most 200 characters."]
    try:
        severity_rank(severity)
    except KeyError:
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


def lock_alert(alert_id: int) -> Alert:
    """The alert, locked after its incident (``incidents``: incident first, then alerts)."""
    incident_id = Alert.objects.filter(pk=alert_id).values_list("incident_id", flat=True).first()
    if incident_id is None or incidents.lock(incident_id) is None:
        raise NotFound(f"no alert {alert_id}")
    return Alert.objects.select_for_update().select_related("incident").get(pk=alert_id)


def _repeated(key: str, now: datetime, start: datetime, fold: timedelta) -> Alert | None:
    """The key's alert a raise at ``now`` repeats, locked: the unresolved one last seen
    within the fold window, else the one of this de-duplication window. (Raises of one key
    are serialised; only an officer can change the alert between the look and the lock,
    hence the second look at its status.)"""
    folded = (
        Alert.objects.filter(dedup_key=key, last_seen__gte=now - fold)
        .exclude(status="resolved")
        .order_by("-last_seen", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if folded is not None:
        alert = lock_alert(folded)
        if alert.status != "resolved" or alert.window_start == start:
            return alert
    in_window = (
        Alert.objects.filter(dedup_key=key, window_start=start).values_list("pk", flat=True).first()
    )
    return None if in_window is None else lock_alert(in_window)


def _instrument(detail: dict) -> str:
    value = detail.get("instrument")
    return value if isinstance(value, str) and len(value) <= 40 else ""


def _create(
    *,
    key: str,
    kind: str,
    cause: str,
    cause_title: str,
    severity: str,
    title: str,
    detail: dict,
    now: datetime,
    start: datetime,
    fold: timedelta,
) -> Alert:
    """A new alert in its incident (joined or opened). It notifies when it opened the
    incident or raised its severity."""
    incident = incidents.live_incident(kind=kind, cause=cause, now=now, window=fold)
    opened = incident is None
    if opened:
        incident = incidents.open_incident(
            kind=kind, cause=cause, title=cause_title or title, severity=severity, now=now
        )
    notify = opened or severity_rank(severity) > severity_rank(incident.severity)
    alert = Alert.objects.create(
        incident=incident,
        dedup_key=key,
        window_start=start,
        kind=kind,
        severity=severity,
        title=title[:300],
        detail=detail,
        instrument=_instrument(detail),
        notify=notify,
        first_seen=now,
        last_seen=now,
    )
    incidents.refresh(incident)
    return alert


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
    cause: str = "",
    cause_title: str = "",
) -> Alert:
    """Raise an alert, or count a repeat of the key's alert (folded or in this window; its
    severity only ever goes up, title and detail become the latest). ``cause`` groups
    alerts of the same kind into one incident (default: the key alone), ``cause_title``
    names such an incident. Safe to call from any number of workers at once."""
    _validate(key=key, kind=kind, severity=severity, title=title, detail=detail, cause=cause)
    cause = cause or key
    start = window_start(now, window)
    fold = incidents.fold_window()
    with transaction.atomic():
        incidents.serialise(kind, cause)
        alert = _repeated(key, now, start, fold)
        if alert is None:
            try:
                with transaction.atomic():
                    alert = _create(
                        key=key,
                        kind=kind,
                        cause=cause,
                        cause_title=cause_title,
                        severity=severity,
                        title=title,
                        detail=detail,
                        now=now,
                        start=start,
                        fold=fold,
                    )
            except IntegrityError:
                alert = _repeated(key, now, start, fold)  # another worker created it first
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
                    after={**_snapshot(alert), "title": alert.title, "notify": alert.notify},
                )
                if alert.notify:
                    transaction.on_commit(lambda: _announce(alert.pk), robust=True)
                return alert
        if severity_rank(severity) > severity_rank(alert.severity):
            alert.severity = severity
        alert.occurrences += 1
        alert.last_seen = max(alert.last_seen, now)
        alert.title, alert.detail = title[:300], detail
        alert.save(update_fields=["severity", "occurrences", "last_seen", "title", "detail"])
        incidents.refresh(alert.incident)
    return alert


def transition(alert: Alert, *, to: str, actor: str, note: str, now: datetime) -> dict:
    """Move a locked alert to ``to`` with its history row; returns its state before. The
    caller records the audit entry and refreshes the incident."""
    if to not in _TRANSITIONS[alert.status]:
        raise Conflict(f"alert {alert.pk} is {alert.status}; it cannot become {to}")
    before = _snapshot(alert)
    alert.status = to
    if to == "acknowledged":
        alert.acknowledged_by, alert.acknowledged_at = actor, now
    else:
        alert.resolved_by, alert.resolved_at, alert.resolution = actor, now, note
    alert.save()
    AlertEvent.objects.create(
        alert=alert,
        at=now,
        actor=actor,
        action="acknowledged" if to == "acknowledged" else "resolved",
        status_after=to,
        note=note,
    )
    return before


def acknowledge(alert: Alert, *, actor: str, note: str, now: datetime, after: dict) -> None:
    """Acknowledge a locked alert, audited (``after`` adds to the entry's after-state)."""
    before = transition(alert, to="acknowledged", actor=actor, note=note, now=now)
    audit.record(
        actor=actor,
        action="alert.acknowledge",
        object_type="alert",
        object_id=str(alert.pk),
        before=before,
        after={**_snapshot(alert), "note": note, **after},
    )


def resolve(alert: Alert, *, actor: str, resolution: str, now: datetime, after: dict) -> None:
    """Resolve a locked alert, audited."""
    before = transition(alert, to="resolved", actor=actor, note=resolution, now=now)
    audit.record(
        actor=actor,
        action="alert.resolve",
        object_type="alert",
        object_id=str(alert.pk),
        before=before,
        after={**_snapshot(alert), "resolution": resolution, **after},
    )


def assign(alert: Alert, *, assignee: str, actor: str, now: datetime, after: dict) -> None:
    """Give a locked alert to an officer (or take it back with an empty ``assignee``)."""
    if alert.status == "resolved":
        raise Conflict(f"alert {alert.pk} is resolved; it cannot be assigned")
    before = _snapshot(alert)
    alert.assigned_to = assignee
    alert.save(update_fields=["assigned_to"])
    AlertEvent.objects.create(
        alert=alert,
        at=now,
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
        after={**_snapshot(alert), **after},
    )


def require_resolution(resolution: str) -> str:
    """The resolution is required: an auditor must be able to read why."""
    if not resolution.strip():
        raise ValidationFailed(
            "resolution: say why the alert is resolved",
            fields={"resolution": ["Required."]},
        )
    return resolution


def acknowledge_alert(
    *, alert_id: int, actor: str, note: str = "", now: datetime | None = None
) -> Alert:
    """An officer has seen it and is on it."""
    with transaction.atomic():
        alert = lock_alert(alert_id)
        acknowledge(alert, actor=actor, note=note, now=now or clock.now(), after={})
        incidents.refresh(alert.incident)
    return alert


def resolve_alert(
    *, alert_id: int, actor: str, resolution: str, now: datetime | None = None
) -> Alert:
    """Close an alert, saying why."""
    require_resolution(resolution)
    with transaction.atomic():
        alert = lock_alert(alert_id)
        resolve(alert, actor=actor, resolution=resolution, now=now or clock.now(), after={})
        incidents.refresh(alert.incident)
    return alert


def assign_alert(*, alert_id: int, assignee: str, actor: str, now: datetime | None = None) -> Alert:
    """Give an alert to an officer (or take it back with an empty ``assignee``)."""
    with transaction.atomic():
        alert = lock_alert(alert_id)
        assign(alert, assignee=assignee, actor=actor, now=now or clock.now(), after={})
        incidents.refresh(alert.incident)
    return alert
