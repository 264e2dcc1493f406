"""The rulebook as data: seeded, revised under four eyes, history never deleted."""

import pytest

from compliance import services
from compliance.models import RulebookVersion, RuleRevision
from compliance.rules_seed import seed_rules
from compliance.snapshot import build
from core.errors import Conflict

pytestmark = pytest.mark.django_db

NEW_RULE = {
    "jurisdictions": ["SY"],
    "product_classes": ["equity_perp"],
    "actions": ["open"],
    "effect": "deny",
    "citation_text": "test citation",
    "citation_ref": "Test Act §1",
}


def test_the_seed_publishes_every_rules_md_row_as_version_1():
    version = RulebookVersion.objects.get(version=1)
    assert {r.rule_id for r in version.revisions.all()} == {r.rule_id for r in seed_rules()}
    assert {
        "prc-vc-2026",
        "prc-rwa-2026",
        "prc-wind-down",
        "ofac-comprehensive",
        "ofac-withdraw",
        "us-perps",
        "gb-retail-crypto-derivs",
        "ca-on-derivs",
    } <= {r.rule_id for r in version.revisions.all()}


def test_a_draft_has_no_effect_until_activated(redis_conn):
    services.draft_rule(rule_id="sy-test", fields=NEW_RULE, actor="user:maker")
    snapshot = build(None)
    assert "sy-test" not in {rule.rule_id for rule in snapshot.rulebook.rules}


def test_the_drafter_cannot_activate_their_own_rule(redis_conn):
    draft = services.draft_rule(rule_id="sy-test", fields=NEW_RULE, actor="user:maker")
    with pytest.raises(services.FourEyesRequired):
        services.activate_rule(rule_id="sy-test", revision=draft.revision, actor="user:maker")
    assert RuleRevision.objects.get(pk=draft.pk).status == "draft"


def test_a_second_person_activates_and_a_new_version_is_published(redis_conn):
    draft = services.draft_rule(rule_id="sy-test", fields=NEW_RULE, actor="user:maker")
    published = services.activate_rule(
        rule_id="sy-test", revision=draft.revision, actor="user:checker"
    )
    assert published.version == 2
    assert "sy-test" in {r.rule_id for r in published.revisions.all()}
    assert "sy-test" in {rule.rule_id for rule in build(None).rulebook.rules}
    revision = RuleRevision.objects.get(pk=draft.pk)
    assert (revision.status, revision.approved_by) == ("active", "user:checker")


def test_changing_a_rule_supersedes_but_keeps_the_old_revision(redis_conn):
    draft = services.draft_rule(
        rule_id="us-perps",
        fields={**NEW_RULE, "jurisdictions": ["US"], "effect": "review"},
        actor="user:maker",
    )
    services.activate_rule(rule_id="us-perps", revision=draft.revision, actor="user:checker")
    statuses = dict(
        RuleRevision.objects.filter(rule_id="us-perps").values_list("revision", "status")
    )
    assert statuses == {1: "superseded", 2: "active"}
    first = RulebookVersion.objects.get(version=1)
    assert first.revisions.get(rule_id="us-perps").effect == "deny"


def test_retiring_a_rule_is_also_four_eyes_and_keeps_history(redis_conn):
    draft = services.draft_rule(rule_id="ca-on-derivs", fields={}, actor="user:a", retires=True)
    with pytest.raises(services.FourEyesRequired):
        services.activate_rule(rule_id="ca-on-derivs", revision=draft.revision, actor="user:a")
    published = services.activate_rule(
        rule_id="ca-on-derivs", revision=draft.revision, actor="user:b"
    )
    assert "ca-on-derivs" not in {r.rule_id for r in published.revisions.all()}
    assert RuleRevision.objects.filter(rule_id="ca-on-derivs").count() == 2


def test_an_activated_revision_cannot_be_activated_again(redis_conn):
    draft = services.draft_rule(rule_id="sy-test", fields=NEW_RULE, actor="user:maker")
    services.activate_rule(rule_id="sy-test", revision=draft.revision, actor="user:checker")
    with pytest.raises(Conflict):
        services.activate_rule(rule_id="sy-test", revision=draft.revision, actor="user:other")


def test_invalid_rules_are_refused_with_the_reason():
    with pytest.raises(services.ValidationFailed, match="ISO"):
        services.draft_rule(
            rule_id="bad", fields={**NEW_RULE, "jurisdictions": ["XX"]}, actor="user:maker"
        )
