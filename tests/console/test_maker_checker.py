"""Maker-checker: the maker can never approve their own proposal; a different officer with
the right role can, and the change then runs in the approval's transaction; every step is
in the audit chain."""

from __future__ import annotations

import pytest
from django import forms
from django.db import IntegrityError, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from compliance import services as compliance_services
from compliance.models import RulebookVersion, RuleRevision
from console import change_kinds, maker_checker
from console.models import Proposal
from core.errors import Conflict, ValidationFailed
from core.models import AuditEntry
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db

LEDGER = []


class NoteForm(forms.Form):
    symbol = forms.CharField()
    reason = forms.CharField()
    emergency = forms.BooleanField(required=False)


def _execute(payload, approver):
    if payload.get("symbol") == "REFUSE":
        raise ValidationFailed("the service refused")
    from core import audit

    audit.record(actor=approver, action="test.done", object_type="t", object_id=payload["symbol"])
    LEDGER.append((payload["symbol"], approver))
    return {"done": payload["symbol"]}


@pytest.fixture
def test_kind():
    LEDGER.clear()
    change_kinds.register_action(
        "test.thing",
        roles=["risk_officer"],
        execute=_execute,
        label="Test thing",
        form=NoteForm,
        target=lambda payload: f"thing:{payload['symbol']}",
        scope="market",
        emergency=True,
    )
    yield "test.thing"
    change_kinds.unregister_action("test.thing")


@pytest.fixture
def alice(make_officer):
    return make_officer("alice", "risk_officer", "compliance_officer")


@pytest.fixture
def bob(make_officer):
    return make_officer("bob", "risk_officer", "compliance_officer")


def audit_trail(proposal) -> list[tuple[str, str]]:
    return list(
        AuditEntry.objects.filter(object_type="proposal", object_id=str(proposal.pk))
        .order_by("seq")
        .values_list("action", "actor")
    )


def test_the_maker_cannot_approve_their_own_proposal(test_kind, alice):
    proposal = maker_checker.propose(
        kind=test_kind, payload={"symbol": "AAPL"}, reason="why", maker=alice
    )
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.approve(proposal_id=proposal.pk, checker=alice)
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and LEDGER == []
    assert audit_trail(proposal) == [("proposal.create", "officer:alice")]


def test_a_different_officer_with_the_role_approves_and_it_executes(test_kind, alice, bob):
    proposal = maker_checker.propose(
        kind=test_kind, payload={"symbol": "AAPL"}, reason="why", maker=alice
    )
    done = maker_checker.approve(proposal_id=proposal.pk, checker=bob, note="checked")
    assert done.status == "executed" and done.checker == "officer:bob"
    assert done.result == {"done": "AAPL"}
    assert LEDGER == [("AAPL", "officer:bob")]
    assert audit_trail(proposal) == [
        ("proposal.create", "officer:alice"),
        ("proposal.approve", "officer:bob"),
        ("proposal.execute", "officer:bob"),
    ]
    with pytest.raises(Conflict):
        maker_checker.approve(proposal_id=proposal.pk, checker=bob)


def test_an_officer_without_the_role_cannot_approve(test_kind, alice, make_officer):
    carol = make_officer("carol", "compliance_officer")
    proposal = maker_checker.propose(
        kind=test_kind, payload={"symbol": "X"}, reason="r", maker=alice
    )
    with pytest.raises(maker_checker.RoleRequired):
        maker_checker.approve(proposal_id=proposal.pk, checker=carol)
    with pytest.raises(maker_checker.RoleRequired):
        maker_checker.propose(kind=test_kind, payload={"symbol": "X"}, reason="r", maker=carol)


def test_a_refused_execution_keeps_nothing_and_marks_the_proposal_failed(test_kind, alice, bob):
    proposal = maker_checker.propose(
        kind=test_kind, payload={"symbol": "REFUSE"}, reason="r", maker=alice
    )
    failed = maker_checker.approve(proposal_id=proposal.pk, checker=bob)
    assert failed.status == "failed"
    assert failed.result == {"error": "VALIDATION_ERROR", "message": "the service refused"}
    assert audit_trail(proposal) == [
        ("proposal.create", "officer:alice"),
        ("proposal.fail", "officer:bob"),
    ]


def test_reject_needs_a_reason_and_the_maker_may_withdraw(test_kind, alice, bob):
    first = maker_checker.propose(kind=test_kind, payload={"symbol": "A"}, reason="r", maker=alice)
    with pytest.raises(ValidationFailed):
        maker_checker.reject(proposal_id=first.pk, checker=bob, note=" ")
    rejected = maker_checker.reject(proposal_id=first.pk, checker=bob, note="not now")
    assert (rejected.status, rejected.checker) == ("rejected", "officer:bob")
    second = maker_checker.propose(kind=test_kind, payload={"symbol": "B"}, reason="r", maker=alice)
    withdrawn = maker_checker.reject(proposal_id=second.pk, checker=alice, note="typo")
    assert (withdrawn.status, withdrawn.checker) == ("rejected", "")
    assert audit_trail(second)[-1] == ("proposal.withdraw", "officer:alice")
    assert LEDGER == []


