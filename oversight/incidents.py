"""Incidents: the alerts of one kind and cause that arrived together, which is what an
officer works (issue 18: a demo whose feed stopped opened one warning per instrument and per
stale episode, 49 on a fresh start, so the first thing an officer saw was noise).

The rule: a new alert joins the unresolved incident of its kind and cause whose last alert
was seen within ``ALERT_FOLD_MINUTES``; otherwise it opens a new incident. The cause is the
caller's to name (``raise_alert(cause=...)``: a market state and its reason, a custodian);
without one it is the alert's key, so such an incident holds one alert and its repeats,
as before. Raising serialises per kind and cause (``serialise``: a transaction-scoped
advisory lock on PostgreSQL; SQLite serialises writers already), so two workers announcing
two instruments' transitions at the same moment join one incident rather than open two.

An incident's figures are a summary of its alerts, recomputed by ``refresh`` inside the
transaction of every change to them; the alerts (their history, audit entries, deliveries)
stay the record. Lock order, everywhere: the incident's row, then its alerts' rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum

from core import locks
from oversight.models import ALERT_SEVERITIES, AlertEvent, Incident

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
_RANK = {severity: rank for rank, severity in enumerate(ALERT_SEVERITIES)}


def fold_window() -> timedelta:
    """``ALERT_FOLD_MINUTES``: how close to the last alert a new one must come to join it."""
    minutes = int(getattr(settings, "ALERT_FOLD_MINUTES", 60))
    if minutes <= 0:
        raise ValueError("ALERT_FOLD_MINUTES must be a positive number of minutes")
    return timedelta(minutes=minutes)


def serialise(kind: str, cause: str) -> None:
    """Until the end of the transaction, no other raise of this kind and cause runs."""
    locks.serialise(f"alerts:{kind}:{cause}")


def live_incident(*, kind: str, cause: str, now: datetime, window: timedelta) -> Incident | None:
    """The unresolved incident of this kind and cause last seen within ``window``, locked."""
    return (
        Incident.objects.select_for_update()
        .filter(kind=kind, cause=cause, last_seen__gte=now - window)
        .exclude(status=RESOLVED)
        .order_by("-last_seen", "-id")
        .first()
    )


def open_incident(*, kind: str, cause: str, title: str, severity: str, now: datetime) -> Incident:
    return Incident.objects.create(
        kind=kind,
        cause=cause,
        title=title[:300],
        severity=severity,
        status=OPEN,
        first_seen=now,
        last_seen=now,
        alert_count=0,
        occurrences=0,
    )


def lock(incident_id: int) -> Incident | None:
    return Incident.objects.select_for_update().filter(pk=incident_id).first()


def status_of(*, open_alerts: int, acknowledged_alerts: int) -> str:
    """Open while any of its alerts is open (a new alert reopens an acknowledged incident:
    the officer has not seen it), acknowledged while any is still being handled, resolved
    when every one is."""
    if open_alerts:
        return OPEN
    if acknowledged_alerts:
        return ACKNOWLEDGED
    return RESOLVED


def _last_action(incident: Incident) -> str:
    event = (
        AlertEvent.objects.filter(alert__incident=incident, action__in=(ACKNOWLEDGED, RESOLVED))
        .order_by("-at", "-id")
        .values_list("action", "actor", "note")
        .first()
    )
    if event is None:
        return ""
    action, actor, note = event
    text = f"{action} by {actor}"
    return (f"{text}: {note}" if action == RESOLVED and note else text)[:500]


def refresh(incident: Incident) -> Incident:
    """Recompute the incident's figures from its alerts (the caller holds its row lock)."""
    figures = incident.alerts.aggregate(
        count=Count("id"),
        occurrences=Sum("occurrences"),
        first_seen=Min("first_seen"),
        last_seen=Max("last_seen"),
        open=Count("id", filter=Q(status=OPEN)),
        acknowledged=Count("id", filter=Q(status=ACKNOWLEDGED)),
        **{severity: Count("id", filter=Q(severity=severity)) for severity in ALERT_SEVERITIES},
    )
    unresolved = incident.alerts.exclude(status=RESOLVED)
    incident.alert_count = figures["count"]
    incident.occurrences = figures["occurrences"] or 0
    incident.first_seen = figures["first_seen"] or incident.first_seen
    incident.last_seen = figures["last_seen"] or incident.last_seen
    incident.severity = max(
        (severity for severity in ALERT_SEVERITIES if figures[severity]),
        key=_RANK.__getitem__,
        default=incident.severity,
    )
    incident.status = status_of(
        open_alerts=figures["open"], acknowledged_alerts=figures["acknowledged"]
    )
    incident.instruments = sorted(
        set(incident.alerts.exclude(instrument="").values_list("instrument", flat=True))
    )
    incident.assigned_to = ", ".join(
        sorted(set(unresolved.exclude(assigned_to="").values_list("assigned_to", flat=True)))
    )[:200]
    incident.last_action = _last_action(incident)
    incident.save()
    return incident


def severity_rank(severity: str) -> int:
    return _RANK[severity]
