"""Every console page and action checks roles on the server: anonymous → sign-in, wrong
role → 403, right role → the page (or the action)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

from compliance import services as compliance_services
from console import maker_checker
from console.models import Proposal
from console.roles import ROLES
from tests.console.conftest import make_instrument, signed_in_client

pytestmark = pytest.mark.django_db

SIGN_IN_VIEWS = {"sign-in", "verify", "enrol", "sign-out"}
READ = set(ROLES)


def _console_patterns():
    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and namespace == "console":
                yield entry

    return list(walk(get_resolver().url_patterns, None))


def test_every_console_view_names_the_roles_it_admits():
    patterns = _console_patterns()
    assert len(patterns) > 20
    unguarded = [
        p.name
        for p in patterns
        if p.name not in SIGN_IN_VIEWS and not getattr(p.callback, "console_roles", None)
    ]
    assert unguarded == []


@pytest.fixture
def world(make_officer):
    """A draft rule, a proposal by someone else, a schedule, an account and a decision."""
    maker = make_officer("maker", "compliance_officer", "risk_officer", "administrator")
    compliance_services.draft_rule(
        rule_id="perm-test",
        fields={
            "jurisdictions": ["FR"],
            "product_classes": ["rwa_token"],
            "actions": ["open"],
            "effect": "review",
            "citation_text": "text",
            "citation_ref": "ref",
        },
        actor="officer:maker",
    )
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    task = PeriodicTask.objects.create(name="perm task", task="core.tasks.x", interval=every)
    compliance_services.put_account_profile(
        account_id="acc-perm",
        facts={
            "residence_country": "SG",
            "residence_subdivision": "",
            "nationalities": ["SG"],
            "entity_type": "individual",
            "controlling_countries": [],
            "investor_category": "retail",
            "status": "active",
        },
        actor="test",
    )
    from compliance.models import AccessDecision
    from core import clock

    AccessDecision.objects.create(
        decision_id="d-perm",
        decided_at=clock.now(),
        account_id="acc-perm",
        product_class="rwa_token",
        action="open",
        effect="allow",
        policy_version="rb1.p1",
    )
    from core import audit

    entry = audit.record(actor="test", action="test.x", object_type="t", object_id="1")
    proposal = maker_checker.propose(
        kind="schedule.change",
        payload={
            "task_id": task.pk,
            "task": task.name,
            "change": {"enabled": True, "interval": {"every": 10, "period": "minutes"}},
        },
        reason="slower",
        maker=maker,
    )
    from oversight.alerts import raise_alert

    alert = raise_alert(
        key="perm-alert",
        kind="test",
        severity="warning",
        title="Permission test",
        detail={"account_id": "acc-perm"},
        now=clock.now(),
    )
    return {"task": task, "proposal": proposal, "seq": entry.seq, "alert": alert}


PAGES = [
    # (path template, roles admitted)
    ("/", READ),
    ("/markets/board", READ),
    ("/markets/AAPL-PERP/", READ),
    ("/rules/", READ),
    ("/rules/perm-test/", READ),
    ("/rules/perm-test/r1/", READ),
    ("/rules/perm-test/r1/impact", READ),
    ("/rules/explain/", READ),
    ("/rules/propose/", {"compliance_officer"}),
    ("/decisions/", READ),
    ("/decisions/d-perm/", READ),
    ("/accounts/", READ),
    ("/accounts/acc-perm/", READ),
    ("/proposals/", READ),
    ("/proposals/{proposal}/", READ),
    ("/audit/", READ),
    ("/audit/{seq}/", READ),
    ("/schedules/", READ),
    ("/schedules/{task}/propose", {"administrator", "risk_officer"}),
    ("/officers/", {"administrator", "auditor"}),
    ("/alerts/", READ),
    ("/alerts/incidents/{incident}/", READ),
    ("/reports/", READ),
    ("/custody/", READ),
    ("/pretrade/", READ),
    ("/kill-switches/", READ),
    ("/proposals/new/market.halt/", {"risk_officer"}),
    ("/proposals/new/kill_switch.engage/", {"risk_officer"}),
    ("/proposals/new/session_parameters.change/", {"risk_officer"}),
    ("/proposals/new/ledger.adjustment/", {"compliance_officer"}),
    ("/proposals/new/reconciliation_break.adjust/", {"compliance_officer"}),
]


def _path(template: str, world) -> str:
    return template.format(
        proposal=world["proposal"].pk,
        task=world["task"].pk,
        seq=world["seq"],
        alert=world["alert"].pk,
        incident=world["alert"].incident_id,
    )


@pytest.mark.parametrize(("template", "admitted"), PAGES, ids=[p for p, _ in PAGES])
def test_pages_by_role(template, admitted, world, make_officer):
    if "AAPL" in template:
        make_instrument("AAPL-PERP")
    path = _path(template, world)
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sign-in/")
    for role in ROLES:
        client = signed_in_client(make_officer(f"only-{role}", role))
        status = client.get(path).status_code
        assert status == (200 if role in admitted else 403), (path, role, status)
    nobody = signed_in_client(make_officer("no-role"))
    assert nobody.get(path).status_code == 403


ACTIONS = [
    # (path template, form data, roles admitted)
    ("/rules/propose/", {"rule_id": "x"}, {"compliance_officer"}),
    ("/rules/perm-test/r1/decide", {"decision": "approve"}, {"compliance_officer"}),
    ("/rules/perm-test/r1/impact/measure", {"days": "30"}, {"compliance_officer"}),
    ("/proposals/{proposal}/approve", {}, READ),  # any officer reaches it; the kind decides
    ("/proposals/{proposal}/reject", {"note": "no"}, READ),
    ("/proposals/{proposal}/review", {"note": "ok"}, READ),
    ("/proposals/new/schedule.change/", {}, set()),  # no form: never offered
    ("/schedules/{task}/propose", {"reason": "x"}, {"administrator", "risk_officer"}),
    ("/officers/maker/unlock", {}, {"administrator"}),
    ("/officers/maker/reset-second-factor", {}, {"administrator"}),
    ("/alerts/{alert}/acknowledge", {}, {"compliance_officer", "risk_officer"}),
    ("/alerts/{alert}/assign", {"assignee": "maker"}, {"compliance_officer", "risk_officer"}),
    ("/alerts/{alert}/resolve", {"resolution": "x"}, {"compliance_officer", "risk_officer"}),
    ("/alerts/acknowledge", {"incident": "{incident}"}, {"compliance_officer", "risk_officer"}),
    (
        "/alerts/incidents/{incident}/assign",
        {"assignee": "maker"},
        {"compliance_officer", "risk_officer"},
    ),
    (
        "/alerts/incidents/{incident}/resolve",
        {"resolution": "x"},
        {"compliance_officer", "risk_officer"},
    ),
    ("/proposals/new/market.halt/", {"symbol": "AAPL-PERP", "reason": "x"}, {"risk_officer"}),
    (
        "/proposals/new/kill_switch.engage/",
        {"scope": "global", "reason": "x", "emergency": "on"},
        {"risk_officer"},
    ),
    ("/proposals/new/ledger.adjustment/", {"id": "a", "reason": "x"}, {"compliance_officer"}),
    ("/jobs/start/report.generate", {}, {"compliance_officer", "risk_officer"}),
    ("/jobs/start/por.publish", {}, {"compliance_officer"}),
    ("/jobs/start/sanctions.rescreen", {}, {"compliance_officer"}),
]


@pytest.mark.parametrize(("template", "data", "admitted"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_actions_by_role(template, data, admitted, world, make_officer):
    path = _path(template, world)
    data = {name: _path(value, world) for name, value in data.items()}
    anonymous = Client().post(path, data)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/sign-in/")
    for role in ROLES:
        if role in admitted:
            continue
        client = signed_in_client(make_officer(f"no-{role}", role))
        assert client.post(path, data).status_code in (403, 404), (path, role)
    # nothing changed
    world["proposal"].refresh_from_db()
    assert world["proposal"].status == "proposed"
    world["alert"].refresh_from_db()
    assert (world["alert"].status, world["alert"].assigned_to) == ("open", "")
    assert Proposal.objects.count() == 1


def test_an_auditor_cannot_decide_a_proposal_even_through_the_generic_endpoint(world, make_officer):
    client = signed_in_client(make_officer("audrey", "auditor"))
    proposal = world["proposal"]
    for step in ("approve", "reject", "review"):
        response = client.post(f"/proposals/{proposal.pk}/{step}", {"note": "n"})
        assert response.status_code == 302  # back to the proposal, with the refusal shown
    assert Proposal.objects.get(pk=proposal.pk).status == "proposed"
    page = client.get(f"/proposals/{proposal.pk}/")
    assert b"Approve and carry out" not in page.content


def test_a_role_less_signed_in_user_gets_the_403_page(make_officer):
    client = signed_in_client(make_officer("nobody"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"Not allowed" in response.content
