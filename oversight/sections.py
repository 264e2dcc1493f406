"""Oversight's own section of the daily regulatory report (the other parts register theirs
with ``core.registry``, which the report reads through ``sections_for``)."""

from __future__ import annotations

from datetime import datetime

from core.registry import section, sections_for
from oversight.models import Alert, AlertEvent

__all__ = ["sections_for"]


@section("alerts_raised")
def alerts_raised(period_start: datetime, period_end: datetime):
    """Every alert first raised in the period, with its status as of the end of the period
    (from its history, so a later acknowledgement does not rewrite this day's report)."""
    columns = ["alert_id", "first_seen", "kind", "severity", "key", "title", "status_at_end"]
    alerts = Alert.objects.filter(first_seen__gte=period_start, first_seen__lt=period_end)
    status_at_end: dict[int, str] = {}
    for alert_id, status in (
        AlertEvent.objects.filter(alert__in=alerts, at__lt=period_end)
        .order_by("at", "id")
        .values_list("alert_id", "status_after")
    ):
        status_at_end[alert_id] = status
    rows = [
        (pk, first_seen, kind, severity, key, title, status_at_end.get(pk, "open"))
        for pk, first_seen, kind, severity, key, title in alerts.values_list(
            "id", "first_seen", "kind", "severity", "dedup_key", "title"
        )
    ]
    return columns, rows
