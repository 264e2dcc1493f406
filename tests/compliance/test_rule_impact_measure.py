"""A rule's impact, measured against the real database and Redis: access decisions made by
the real gate (shipped GeoLite2, the Lua record step, the drain), profiles with history,
a draft under four eyes, and the chunked measurement with its progress, resumption and
idempotence (``compliance.impact.measure``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from compliance import decision_log, gate, services, tasks
from compliance.impact import measure
from compliance.impact.inputs import Inputs
from compliance.models import AccessDecision, RuleImpact, RuleRevision
from core.clock import ManualClock, use_clock
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import AuditEntry

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
HK_IP, CN_IP = "203.198.7.66", "114.114.114.114"
FACTS = {
    "residence_subdivision": "",
    "entity_type": "individual",
    "controlling_countries": [],
    "investor_category": "retail",
    "status": "active",
}


def profile(account_id: str, residence: str, nationalities: list[str]) -> None:
    services.put_account_profile(
        account_id=account_id,
        facts={**FACTS, "residence_country": residence, "nationalities": nationalities},
        actor="test",
    )


def access(account_id, ip, product="rwa_token", action="open", at=NOW - timedelta(days=2)):
    return gate.check_access(
        account_id=account_id,
        client_ip=ip,
        product_class=product,
        action=action,
        requested_by="key:test",
        now=at,
    )


@pytest.fixture
def clock():
    with use_clock(ManualClock(NOW - timedelta(days=3))) as manual:
        yield manual


@pytest.fixture
def log(clock, redis_conn, django_capture_on_commit_callbacks):
    """Decisions two days ago, one account's nationality changed a day ago, and one decision
    after that: {name: decision_id}."""
    ids = {}
    with django_capture_on_commit_callbacks(execute=True):
        profile("acc-sg", "SG", ["SG"])
        profile("acc-sg-cn", "SG", ["CN"])  # a mainland national abroad: reviewed today
        profile("acc-cn", "CN", ["CN"])
        profile("acc-move", "SG", ["SG"])
    ids["sg"] = access("acc-sg", HK_IP)["decision_id"]
    ids["sg_cn"] = access("acc-sg-cn", HK_IP)["decision_id"]
    ids["sg_cn_withdraw"] = access("acc-sg-cn", HK_IP, action="withdraw")["decision_id"]
    ids["cn"] = access("acc-cn", CN_IP)["decision_id"]
    ids["visitor_cn"] = access(None, CN_IP)["decision_id"]
    ids["move_before"] = access("acc-move", HK_IP)["decision_id"]
    clock.set(NOW - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        profile("acc-move", "SG", ["SG", "CN"])
    ids["move_after"] = access("acc-move", HK_IP, at=NOW - timedelta(hours=20))["decision_id"]
    ids["too_old"] = access("acc-sg-cn", HK_IP, at=NOW - timedelta(days=45))["decision_id"]
    assert decision_log.drain() == len(ids)
    clock.set(NOW)
    return ids


def nationality_deny_draft(actor="officer:alice") -> RuleRevision:
    """prc-rwa-2026 revised: a mainland nationality alone is denied, no longer reviewed."""
    active = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="active")
    fields = {name: getattr(active, name) for name in services.RULE_FIELDS}
    fields["signal_effects"] = {}
    return services.draft_rule(rule_id="prc-rwa-2026", fields=fields, actor=actor)


def run(impact_id: int, chunk: int = 1000) -> RuleImpact:
    while not measure.measure_chunk(impact_id, chunk=chunk)[1]:
        pass
    return RuleImpact.objects.get(pk=impact_id)


def flipped_keys(impact: RuleImpact) -> set[str]:
    return {
        example["key"]
        for bucket in impact.result["buckets"]["source"].values()
        for example in bucket["examples"]
    }


def test_a_tighter_prc_draft_flips_exactly_the_decisions_it_changes(log):
    draft = nationality_deny_draft()
    impact, created = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    assert created and impact.status == "running" and impact.total is None
    assert (impact.window_start, impact.window_end) == (NOW - timedelta(days=30), NOW)

    impact = run(impact.pk, chunk=2)

    assert impact.status == "done" and impact.finished_at == NOW
    assert impact.totals == {"access": 7, "pretrade": 0} and impact.total == 7
    assert impact.processed == 7  # the decision of 45 days ago is outside the window
    result = impact.result
    assert result["replayed"] == {"access": 7} and result["skipped"] == {}
    assert result["not_reproduced"] == 0 and result["approximate"] == {}
    assert result["flips"] == 2
    assert flipped_keys(impact) == {log["sg_cn"], log["move_after"]}
    by = result["buckets"]
    assert by["jurisdiction"] == {
        "CN|review|deny": {
            "count": 2,
            "approximate": 0,
            "examples": by["jurisdiction"]["CN|review|deny"]["examples"],
        }
    }
    assert set(by["signal"]) == {"nationality|review|deny"}
    assert set(by["product"]) == {"rwa_token|review|deny"}
    assert set(by["action"]) == {"open|review|deny"}
    entry = AuditEntry.objects.get(action="rule.impact.measure")
    assert entry.actor == "officer:bob" and entry.object_id == f"prc-rwa-2026#r{draft.revision}"
    assert entry.after["impact"] == impact.pk and entry.after["window_days"] == 30


def test_a_profile_changed_after_a_decision_is_replayed_as_it_was(log):
    """acc-move was a Singaporean only when ``move_before`` was decided: that decision is
    replayed with those facts (its ``a<seq>``) and does not flip, though the account is a
    mainland national now; the decision after the change does."""
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=nationality_deny_draft().revision, actor="officer:bob"
    )
    keys = flipped_keys(run(impact.pk))
    assert log["move_after"] in keys and log["move_before"] not in keys


def test_a_draft_that_repeats_the_rule_in_force_flips_nothing(log):
    active = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="active")
    fields = {name: getattr(active, name) for name in services.RULE_FIELDS}
    draft = services.draft_rule(rule_id="prc-rwa-2026", fields=fields, actor="officer:alice")
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    impact = run(impact.pk)
    assert impact.result["flips"] == 0 and impact.result["replayed"] == {"access": 7}


def test_retiring_the_rule_lifts_its_denials_and_reviews(log):
    draft = services.draft_rule(
        rule_id="prc-rwa-2026", fields={}, actor="officer:alice", retires=True
    )
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    by = run(impact.pk).result["buckets"]["jurisdiction"]
    # acc-cn and the visitor from CN: deny -> allow; the mainland national abroad: review
    # -> allow. acc-move's decision after the change too: review -> allow.
    assert {key: bucket["count"] for key, bucket in by.items()} == {
        "CN|deny|allow": 2,
        "CN|review|allow": 2,
    }


def test_decisions_whose_inputs_are_not_on_file_are_counted_apart_never_guessed(log):
    AccessDecision.objects.create(  # names a rulebook that was never published
        decision_id="ghost-rulebook",
        decided_at=NOW - timedelta(days=1),
        account_id="acc-sg",
        client_ip=HK_IP,
        product_class="rwa_token",
        action="open",
        effect="allow",
        signals={"ip": {"country": "HK", "subdivision": None, "anonymizer": False}},
        policy_version="rb99.a1",
    )
    AccessDecision.objects.create(  # a profile was on file, the log names no version of it
        decision_id="no-profile-version",
        decided_at=NOW - timedelta(days=1),
        account_id="acc-sg-cn",
        client_ip=HK_IP,
        product_class="rwa_token",
        action="open",
        effect="review",
        deciding_rule="prc-rwa-2026",
        signals={"ip": None, "profile_known": True},
        policy_version="rb2.a0",
    )
    AccessDecision.objects.create(  # an old row with the address only: located again now
        decision_id="address-only",
        decided_at=NOW - timedelta(days=1),
        account_id="",
        client_ip=CN_IP,
        product_class="rwa_token",
        action="open",
        effect="deny",
        deciding_rule="prc-rwa-2026",
        signals={},
        policy_version="rb2.a0",
    )
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=nationality_deny_draft().revision, actor="officer:bob"
    )
    result = run(impact.pk).result
    assert result["skipped"] == {"profile_missing": 1, "rulebook_missing": 1}
    assert result["replayed"] == {"access": 8} and result["approximate"] == {"access": 1}
    assert result["flips"] == 2


def test_progress_is_saved_with_every_chunk(log):
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=nationality_deny_draft().revision, actor="officer:bob"
    )
    assert measure.measure_chunk(impact.pk, chunk=3) == (0, False)  # counted first
    impact.refresh_from_db()
    assert (impact.total, impact.processed, impact.cursor_source) == (7, 0, "access")
    assert measure.measure_chunk(impact.pk, chunk=3) == (3, False)
    impact.refresh_from_db()
    assert impact.processed == 3 and impact.result["replayed"] == {"access": 3}
    in_window = AccessDecision.objects.exclude(decision_id=log["too_old"]).order_by("pk")
    assert impact.cursor_after == in_window[2].pk  # the rows are read in their log's order


class Interrupted(BaseException):
    """A worker dying mid-chunk (not an error the measurement would record)."""


class DyingInputs(Inputs):
    def __init__(self, *args, after: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.left = after

    def recover(self, record, profiles):
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        return super().recover(record, profiles)


def test_a_run_interrupted_mid_chunk_resumes_from_the_last_saved_chunk(log):
    draft = nationality_deny_draft()
    first, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    measure.measure_chunk(first.pk, chunk=3)
    measure.measure_chunk(first.pk, chunk=3)
    dying = DyingInputs(draft.rule_id, services.rule_of(draft), None, after=2)
    with pytest.raises(Interrupted):
        measure.measure_chunk(first.pk, chunk=3, inputs=dying)
    first.refresh_from_db()
    assert first.processed == 3  # the interrupted chunk left nothing behind

    replayed, finished = measure.measure(first.pk, max_seconds=60, chunk=3)  # another worker
    assert (replayed, finished) == (4, True)
    first.refresh_from_db()

    RuleImpact.objects.filter(pk=first.pk).update(status="failed")  # let a clean run start
    clean, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    assert run(clean.pk).result == first.result and first.processed == 7


class RacingInputs(Inputs):
    """Another worker saves the same chunk while this one is replaying it."""

    def __init__(self, *args, impact_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.impact_id, self.raced = impact_id, False

    def recover(self, record, profiles):
        if not self.raced:
            self.raced = True
            assert measure.measure_chunk(self.impact_id, chunk=4) == (4, False)
        return super().recover(record, profiles)


def test_a_chunk_run_twice_at_once_is_counted_once(log):
    draft = nationality_deny_draft()
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    measure.measure_chunk(impact.pk, chunk=4)  # the count
    racing = RacingInputs(draft.rule_id, services.rule_of(draft), None, impact_id=impact.pk)
    assert measure.measure_chunk(impact.pk, chunk=4, inputs=racing) == (0, False)
    impact = run(impact.pk, chunk=4)
    assert impact.processed == 7 and impact.result["replayed"] == {"access": 7}
    assert impact.result["flips"] == 2


def test_asking_again_while_it_runs_measures_once_and_a_rerun_gives_the_same(
    log, django_capture_on_commit_callbacks
):
    draft = nationality_deny_draft()
    first, created = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    again, created_again = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:carol"
    )
    assert created and not created_again and again.pk == first.pk
    assert AuditEntry.objects.filter(action="rule.impact.measure").count() == 1
    assert tasks.measure_rule_impact(first.pk) == 7  # the task, in process: done in one go
    first.refresh_from_db()
    assert first.status == "done"
    assert tasks.measure_rule_impact(first.pk) == 0  # a redelivery changes nothing
    rerun, created = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    assert created and rerun.pk != first.pk
    assert run(rerun.pk).result == RuleImpact.objects.get(pk=first.pk).result


def test_a_result_is_stale_once_the_rulebook_moves_on(log, django_capture_on_commit_callbacks):
    draft = nationality_deny_draft()
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    impact = run(impact.pk)
    digest, latest = measure.draft_digest(draft), measure.latest_rulebook()
    assert measure.staleness(impact, digest=digest, rulebook=latest) == ""
    other = services.draft_rule(
        rule_id="sy-equity",
        fields={
            "jurisdictions": ["SY"],
            "product_classes": ["equity_perp"],
            "actions": ["open"],
            "effect": "deny",
            "citation_text": "t",
            "citation_ref": "t",
        },
        actor="officer:alice",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_rule(rule_id="sy-equity", revision=other.revision, actor="officer:bob")
    assert "rulebook version 3 was published" in measure.staleness(
        impact, digest=digest, rulebook=measure.latest_rulebook()
    )
    RuleRevision.objects.filter(pk=draft.pk).update(jurisdictions=["CN", "MO"])
    draft.refresh_from_db()
    assert (
        measure.staleness(impact, digest=measure.draft_digest(draft), rulebook=latest)
        == "the draft changed since it was measured"
    )


def test_only_a_draft_can_be_measured_over_a_sane_window(log, django_capture_on_commit_callbacks):
    draft = nationality_deny_draft()
    with pytest.raises(ValidationFailed):
        measure.request_measurement(
            rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob", days=0
        )
    with pytest.raises(NotFound):
        measure.request_measurement(rule_id="prc-rwa-2026", revision=99, actor="officer:bob")
    with django_capture_on_commit_callbacks(execute=True):
        services.activate_rule(rule_id="prc-rwa-2026", revision=draft.revision, actor="o:b")
    with pytest.raises(Conflict):
        measure.request_measurement(
            rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
        )


def test_a_new_measurement_of_the_draft_stops_the_one_still_running(log):
    draft = nationality_deny_draft()
    month, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    week, created = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob", days=7
    )
    month.refresh_from_db()
    assert created and (month.status, month.error) == (
        "failed",
        f"superseded by measurement {week.pk}",
    )
    assert measure.measure_chunk(month.pk) == (0, True)  # its task stops at the next step
    assert run(week.pk).processed == 7
