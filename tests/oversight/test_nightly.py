"""The nightly integrity checks: every part registers its own; a failure raises a
critical alert once per night."""

from datetime import UTC, datetime, timedelta

import pytest

from core import audit, registry
from core.models import AuditEntry
from oversight import nightly
from oversight.models import Alert

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)


@pytest.fixture
def extra_checks():
    added = []

    def add(name, fn):
        added.append(name)
        registry.nightly_checks.add(name, fn)

    yield add
    for name in added:
        registry.nightly_checks.remove(name)


@pytest.mark.django_db
def test_an_intact_audit_chain_raises_nothing():
    for index in range(7):
        audit.record(actor="officer:li", action="rule.draft", object_type="rule", object_id=index)
    outcomes = nightly.run_nightly_checks(now=NOW)
    assert outcomes["audit_chain"].ok
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_tampered_audit_chain_raises_a_critical_alert_naming_the_entry():
    for index in range(7):
        audit.record(actor="officer:li", action="rule.draft", object_type="rule", object_id=index)
    AuditEntry.objects.filter(seq=3).update(actor="officer:someone-else")
    outcomes = nightly.run_nightly_checks(now=NOW)
    assert not outcomes["audit_chain"].ok
    alert = Alert.objects.get(dedup_key="integrity.audit_chain")
    assert alert.severity == "critical" and alert.kind == "integrity.check_failed"
    assert "#3" in alert.title and alert.detail["first_bad_seq"] == 3

    nightly.run_nightly_checks(now=NOW + timedelta(hours=1))  # re-run the same night
    assert Alert.objects.filter(dedup_key="integrity.audit_chain").count() == 1


@pytest.mark.django_db
def test_other_parts_plug_in_their_checks(extra_checks):
    class LedgerReport:  # the shape of a verification report from another part
        ok = False
        problem = "transfer t-17 was edited: its hash does not match"

    def crashes():
        raise RuntimeError("custodian API down")

    extra_checks("ledger", lambda: LedgerReport())
    extra_checks("reserves", crashes)
    extra_checks("fine", lambda: nightly.CheckOutcome(True, "all good"))
    outcomes = nightly.run_nightly_checks(now=NOW)
    assert {name: outcome.ok for name, outcome in outcomes.items()} == {
        "audit_chain": True,
        "custody_ledger": True,
        "fine": True,
        "ledger": False,
        "reserves": False,
    }
    ledger = Alert.objects.get(dedup_key="integrity.ledger")
    assert "t-17" in ledger.title and ledger.severity == "critical"
    assert "custodian API down" in Alert.objects.get(dedup_key="integrity.reserves").title
