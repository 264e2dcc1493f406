"""Issue 14 in the console: each rule shows the signals it reaches and its effect on each, a
proposed change keeps (or edits) the scope under four eyes, and rules the installer seeded
in force show as awaiting an officer's confirmation until one confirms them."""

from __future__ import annotations

import re

import pytest

from compliance.models import RuleRevision
from console.compliance.forms import RuleChangeForm
from console.models import Proposal
from core.models import AuditEntry
from tests.console.conftest import signed_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_officer):
    return make_officer("alice", "compliance_officer")


@pytest.fixture
def bob(make_officer):
    return make_officer("bob", "compliance_officer")


def _active(rule_id: str) -> RuleRevision:
    return RuleRevision.objects.get(rule_id=rule_id, status="active")


def _row_of(html: str, attribute: str) -> str:
    match = re.search(rf"<tr[^>]*{attribute}[^>]*>.*?</tr>", html, re.S)
    assert match, f"no row with {attribute}"
    return match.group(0)


def test_the_rules_page_shows_each_rules_signals_and_per_signal_effects(alice):
    html = signed_in_client(alice).get("/rules/").content.decode()
    prc = _row_of(html, 'data-awaits-confirmation="prc-rwa-2026"')
    signals = re.search(r'data-testid="rule-signals">(.*?)</td>', prc, re.S).group(1)
    # the PRC notice reaches mainland subjects: nationality alone is reviewed (venue policy)
    assert "residence" in signals and "ip_geolocation" in signals
    assert "controlling_country" in signals
    assert re.search(r"nationality → <span class=\"badge review\">review</span>", signals)
    uk = re.search(
        r"<tr[^>]*>\s*<td><a href=\"/rules/gb-retail-crypto-derivs/\".*?</tr>", html, re.S
    )
    uk_signals = re.search(r'data-testid="rule-signals">(.*?)</td>', uk.group(0), re.S).group(1)
    assert "residence" in uk_signals and "ip_geolocation" in uk_signals
    assert "nationality" not in uk_signals and "controlling_country" not in uk_signals


def test_a_change_proposed_from_the_current_rule_keeps_its_scope(alice, bob):
    """A proposal that starts from the rule in force must not widen it back to every signal
    (the form once had no scope fields, so a console edit reset the PRC nationality review
    to deny)."""
    current = _active("prc-rwa-2026")
    client = signed_in_client(alice)
    page = client.get("/rules/propose/?rule=prc-rwa-2026").content.decode()
    assert 'name="effect_on_nationality"' in page and 'name="carve_out"' in page
    form = RuleChangeForm.initial_from(current)
    post = {
        key: value
        for key, value in form.items()
        if value not in (None, "", False) and key not in ("effective_from", "effective_until")
    }
    post |= {"citation_text": current.citation_text + " (reworded)", "reason": "wording"}
    response = client.post("/rules/propose/", post)
    assert response.status_code == 302, response.content.decode()[-2000:]
    draft = RuleRevision.objects.get(rule_id="prc-rwa-2026", status="draft")
    assert draft.signals == current.signals
    assert draft.signal_effects == current.signal_effects == {"nationality": "review"}
    proposal = Proposal.objects.get(kind="rule.change")
    signed_in_client(bob).post(f"/proposals/{proposal.pk}/approve", {"note": "ok"})
    draft.refresh_from_db()
    assert draft.status == "active" and draft.signal_effects == {"nationality": "review"}


def test_the_scope_and_per_signal_effects_are_edited_in_the_form(alice):
    response = signed_in_client(alice).post(
        "/rules/propose/",
        {
            "rule_id": "de-review",
            "jurisdictions": "DE",
            "product_classes": ["rwa_token"],
            "actions": ["open"],
            "effect": "deny",
            "signals": ["residence", "nationality"],
            "effect_on_nationality": "review",
            "citation_ref": "r",
            "citation_text": "t",
            "reason": "why",
        },
    )
    assert response.status_code == 302
    draft = RuleRevision.objects.get(rule_id="de-review")
    assert draft.signals == ["residence", "nationality"]
    assert draft.signal_effects == {"nationality": "review"} and not draft.carve_out


def test_an_effect_on_a_signal_the_rule_does_not_reach_is_refused(alice):
    response = signed_in_client(alice).post(
        "/rules/propose/",
        {
            "rule_id": "de-review",
            "jurisdictions": "DE",
            "product_classes": ["rwa_token"],
            "actions": ["open"],
            "effect": "deny",
            "signals": ["residence"],
            "effect_on_nationality": "review",
            "citation_ref": "r",
            "citation_text": "t",
            "reason": "why",
        },
    )
    assert response.status_code == 200
    assert b"The rule does not reach this signal." in response.content
    assert not RuleRevision.objects.filter(rule_id="de-review").exists()


def test_a_seeded_rule_awaits_confirmation_until_an_officer_confirms_it(alice):
    client = signed_in_client(alice)
    html = client.get("/rules/").content.decode()
    for rule_id in ("prc-vc-2026", "prc-rwa-2026", "prc-wind-down"):
        assert "seeded, awaiting confirmation" in _row_of(
            html, f'data-awaits-confirmation="{rule_id}"'
        )
    assert 'data-awaits-confirmation="us-perps"' not in html
    prc = _active("prc-rwa-2026")
    client.post(f"/rules/prc-rwa-2026/r{prc.revision}/confirm")
    prc.refresh_from_db()
    assert not prc.awaits_confirmation and prc.approved_by == "officer:alice"
    assert 'data-awaits-confirmation="prc-rwa-2026"' not in client.get("/rules/").content.decode()
    entry = AuditEntry.objects.get(action="rule.confirm")
    assert entry.actor == "officer:alice" and entry.object_id == f"prc-rwa-2026#r{prc.revision}"
    assert entry.before["approved_by"].startswith("seed:")
    # a second confirmation is refused, and changes nothing
    response = client.post(f"/rules/prc-rwa-2026/r{prc.revision}/confirm", follow=True)
    assert b"awaits no confirmation" in response.content
    assert AuditEntry.objects.filter(action="rule.confirm").count() == 1


def test_only_a_compliance_officer_confirms_a_seeded_rule(make_officer):
    risk = make_officer("rita", "risk_officer")
    prc = _active("prc-vc-2026")
    response = signed_in_client(risk).post(f"/rules/prc-vc-2026/r{prc.revision}/confirm")
    assert response.status_code == 403
    prc.refresh_from_db()
    assert prc.awaits_confirmation