def test_an_emergency_change_takes_effect_at_once_and_is_reviewed_by_another(test_kind, alice, bob):
    proposal = maker_checker.propose(
        kind=test_kind,
        payload={"symbol": "NVDA"},
        reason="flash crash",
        maker=alice,
        emergency=True,
    )
    assert proposal.status == "executed" and LEDGER == [("NVDA", "officer:alice")]
    assert list(maker_checker.Proposal.objects.filter(pk=proposal.pk)) == [proposal]
    with pytest.raises(maker_checker.MakerCannotApprove):
        maker_checker.review(proposal_id=proposal.pk, reviewer=alice, note="fine")
    reviewed = maker_checker.review(proposal_id=proposal.pk, reviewer=bob, note="justified")
    assert reviewed.checker == "officer:bob"
    assert [a for a, _ in audit_trail(proposal)] == [
        "proposal.emergency",
        "proposal.execute",
        "proposal.review",
    ]


def test_the_database_refuses_a_checker_who_is_the_maker(test_kind, alice):
    proposal = maker_checker.propose(
        kind=test_kind, payload={"symbol": "A"}, reason="r", maker=alice
    )
    proposal.checker = proposal.maker
    with pytest.raises(IntegrityError), transaction.atomic():
        proposal.save()


def test_a_kind_is_registered_once(test_kind):
    with pytest.raises(ValueError, match="already registered"):
        change_kinds.register_action(test_kind, roles=["auditor"], execute=_execute)


def test_generic_proposal_form_over_http(test_kind, alice, bob):
    maker_client, checker_client = signed_in_client(alice), signed_in_client(bob)
    page = maker_client.get("/proposals/new/test.thing/?symbol=TSLA")
    assert page.status_code == 200 and b'value="TSLA"' in page.content
    response = maker_client.post("/proposals/new/test.thing/", {"symbol": "TSLA", "reason": "test"})
    proposal = Proposal.objects.get(kind="test.thing")
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    assert proposal.payload == {"symbol": "TSLA"} and proposal.target == "thing:TSLA"
    # the maker's page offers no approval, and a forged approval is refused
    assert b"Approve and carry out" not in maker_client.get(response["Location"]).content
    maker_client.post(f"/proposals/{proposal.pk}/approve")
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert b"Approve and carry out" in checker_client.get(response["Location"]).content
    checker_client.post(f"/proposals/{proposal.pk}/approve", {"note": "ok"})
    proposal.refresh_from_db()
    assert proposal.status == "executed" and LEDGER == [("TSLA", "officer:bob")]


RULE_FORM = {
    "rule_id": "fr-rwa-review",
    "jurisdictions": "FR, DE",
    "product_classes": ["rwa_token"],
    "actions": ["open", "deposit"],
    "effect": "review",
    "signals": ["ip_geolocation", "residence", "nationality", "controlling_country"],
    "investor_category": "retail",
    "citation_ref": "AMF position 2026-01",
    "citation_text": "Tokenised securities offered to retail need a suitability review.",
    "effective_from": "2026-01-01T00:00",
    "effective_until": "",
    "reason": "new AMF guidance",
}


def test_a_rule_change_is_drafted_by_one_officer_and_activated_by_another(alice, bob):
    maker_client, checker_client = signed_in_client(alice), signed_in_client(bob)
    before = RulebookVersion.objects.count()
    response = maker_client.post("/rules/propose/", RULE_FORM)
    assert response.status_code == 302, response.content.decode()[-3000:]
    draft = RuleRevision.objects.get(rule_id="fr-rwa-review")
    assert (draft.status, draft.created_by) == ("draft", "officer:alice")
    assert draft.jurisdictions == ["DE", "FR"] and draft.investor_category == "retail"
    proposal = Proposal.objects.get(kind="rule.change")
    assert proposal.target == "rule:fr-rwa-review#r1"

    rules_page = maker_client.get("/rules/").content.decode()
    assert "You drafted this" in rules_page
    maker_client.post("/rules/fr-rwa-review/r1/decide", {"decision": "approve"})
    draft.refresh_from_db()
    assert draft.status == "draft"  # refused: four eyes

    assert "Approve" in checker_client.get("/rules/").content.decode()
    checker_client.post("/rules/fr-rwa-review/r1/decide", {"decision": "approve"})
    draft.refresh_from_db()
    proposal.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("active", "officer:bob")
    assert proposal.status == "executed" and proposal.checker == "officer:bob"
    assert RulebookVersion.objects.count() == before + 1
    assert proposal.result == {"rulebook_version": RulebookVersion.objects.first().version}
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", "actor"))
    assert ("rule.draft", "officer:alice") in actions
    assert ("rule.activate", "officer:bob") in actions


