"""The rulebook as data: seeded, revised under four eyes, history never deleted."""

import pytest

from compliance import services
from compliance.models import RULE_SIGNALS, RulebookVersion, RuleRevision
from compliance.rules_seed import seed_rules
from compliance.services import rule_of
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


FIRST_SEED = {
    "prc-vc-2026",
    "prc-rwa-2026",
    "prc-wind-down",
    "ofac-comprehensive",
    "ofac-withdraw",
    "ofac-syria",
    "us-perps",
    "gb-retail-crypto-derivs",
    "ca-on-derivs",
}


def test_the_first_seed_stays_version_1_as_frozen_in_its_migration():
    version = RulebookVersion.objects.get(version=1)
    assert {r.rule_id for r in version.revisions.all()} == FIRST_SEED
    assert {r.revision for r in version.revisions.all()} == {1}
    us = version.revisions.get(rule_id="us-perps")
    assert us.jurisdictions == ["US"] and us.signals == list(RULE_SIGNALS)


def test_a_fresh_install_has_the_shipped_rulebook_in_force_as_version_2():
    """The migrated database and ``compliance.rules_seed`` describe the same rulebook."""
    version = RulebookVersion.objects.order_by("-version").first()
    assert version.version == 2 and version.published_by == "seed:migration compliance.0008"
    in_force = {rule_of(revision) for revision in version.revisions.all()}
    shipped = set(seed_rules())
    assert {r.rule_id for r in in_force} == {r.rule_id for r in shipped}
    by_id = {r.rule_id: r for r in in_force}
    for rule in shipped:
        stored = by_id[rule.rule_id]
        assert stored == rule, rule.rule_id
        assert dict(stored.signal_effects) == dict(rule.signal_effects), rule.rule_id
    awaiting = set(
        RuleRevision.objects.filter(status="active", awaits_confirmation=True).values_list(
            "rule_id", flat=True
        )
    )
    assert awaiting == {"prc-vc-2026", "prc-rwa-2026", "prc-wind-down"}


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
    assert published.version == 3
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
    assert statuses == {1: "superseded", 2: "superseded", 3: "active"}
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
    assert RuleRevision.objects.filter(rule_id="ca-on-derivs").count() == 3


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
