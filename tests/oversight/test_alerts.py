"""Alerts: de-duplicated by key within a window, even between racing workers; a lifecycle
open → acknowledged → resolved with who and why, audited; other moves refused."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from oversight import alerts
from oversight.models import Alert, AlertEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 21, 10, tzinfo=UTC)


def raise_one(key="recon.break:wallet-a", now=NOW, severity="warning", **extra):
    return alerts.raise_alert(
        key=key,
        kind=extra.pop("kind", "custody.reconciliation_break"),
        severity=severity,
        title=extra.pop("title", "wallet-a differs from the ledger by 10.00 USDC"),
        detail=extra.pop("detail", {"wallet": "wallet-a", "difference": "10.00"}),
        now=now,
        **extra,
    )


@pytest.mark.parametrize(
    ("moment", "window", "start"),
    [
        ("2026-11-24T21:10:00Z", timedelta(hours=1), "2026-11-24T21:00:00Z"),
        ("2026-11-24T21:59:59Z", timedelta(hours=1), "2026-11-24T21:00:00Z"),
        ("2026-11-24T22:00:00Z", timedelta(hours=1), "2026-11-24T22:00:00Z"),
        ("2026-11-24T21:10:00Z", timedelta(days=1), "2026-11-24T00:00:00Z"),
        ("2026-11-24T21:14:59Z", timedelta(minutes=15), "2026-11-24T21:00:00Z"),
    ],
)
def test_windows_are_aligned_to_the_epoch_so_every_worker_agrees(moment, window, start):
    assert alerts.window_start(datetime.fromisoformat(moment), window) == datetime.fromisoformat(
        start
    )


def test_a_repeat_inside_the_window_counts_on_the_open_alert():
    first = raise_one()
    again = raise_one(now=NOW + timedelta(minutes=20), detail={"difference": "12.00"})
    assert again.pk == first.pk
    assert Alert.objects.count() == 1
    again.refresh_from_db()
    assert again.occurrences == 2
    assert again.first_seen == NOW and again.last_seen == NOW + timedelta(minutes=20)
    assert again.detail == {"difference": "12.00"}
    assert AlertEvent.objects.filter(alert=again).count() == 1  # raised once


def test_the_next_window_raises_a_new_alert_once_the_fold_window_has_passed(settings):
    """Within ``ALERT_FOLD_MINUTES`` of its last sighting an unresolved alert takes the
    repeat whatever the window (``test_incidents``); past it, the next window raises anew."""
    settings.ALERT_FOLD_MINUTES = 30
    first = raise_one()
    later = raise_one(now=NOW + timedelta(hours=1))
    assert later.pk != first.pk and Alert.objects.count() == 2


def test_other_keys_are_other_alerts():
    raise_one(key="recon.break:wallet-a")
    raise_one(key="recon.break:wallet-b")
    assert Alert.objects.count() == 2


def test_a_repeat_only_ever_raises_the_severity():
    alert = raise_one(severity="warning")
    raise_one(severity="critical", now=NOW + timedelta(minutes=1))
    raise_one(severity="info", now=NOW + timedelta(minutes=2))
    alert.refresh_from_db()
    assert alert.severity == "critical" and alert.occurrences == 3


def test_raising_is_audited():
    alert = raise_one()
    entry = AuditEntry.objects.get(action="alert.raise")
    assert entry.object_id == str(alert.pk) and entry.actor == "system:alerts"
    assert entry.after["key"] == "recon.break:wallet-a" and entry.after["severity"] == "warning"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("severity", {"severity": "urgent"}),
        ("key", {"key": ""}),
        ("title", {"title": ""}),
        ("detail", {"detail": ["not", "an", "object"]}),
    ],
)
def test_invalid_alerts_are_refused(field, kwargs):
    with pytest.raises(ValidationFailed) as caught:
        raise_one(**kwargs)
    assert field in caught.value.fields


def test_the_database_refuses_a_second_alert_for_the_same_key_and_window():
    alert = raise_one()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            incident=alert.incident,  # else the missing incident would be the refusal
            dedup_key=alert.dedup_key,
            window_start=alert.window_start,
            kind="x",
            severity="info",
            title="x",
            first_seen=NOW,
            last_seen=NOW,
        )


def test_the_lifecycle_records_who_and_why_in_history_and_audit():
    alert = raise_one()
    alerts.assign_alert(alert_id=alert.pk, assignee="officer:li", actor="officer:chen")
    alerts.acknowledge_alert(alert_id=alert.pk, actor="officer:li", note="looking at wallet-a")
    alerts.resolve_alert(
        alert_id=alert.pk, actor="officer:li", resolution="custodian statement was late"
    )
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.assigned_to == "officer:li"
    assert alert.acknowledged_by == "officer:li" and alert.resolved_by == "officer:li"
    assert alert.resolution == "custodian statement was late"
    history = list(alert.events.values_list("action", "actor", "status_after"))
    assert history == [
        ("raised", "system:alerts", "open"),
        ("assigned", "officer:chen", "open"),
        ("acknowledged", "officer:li", "acknowledged"),
        ("resolved", "officer:li", "resolved"),
    ]
    audited = list(
        AuditEntry.objects.filter(object_type="alert", object_id=str(alert.pk))
        .order_by("seq")
        .values_list("action", "actor")
    )
    assert audited == [
        ("alert.raise", "system:alerts"),
        ("alert.assign", "officer:chen"),
        ("alert.acknowledge", "officer:li"),
        ("alert.resolve", "officer:li"),
    ]
    resolve = AuditEntry.objects.get(action="alert.resolve")
    assert resolve.before["status"] == "acknowledged"
    assert resolve.after["resolution"] == "custodian statement was late"


def test_a_false_positive_may_be_resolved_without_acknowledging():
    alert = raise_one()
    alerts.resolve_alert(alert_id=alert.pk, actor="officer:li", resolution="test wallet")
    alert.refresh_from_db()
    assert alert.status == "resolved"


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        (["acknowledge"], "acknowledge"),
        (["resolve"], "acknowledge"),
        (["resolve"], "resolve"),
        (["resolve"], "assign"),
    ],
)
def test_invalid_transitions_are_conflicts(steps, refused):
    alert = raise_one()
    moves = {
        "acknowledge": lambda: alerts.acknowledge_alert(alert_id=alert.pk, actor="officer:li"),
        "resolve": lambda: alerts.resolve_alert(
            alert_id=alert.pk, actor="officer:li", resolution="done"
        ),
        "assign": lambda: alerts.assign_alert(
            alert_id=alert.pk, assignee="officer:wu", actor="officer:li"
        ),
    }
    for step in steps:
        moves[step]()
    audited = AuditEntry.objects.count()
    with pytest.raises(Conflict):
        moves[refused]()
    assert AuditEntry.objects.count() == audited


def test_resolving_needs_a_reason_and_an_alert():
    alert = raise_one()
    with pytest.raises(ValidationFailed):
        alerts.resolve_alert(alert_id=alert.pk, actor="officer:li", resolution="  ")
    with pytest.raises(NotFound):
        alerts.acknowledge_alert(alert_id=alert.pk + 1000, actor="officer:li")


def test_a_repeat_after_resolution_in_the_same_window_is_counted_not_reraised():
    alert = raise_one()
    alerts.resolve_alert(alert_id=alert.pk, actor="officer:li", resolution="handled")
    again = raise_one(now=NOW + timedelta(minutes=5))
    assert again.pk == alert.pk and again.status == "resolved" and again.occurrences == 2


@pytest.mark.django_db(transaction=True)
def test_racing_workers_create_one_alert():
    """Eight threads, each with its own database connection, raise the same key at once."""
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            barrier.wait()
            raise_one()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    alert = Alert.objects.get()
    assert alert.occurrences == 8
    assert AuditEntry.objects.filter(action="alert.raise").count() == 1