def test_a_draft_made_elsewhere_is_decided_from_the_rules_page(bob):
    compliance_services.draft_rule(
        rule_id="elsewhere",
        fields={
            "jurisdictions": ["IT"],
            "product_classes": ["rwa_token"],
            "actions": ["open"],
            "effect": "deny",
            "citation_text": "t",
            "citation_ref": "r",
        },
        actor="key:onboarding",
    )
    client = signed_in_client(bob)
    client.post("/rules/elsewhere/r1/decide", {"decision": "reject"})  # no reason: refused
    assert RuleRevision.objects.get(rule_id="elsewhere").status == "draft"
    client.post("/rules/elsewhere/r1/decide", {"decision": "reject", "note": "wrong country"})
    revision = RuleRevision.objects.get(rule_id="elsewhere")
    assert (revision.status, revision.note) == ("rejected", "wrong country")


def test_approving_revision_1_from_the_rules_page_approves_revision_1_not_10(alice, bob):
    """The rules page found a draft's proposal by target prefix: ``rule:x#r1`` also matched
    ``rule:x#r10``, the newer, so approving r1 carried out r10's proposal."""
    maker = signed_in_client(alice)
    maker.post("/rules/propose/", RULE_FORM)
    for _ in range(8):
        compliance_services.draft_rule(
            rule_id="fr-rwa-review",
            fields={**{k: RULE_FORM[k] for k in ("effect", "citation_ref", "citation_text")},
                    "jurisdictions": ["FR"], "product_classes": ["rwa_token"],
                    "actions": ["open"]},
            actor="officer:alice",
        )  # fmt: skip
    maker.post("/rules/propose/", {**RULE_FORM, "jurisdictions": "BE"})
    assert RuleRevision.objects.get(rule_id="fr-rwa-review", revision=10).jurisdictions == ["BE"]

    signed_in_client(bob).post("/rules/fr-rwa-review/r1/decide", {"decision": "approve"})

    statuses = dict(
        RuleRevision.objects.filter(rule_id="fr-rwa-review").values_list("revision", "status")
    )
    assert statuses[1] == "active" and statuses[10] == "draft"
    executed = Proposal.objects.get(status="executed")
    assert executed.target == "rule:fr-rwa-review#r1"


def test_an_invalid_rule_is_refused_with_the_rulebook_message(alice):
    response = signed_in_client(alice).post("/rules/propose/", {**RULE_FORM, "jurisdictions": "XX"})
    assert response.status_code == 200
    assert b"is not an ISO 3166" in response.content
    assert not RuleRevision.objects.filter(rule_id="fr-rwa-review").exists()
    assert not Proposal.objects.exists()


def test_rejecting_a_rule_proposal_rejects_its_draft(alice, bob):
    signed_in_client(alice).post("/rules/propose/", RULE_FORM)
    proposal = Proposal.objects.get(kind="rule.change")
    signed_in_client(bob).post(f"/proposals/{proposal.pk}/reject", {"note": "needs legal"})
    assert RuleRevision.objects.get(rule_id="fr-rwa-review").status == "rejected"
    proposal.refresh_from_db()
    assert proposal.status == "rejected"


def test_a_schedule_change_is_applied_on_approval(make_officer):
    admin_a = make_officer("ada", "administrator")
    admin_b = make_officer("ben", "administrator")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    task = PeriodicTask.objects.create(name="sweep", task="risk.tasks.sweep", interval=every)
    form = {
        "enabled": "on",
        "kind": "crontab",
        "minute": "*/5",
        "hour": "*",
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "reason": "less often at night",
    }
    response = signed_in_client(admin_a).post(f"/schedules/{task.pk}/propose", form)
    proposal = Proposal.objects.get(kind="schedule.change")
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    task.refresh_from_db()
    assert task.interval_id == every.pk  # nothing changes before approval
    signed_in_client(admin_b).post(f"/proposals/{proposal.pk}/approve")
    task.refresh_from_db()
    assert task.interval is None and task.crontab.minute == "*/5"
    entry = AuditEntry.objects.get(action="schedule.change")
    assert entry.actor == "officer:ben"
    assert entry.before == {"enabled": True, "interval": {"every": 1, "period": "minutes"}}
    assert entry.after["crontab"]["minute"] == "*/5"
