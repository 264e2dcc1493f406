"""An officer's work on incidents: acknowledge several at once, assign one, resolve one.

Each acts on every alert of the incident that the step applies to (acknowledge: the open
ones; assign and resolve: the unresolved ones) through the same steps as one alert
(``oversight.alerts``): each alert gets its history row and its audit entry, naming the
officer and the incident. A bulk acknowledgement is one transaction: an incident that does
not exist refuses the whole request (nothing is acknowledged), while an incident with
nothing left to acknowledge — another officer was quicker — is skipped and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from core import clock
from core.errors import Conflict, NotFound, ValidationFailed
from oversight import alerts, incidents
from oversight.models import Alert, Incident

MAX_BULK = 200
"""Incidents one request may acknowledge: a page's worth, with room."""


@dataclass(frozen=True)
class BulkOutcome:
    acknowledged: list[Incident] = field(default_factory=list)
    alerts: int = 0
    skipped: list[Incident] = field(default_factory=list)


def _ids(incident_ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(incident_ids))
    if not wanted:
        raise ValidationFailed(
            "incidents: choose at least one", fields={"incidents": ["Choose at least one."]}
        )
    if len(wanted) > MAX_BULK:
        raise ValidationFailed(
            f"incidents: at most {MAX_BULK} at once",
            fields={"incidents": [f"At most {MAX_BULK} at once."]},
        )
    return wanted


def _members(incident: Incident, *, statuses: tuple[str, ...]) -> list[Alert]:
    return list(incident.alerts.select_for_update().filter(status__in=statuses).order_by("pk"))


def acknowledge_incidents(
    *, incident_ids: Sequence[int], actor: str, note: str = "", now: datetime | None = None
) -> BulkOutcome:
    """Acknowledge every open alert of each incident, under ``actor``, in one transaction."""
    wanted = _ids(incident_ids)
    moment = now or clock.now()
    done, skipped, count = [], [], 0
    with transaction.atomic():
        locked = list(Incident.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
        missing = sorted(set(wanted) - {incident.pk for incident in locked})
        if missing:
            raise NotFound(f"no incident {', '.join(map(str, missing))}")
        for incident in locked:
            members = _members(incident, statuses=(incidents.OPEN,))
            if not members:
                skipped.append(incident)
                continue
            for alert in members:
                alerts.acknowledge(
                    alert,
                    actor=actor,
                    note=note,
                    now=moment,
                    after={"incident": incident.pk, "bulk": len(wanted) > 1},
                )
            count += len(members)
            done.append(incidents.refresh(incident))
    return BulkOutcome(acknowledged=done, alerts=count, skipped=skipped)


def _locked_incident(incident_id: int) -> Incident:
    incident = incidents.lock(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident


def resolve_incident(
    *, incident_id: int, actor: str, resolution: str, now: datetime | None = None
) -> Incident:
    """Resolve every unresolved alert of the incident with the officer's reason."""
    alerts.require_resolution(resolution)
    moment = now or clock.now()
    with transaction.atomic():
        incident = _locked_incident(incident_id)
        members = _members(incident, statuses=(incidents.OPEN, incidents.ACKNOWLEDGED))
        if not members:
            raise Conflict(f"incident {incident_id} is already resolved")
        for alert in members:
            alerts.resolve(
                alert,
                actor=actor,
                resolution=resolution,
                now=moment,
                after={"incident": incident.pk},
            )
        return incidents.refresh(incident)


def assign_incident(
    *, incident_id: int, assignee: str, actor: str, now: datetime | None = None
) -> Incident:
    """Give every unresolved alert of the incident to an officer (empty: take it back)."""
    moment = now or clock.now()
    with transaction.atomic():
        incident = _locked_incident(incident_id)
        members = _members(incident, statuses=(incidents.OPEN, incidents.ACKNOWLEDGED))
        if not members:
            raise Conflict(f"incident {incident_id} is resolved; it cannot be assigned")
        for alert in members:
            alerts.assign(
                alert, assignee=assignee, actor=actor, now=moment, after={"incident": incident.pk}
            )
        return incidents.refresh(incident)
