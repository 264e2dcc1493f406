"""Incidents and folding (issue 18): alerts of one kind and cause that arrive together are
one incident; an instrument that flips again and again within ``ALERT_FOLD_MINUTES`` is one
alert; only the alert that opens an incident (or raises its severity) notifies; officers
acknowledge incidents in bulk, under their name, audited per alert."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry
from oversight import alerts, incidents, notifications, triage
from oversight.models import Alert, AlertEvent, Incident

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 21, 10, tzinfo=UTC)
SYMBOLS = ["AAPL-PERP", "NVDA-PERP", "TSLA-PERP", "SPY-PERP", "BTC-PERP", "USTB-RWA"]


def stale(symbol: str, now: datetime = NOW, *, to: str = "close_only", reason="ORACLE_STALE"):
    """What the market monitor raises for one transition (``announce_market_events``)."""
    return alerts.raise_alert(
        key=f"market.{symbol}.{to}.{reason}",
        kind="market_state",
        severity="critical" if to == "halted" else "warning",
        title=f"{symbol} open → {to} ({reason})",
        detail={"instrument": symbol, "reason": reason},
        now=now,
        cause=f"{to}.{reason}",
        cause_title=f"Markets {to} ({reason})",
    )


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- grouping ----------------------------------------------------------------------------


def test_instruments_going_stale_together_are_one_incident():
    for n, symbol in enumerate(SYMBOLS * 2):  # each twice: the second sighting folds
        stale(symbol, NOW + timedelta(seconds=n))
    incident = Incident.objects.get()
    assert Alert.objects.count() == len(SYMBOLS)
    assert (incident.alert_count, incident.occurrences) == (len(SYMBOLS), 2 * len(SYMBOLS))
    assert incident.instruments == sorted(SYMBOLS)
    assert incident.title == "Markets close_only (ORACLE_STALE)"
    assert (incident.kind, incident.cause, incident.status) == (
        "market_state",
        "close_only.ORACLE_STALE",
        "open",
    )
    assert incident.first_seen == NOW
    assert incident.last_seen == NOW + timedelta(seconds=2 * len(SYMBOLS) - 1)


def test_another_cause_or_kind_is_another_incident():
    stale("AAPL-PERP")
    stale("NVDA-PERP", reason="ORACLE_DIVERGENCE")
    stale("TSLA-PERP", to="halted", reason="MANUAL_HALT")
    assert Incident.objects.count() == 3


def test_without_a_cause_an_alert_is_its_own_incident():
    for key in ("recon:a", "recon:b"):
        alerts.raise_alert(
            key=key, kind="reconciliation_break", severity="critical", title=key, detail={}, now=NOW
        )
    assert sorted(Incident.objects.values_list("cause", "alert_count")) == [
        ("recon:a", 1),
        ("recon:b", 1),
    ]


def test_an_alert_after_the_fold_window_opens_a_new_incident(settings):
    settings.ALERT_FOLD_MINUTES = 30
    stale("AAPL-PERP")
    stale("NVDA-PERP", NOW + minutes(29))  # within 30 min of the last alert: joins
    stale("TSLA-PERP", NOW + minutes(60))  # 31 min after the last one: a new incident
    first, second = Incident.objects.order_by("first_seen")
    assert first.instruments == ["AAPL-PERP", "NVDA-PERP"] and second.instruments == ["TSLA-PERP"]


def test_a_new_alert_reopens_an_acknowledged_incident_but_not_a_resolved_one():
    first = stale("AAPL-PERP")
    triage.acknowledge_incidents(incident_ids=[first.incident_id], actor="officer:li")
    assert Incident.objects.get().status == "acknowledged"
    stale("NVDA-PERP", NOW + minutes(1))
    incident = Incident.objects.get()
    assert incident.status == "open" and incident.alert_count == 2  # the officer has not seen it
    triage.resolve_incident(incident_id=incident.pk, actor="officer:li", resolution="feed back")
    third = stale("TSLA-PERP", NOW + minutes(2))
    assert third.incident_id != incident.pk and Incident.objects.count() == 2


# --- folding -----------------------------------------------------------------------------


def test_recurring_flips_of_one_instrument_fold_into_the_open_alert_across_hours():
    """Before: one alert per clock hour (the de-duplication window), so an instrument
    flapping all afternoon opened a new warning every hour."""
    moments = [NOW + minutes(m) for m in (0, 40, 95, 150, 205)]  # 21:10 … 00:35, every gap < 60
    for moment in moments:
        stale("AAPL-PERP", moment)
    alert = Alert.objects.get()
    assert alert.occurrences == len(moments)
    assert (alert.first_seen, alert.last_seen) == (moments[0], moments[-1])
    assert AlertEvent.objects.filter(alert=alert, action="raised").count() == 1
    assert AuditEntry.objects.filter(action="alert.raise").count() == 1


def test_a_flip_after_a_quiet_fold_window_is_a_new_alert(settings):
    settings.ALERT_FOLD_MINUTES = 45
    stale("AAPL-PERP")
    stale("AAPL-PERP", NOW + minutes(120))
    assert Alert.objects.count() == 2 and Incident.objects.count() == 2


def test_a_flip_after_resolution_is_a_new_alert_once_its_window_is_over():
    first = stale("AAPL-PERP")
    alerts.resolve_alert(alert_id=first.pk, actor="officer:li", resolution="feed restored")
    same_hour = stale("AAPL-PERP", NOW + minutes(20))  # 21:30: the resolved alert's hour
    assert same_hour.pk == first.pk and same_hour.status == "resolved"
    next_hour = stale("AAPL-PERP", NOW + minutes(55))  # 22:05: resolved, so no fold
    assert next_hour.pk != first.pk and next_hour.status == "open"


def test_the_fold_window_is_configuration(settings):
    settings.ALERT_FOLD_MINUTES = 0
    with pytest.raises(ValueError, match="ALERT_FOLD_MINUTES"):
        stale("AAPL-PERP")


# --- what notifies -----------------------------------------------------------------------


def test_only_the_alert_that_opens_or_escalates_an_incident_notifies(
    settings, django_capture_on_commit_callbacks
):
    settings.ALERT_EMAIL_RECIPIENTS = ["risk@venue.example"]
    with django_capture_on_commit_callbacks() as announced:
        opener = stale("AAPL-PERP")
        joined = stale("NVDA-PERP", NOW + minutes(1))
        folded = stale("AAPL-PERP", NOW + minutes(2))
        escalated = alerts.raise_alert(
            key="market.TSLA-PERP.close_only.ORACLE_STALE",
            kind="market_state",
            severity="critical",
            title="TSLA-PERP open → close_only (ORACLE_STALE)",
            detail={"instrument": "TSLA-PERP"},
            now=NOW + minutes(3),
            cause="close_only.ORACLE_STALE",
        )
    assert folded.pk == opener.pk
    assert [opener.notify, joined.notify, escalated.notify] == [True, False, True]
    assert len(announced) == 2  # the opener and the escalation; no repeat, no join
    assert notifications.dispatch(alert_id=joined.pk, now=NOW) == []
    assert len(notifications.dispatch(alert_id=opener.pk, now=NOW)) == 1
    # the sweep for lost notifications does not tell the joined alert either
    notifications.sweep(now=NOW + minutes(10))
    assert not joined.deliveries.exists()
    assert Incident.objects.get().severity == "critical"


def test_the_webhook_payload_keeps_its_fields_and_names_the_incident():
    alert = stale("AAPL-PERP")
    payload = notifications.alert_payload(alert)
    assert set(payload) == {
        "id",
        "key",
        "kind",
        "severity",
        "title",
        "detail",
        "status",
        "occurrences",
        "first_seen",
        "last_seen",
        "incident",
    }
    assert payload["incident"] == alert.incident_id


# --- officers' work on incidents ---------------------------------------------------------


def test_bulk_acknowledge_under_the_officers_name_audited_per_alert():
    for symbol in SYMBOLS[:3]:
        stale(symbol)
    halted = stale("SPY-PERP", to="halted", reason="MWCB_LEVEL_1")
    market = Incident.objects.get(cause="close_only.ORACLE_STALE")
    outcome = triage.acknowledge_incidents(
        incident_ids=[market.pk, halted.incident_id], actor="officer:li", note="feed vendor down"
    )
    assert (len(outcome.acknowledged), outcome.alerts, outcome.skipped) == (2, 4, [])
    assert set(Alert.objects.values_list("status", "acknowledged_by")) == {
        ("acknowledged", "officer:li")
    }
    assert set(Incident.objects.values_list("status", flat=True)) == {"acknowledged"}
    entries = AuditEntry.objects.filter(action="alert.acknowledge")
    assert entries.count() == 4
    for entry in entries:
        assert entry.actor == "officer:li"
        assert entry.after["note"] == "feed vendor down" and entry.after["bulk"] is True
        assert entry.after["incident"] in (market.pk, halted.incident_id)
    assert AlertEvent.objects.filter(action="acknowledged", actor="officer:li").count() == 4
    assert Incident.objects.get(pk=market.pk).last_action == "acknowledged by officer:li"


def test_bulk_acknowledge_skips_what_another_officer_did_and_refuses_what_does_not_exist():
    first = stale("AAPL-PERP")
    other = stale("TSLA-PERP", to="halted", reason="MANUAL_HALT")
    triage.acknowledge_incidents(incident_ids=[first.incident_id], actor="officer:wu")
    outcome = triage.acknowledge_incidents(
        incident_ids=[first.incident_id, other.incident_id], actor="officer:li"
    )
    assert [i.pk for i in outcome.skipped] == [first.incident_id] and outcome.alerts == 1
    audited = AuditEntry.objects.count()
    with pytest.raises(NotFound):
        triage.acknowledge_incidents(incident_ids=[other.incident_id, 999_999], actor="officer:li")
    assert AuditEntry.objects.count() == audited  # all or nothing
    with pytest.raises(ValidationFailed):
        triage.acknowledge_incidents(incident_ids=[], actor="officer:li")
    with pytest.raises(ValidationFailed):
        triage.acknowledge_incidents(incident_ids=range(1, triage.MAX_BULK + 2), actor="x")


def test_resolving_and_assigning_an_incident_reaches_every_unresolved_alert():
    a, b = stale("AAPL-PERP"), stale("NVDA-PERP")
    alerts.acknowledge_alert(alert_id=a.pk, actor="officer:wu")
    incident = triage.assign_incident(incident_id=a.incident_id, assignee="officer:li", actor="x")
    assert incident.assigned_to == "officer:li"
    with pytest.raises(ValidationFailed):
        triage.resolve_incident(incident_id=incident.pk, actor="officer:li", resolution=" ")
    incident = triage.resolve_incident(
        incident_id=incident.pk, actor="officer:li", resolution="vendor restored the feed"
    )
    assert incident.status == "resolved" and incident.assigned_to == ""
    assert incident.last_action == "resolved by officer:li: vendor restored the feed"
    assert set(Alert.objects.values_list("status", "resolved_by")) == {("resolved", "officer:li")}
    with pytest.raises(Conflict):
        triage.resolve_incident(incident_id=incident.pk, actor="officer:li", resolution="again")
    with pytest.raises(Conflict):
        triage.assign_incident(incident_id=incident.pk, assignee="officer:wu", actor="x")
    with pytest.raises(NotFound):
        triage.resolve_incident(incident_id=incident.pk + 1, actor="x", resolution="y")
    assert {a.pk, b.pk} == set(incident.alerts.values_list("pk", flat=True))


def test_one_alert_acted_on_alone_moves_its_incident():
    a, b = stale("AAPL-PERP"), stale("NVDA-PERP")
    alerts.resolve_alert(alert_id=a.pk, actor="officer:li", resolution="false alarm")
    assert Incident.objects.get().status == "open"
    alerts.acknowledge_alert(alert_id=b.pk, actor="officer:li")
    assert Incident.objects.get().status == "acknowledged"


@pytest.mark.parametrize(
    ("open_alerts", "acknowledged_alerts", "status"),
    [(1, 0, "open"), (1, 5, "open"), (0, 1, "acknowledged"), (0, 0, "resolved")],
)
def test_an_incidents_status_follows_its_alerts(open_alerts, acknowledged_alerts, status):
    assert (
        incidents.status_of(open_alerts=open_alerts, acknowledged_alerts=acknowledged_alerts)
        == status
    )


# --- the invariant -----------------------------------------------------------------------

_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("raise"),
            st.sampled_from(SYMBOLS[:3]),
            st.sampled_from(["ORACLE_STALE", "ORACLE_DIVERGENCE"]),
            st.integers(min_value=0, max_value=150),  # minutes after the previous step
        ),
        st.tuples(st.just("resolve"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("acknowledge"), st.integers(min_value=0, max_value=50)),
    ),
    max_size=25,
)


def test_folding_and_grouping_never_lose_an_occurrence(db):
    """Whatever the raises, gaps and officers' steps: every raise is counted exactly once
    on one alert, every alert is in one incident, and each incident's figures are its
    alerts' (counts, sightings, time range, status). Each example runs in a savepoint that
    is rolled back, so it starts from no alerts."""

    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_STEPS)
    def run(steps):
        with transaction.atomic():
            moment, raised = NOW, 0
            for step in steps:
                if step[0] == "raise":
                    _, symbol, reason, gap = step
                    moment += minutes(gap)
                    stale(symbol, moment, reason=reason)
                    raised += 1
                    continue
                live = list(Incident.objects.exclude(status="resolved").order_by("pk"))
                if not live:
                    continue
                chosen = live[step[1] % len(live)]
                if step[0] == "resolve":
                    triage.resolve_incident(incident_id=chosen.pk, actor="o:a", resolution="r")
                elif chosen.status == "open":
                    triage.acknowledge_incidents(incident_ids=[chosen.pk], actor="o:b")
            assert sum(Alert.objects.values_list("occurrences", flat=True)) == raised
            assert not Alert.objects.filter(incident__isnull=True).exists()
            for incident in Incident.objects.all():
                members = list(incident.alerts.all())
                assert incident.alert_count == len(members) > 0
                assert incident.occurrences == sum(a.occurrences for a in members)
                assert incident.first_seen == min(a.first_seen for a in members)
                assert incident.last_seen == max(a.last_seen for a in members)
                assert incident.status == incidents.status_of(
                    open_alerts=sum(a.status == "open" for a in members),
                    acknowledged_alerts=sum(a.status == "acknowledged" for a in members),
                )
                assert {a.kind for a in members} == {incident.kind}
            transaction.set_rollback(True)

    run()


@pytest.mark.django_db(transaction=True)
def test_racing_workers_announcing_different_markets_open_one_incident():
    """Eight threads, each with its own connection, raise eight instruments' transitions of
    one cause at once: the per-cause lock makes them one incident, not several."""
    barrier = threading.Barrier(8)
    errors = []

    def worker(n: int):
        try:
            barrier.wait()
            stale(f"SYM{n}-PERP")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    incident = Incident.objects.get()
    assert incident.alert_count == 8 and Alert.objects.filter(notify=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_existing_alerts_become_their_own_incidents_when_migrated():
    """Migration 0006: alerts raised before incidents existed keep their status, and each
    becomes one incident with the figures the service would keep for it."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("oversight", "0005_incidents"), ("oversight", "0007_alert_incident_required")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    OldAlert = old.get_model("oversight", "Alert")
    common = {"window_start": NOW, "first_seen": NOW, "last_seen": NOW + minutes(5)}
    OldAlert.objects.create(
        dedup_key="market.AAPL-PERP.halted.MANUAL_HALT",
        kind="market_state",
        severity="critical",
        title="AAPL-PERP halted",
        detail={"instrument": "AAPL-PERP"},
        occurrences=3,
        status="acknowledged",
        acknowledged_by="officer:li",
        assigned_to="officer:wu",
        **common,
    )
    OldAlert.objects.create(
        dedup_key="recon:w-1",
        kind="reconciliation_break",
        severity="warning",
        title="w-1 differs",
        detail={"instrument": ["not", "a", "symbol"]},
        status="resolved",
        resolved_by="officer:li",
        resolution="late statement",
        **common,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([after])

    halted = Alert.objects.get(dedup_key="market.AAPL-PERP.halted.MANUAL_HALT")
    assert (halted.status, halted.instrument, halted.notify) == ("acknowledged", "AAPL-PERP", True)
    incident = halted.incident
    assert (incident.kind, incident.cause, incident.status, incident.severity) == (
        "market_state",
        "market.AAPL-PERP.halted.MANUAL_HALT",
        "acknowledged",
        "critical",
    )
    assert (incident.alert_count, incident.occurrences, incident.instruments) == (
        1,
        3,
        ["AAPL-PERP"],
    )
    assert incident.assigned_to == "officer:wu"
    assert incident.last_action == "acknowledged by officer:li"
    recon = Alert.objects.get(dedup_key="recon:w-1")
    assert recon.instrument == "" and recon.incident.instruments == []
    assert recon.incident.last_action == "resolved by officer:li: late statement"
    assert Incident.objects.count() == 2
    # and the service carries on from there: a repeat folds into the migrated alert
    again = alerts.raise_alert(
        key="market.AAPL-PERP.halted.MANUAL_HALT",
        kind="market_state",
        severity="critical",
        title="AAPL-PERP halted",
        detail={"instrument": "AAPL-PERP"},
        now=NOW + minutes(10),
    )
    assert again.pk == halted.pk and again.occurrences == 4
