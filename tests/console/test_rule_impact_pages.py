"""A rule draft's page and the proposal's page show the draft's impact: measured in the
background, polled by htmx while it runs, then the flips by jurisdiction, product, action
and signal with decisions to open; stale once the rulebook moves on; started by a
compliance officer only, audited; bad input refused with a 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance import services, tasks
from compliance.impact import measure
from compliance.models import AccessDecision, RuleImpact, RuleRevision
from console.models import Proposal
from core import clock
from core.models import AuditEntry
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db

POLLING = 'hx-trigger="every 2s"'
FACTS = {
    "residence_subdivision": "",
    "entity_type": "individual",
    "controlling_countries": [],
    "investor_category": "retail",
    "status": "active",
}
NATIONAL_ABROAD = {**FACTS, "residence_country": "SG", "nationalities": ["CN"]}


@pytest.fixture
def officers(make_officer):
    return {
        "alice": make_officer("alice", "compliance_officer"),
        "bob": make_officer("bob", "compliance_officer"),
        "audrey": make_officer("audrey", "auditor"),
    }


@pytest.fixture
def decisions(django_capture_on_commit_callbacks):
    """Three access decisions of yesterday as the gate records them: a mainland national
    living in Singapore reviewed (prc-rwa-2026 reviews a nationality), two others allowed."""
    with django_capture_on_commit_callbacks(execute=True):
        profile, _ = services.put_account_profile(
            account_id="acc-sg-cn", facts=NATIONAL_ABROAD, actor="test"
        )
    yesterday = clock.now() - timedelta(days=1)
    rows = []
    for index, (account, effect, seq) in enumerate(
        [("acc-sg-cn", "review", profile.change_seq), ("", "allow", 0), ("", "allow", 0)]
    ):
        rows.append(
            AccessDecision(
                decision_id=f"dec-{index}",
                decided_at=yesterday + timedelta(minutes=index),
                account_id=account,
                client_ip="203.198.7.66",
                product_class="rwa_token",
                action="open",
                effect=effect,
                deciding_rule="prc-rwa-2026" if effect != "allow" else "",
                signals={
                    "ip": {"country": "HK", "subdivision": None, "anonymizer": False},
                    "profile_known": bool(account),
                },
                policy_version=f"rb2.a{seq}",
            )
        )
    AccessDecision.objects.bulk_create(rows)


def draft_fields(**changes) -> dict:
    active = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="active")
    fields = {name: getattr(active, name) for name in services.RULE_FIELDS}
    fields.update(changes)
    return fields


def nationality_deny_draft() -> RuleRevision:
    return services.draft_rule(
        rule_id="prc-rwa-2026", fields=draft_fields(signal_effects={}), actor="key:onboarding"
    )


def finish(impact_id: int) -> None:
    assert tasks.measure_rule_impact(impact_id) >= 0
    assert RuleImpact.objects.get(pk=impact_id).status == "done"


def test_a_compliance_officer_measures_a_draft_and_the_page_polls_until_the_result(
    officers, decisions, redis_conn, django_capture_on_commit_callbacks
):
    draft = nationality_deny_draft()
    page = f"/rules/prc-rwa-2026/r{draft.revision}/"
    client = signed_in_client(officers["bob"])
    html = client.get(page).content.decode()
    assert "Not measured yet." in html and POLLING not in html
    assert "Measure the impact" in html and "Approve" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{page}impact/measure", {"days": "7", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    impact = RuleImpact.objects.get()
    assert (impact.window_days, impact.requested_by) == (7, "officer:bob")
    assert redis_conn.llen("default") == 1  # the task, queued for a worker
    entry = AuditEntry.objects.get(action="rule.impact.measure")
    assert entry.actor == "officer:bob" and entry.after["window_days"] == 7

    fragment = client.get(f"{page}impact", HTTP_HX_REQUEST="true").content.decode()
    assert POLLING in fragment and "Counting the window" in fragment
    measure.measure_chunk(impact.pk)  # the worker counts
    fragment = client.get(f"{page}impact", HTTP_HX_REQUEST="true").content.decode()
    assert POLLING in fragment and "Replayed" in fragment
    assert 'data-testid="impact-processed">0<' in fragment
    assert 'data-testid="impact-total">3<' in fragment

    finish(impact.pk)
    fragment = client.get(f"{page}impact", HTTP_HX_REQUEST="true").content.decode()
    assert POLLING not in fragment
    assert 'data-testid="impact-flips">1<' in fragment
    assert "of 3 replayed decisions flips" in fragment
    for table in ("source", "jurisdiction", "product", "action", "signal"):
        assert f'data-testid="impact-by-{table}"' in fragment
    assert 'href="/decisions/dec-0/"' in fragment and "dec-1" not in fragment
    assert "nationality" in fragment and "rwa_token" in fragment and ">CN<" in fragment


def test_the_checker_sees_the_impact_on_the_proposal_before_approving(
    officers, decisions, redis_conn, django_capture_on_commit_callbacks
):
    form = {
        "rule_id": "prc-rwa-2026",
        "jurisdictions": "CN",
        "product_classes": ["rwa_token"],
        "actions": ["open", "deposit"],
        "effect": "deny",
        "signals": ["ip_geolocation", "residence", "nationality", "controlling_country"],
        "investor_category": "",
        "citation_ref": "PRC notice 2026 (test)",
        "citation_text": "Mainland nationals abroad are refused as well.",
        "effective_from": "",
        "effective_until": "",
        "reason": "Legal: a mainland nationality alone is enough to refuse.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(officers["alice"]).post("/rules/propose/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    proposal = Proposal.objects.get(kind="rule.change")
    impact = RuleImpact.objects.get()  # proposing started the measurement
    assert impact.requested_by == "officer:alice" and redis_conn.llen("default") == 1

    checker = signed_in_client(officers["bob"])
    html = checker.get(f"/proposals/{proposal.pk}/").content.decode()
    assert 'data-testid="rule-impact"' in html and POLLING in html
    assert f"?next=/proposals/{proposal.pk}/" in html
    assert html.index('data-testid="rule-impact"') < html.index("Approve and carry out")

    finish(impact.pk)
    html = checker.get(f"/proposals/{proposal.pk}/").content.decode()
    assert POLLING not in html and 'data-testid="impact-flips">1<' in html

    rules = checker.get("/rules/").content.decode()
    assert "<strong>1</strong> flip in 3" in rules
    assert f"/rules/prc-rwa-2026/r{impact.draft.revision}/" in rules


def test_a_result_shows_stale_once_the_rulebook_moves_on(
    officers, decisions, django_capture_on_commit_callbacks
):
    draft = nationality_deny_draft()
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    finish(impact.pk)
    client = signed_in_client(officers["bob"])
    page = f"/rules/prc-rwa-2026/r{draft.revision}/"
    assert 'data-testid="impact-stale"' not in client.get(page).content.decode()
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
    html = client.get(page).content.decode()
    assert 'data-testid="impact-stale"' in html and "rulebook version 3 was published" in html
    assert "Measure again" in html
    assert '<span class="badge review">stale</span>' in client.get("/rules/").content.decode()


def test_a_measurement_whose_worker_was_lost_is_resumed_not_restarted(
    officers, decisions, redis_conn, django_capture_on_commit_callbacks
):
    draft = nationality_deny_draft()
    impact, _ = measure.request_measurement(
        rule_id="prc-rwa-2026", revision=draft.revision, actor="officer:bob"
    )
    measure.measure_chunk(impact.pk)
    RuleImpact.objects.filter(pk=impact.pk).update(
        progressed_at=clock.now() - timedelta(minutes=30)
    )
    client = signed_in_client(officers["bob"])
    page = f"/rules/prc-rwa-2026/r{draft.revision}/"
    html = client.get(page).content.decode()
    assert "its worker was lost" in html and ">Resume<" in html and POLLING not in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{page}impact/measure", {"days": "30"})
    assert RuleImpact.objects.get().pk == impact.pk and redis_conn.llen("default") == 1


def test_a_broker_that_refuses_the_task_fails_the_measurement_at_once(
    officers, decisions, monkeypatch, django_capture_on_commit_callbacks
):
    def down(impact_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.measure_rule_impact, "delay", down)
    draft = nationality_deny_draft()
    page = f"/rules/prc-rwa-2026/r{draft.revision}/"
    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client(officers["bob"]).post(f"{page}impact/measure", {})
    impact = RuleImpact.objects.get()
    assert impact.status == "failed" and "could not be queued: broker unreachable" in impact.error
    html = signed_in_client(officers["bob"]).get(page).content.decode()
    assert "The measurement failed: could not be queued" in html and "Measure again" in html


def test_bad_input_and_the_wrong_role_are_refused(officers, decisions):
    draft = nationality_deny_draft()
    page = f"/rules/prc-rwa-2026/r{draft.revision}/"
    client = signed_in_client(officers["bob"])
    response = client.post(f"{page}impact/measure", {"days": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    assert client.post(f"{page}impact/measure", {"days": "many"}).status_code == 400
    assert client.get("/rules/prc-rwa-2026/r99/").status_code == 404
    assert client.get("/rules/prc-rwa-2026/r99/impact").status_code == 404
    assert client.post("/rules/prc-rwa-2026/r99/impact/measure", {}).status_code == 404
    auditor = signed_in_client(officers["audrey"])
    assert auditor.post(f"{page}impact/measure", {}).status_code == 403
    html = auditor.get(page).content.decode()
    assert "Not measured yet." in html and "Measure the impact" not in html
    assert not RuleImpact.objects.exists()
    # an activated revision is measured no more: the service says why
    active = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="active")
    response = client.post(f"/rules/prc-rwa-2026/r{active.revision}/impact/measure", {})
    assert response.status_code == 302
    assert "not a draft" in client.get(response["Location"]).content.decode()


def test_a_revision_never_measured_shows_no_impact_section(officers):
    """An active revision seeded or approved before impacts existed: nothing to show, and
    nothing to offer (only a draft is measured)."""
    active = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="active")
    html = signed_in_client(officers["bob"]).get(f"/rules/prc-rwa-2026/r{active.revision}/")
    assert html.status_code == 200
    content = html.content.decode()
    assert 'data-testid="rule-impact"' not in content and "Decide" not in content
    assert 'data-testid="revision-status">active<' in content
