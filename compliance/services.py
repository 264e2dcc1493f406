"""Every write of the jurisdiction gate: one function per use case, one transaction, its
audit entry, and the announcement of the new policy version (``core.policy``), so the very
next check on every worker decides with the change."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max

from compliance import screening_cases
from compliance.models import (
    AccountProfile,
    AccountProfileVersion,
    RulebookVersion,
    RuleRevision,
    ScreeningCase,
)
from compliance.rulebook import Rule
from compliance.signals import SCOPES
from core import audit, clock, policy
from core.errors import Conflict, GatehouseError, NotFound, ValidationFailed

PROFILE_FIELDS = (
    "residence_country",
    "residence_subdivision",
    "nationalities",
    "entity_type",
    "controlling_countries",
    "controlling_subdivisions",
    "investor_category",
    "status",
    "full_name",
    "date_of_birth",
    "controlling_persons",
    "wallet_addresses",
)
OPTIONAL_PROFILE_FIELDS = {
    "controlling_subdivisions": list,
    "full_name": str,
    "date_of_birth": str,
    "controlling_persons": list,
    "wallet_addresses": list,
}
"""Fields a write may leave out (older clients): their empty value is stored."""
RULE_FIELDS = (
    "jurisdictions",
    "product_classes",
    "actions",
    "effect",
    "investor_category",
    "citation_text",
    "citation_ref",
    "effective_from",
    "effective_until",
    "signals",
    "signal_effects",
    "carve_out",
)


class FourEyesRequired(GatehouseError):
    """The person who drafted a change may not be the one who puts it in force."""

    status = 403
    code = "FOUR_EYES_REQUIRED"


def profile_facts(profile: AccountProfile) -> dict:
    return {name: getattr(profile, name) for name in PROFILE_FIELDS}


def put_account_profile(*, account_id: str, facts: dict, actor: str) -> tuple[AccountProfile, bool]:
    """Create or replace an account's KYC facts; returns (profile, changed). Every write
    screens the profile (``compliance.screening_cases``) in the same transaction, so the
    status the next check decides with is the one this write found. Replacing with the same
    facts changes nothing and writes no new version."""
    facts = {
        name: facts[name] if name in facts else OPTIONAL_PROFILE_FIELDS[name]()
        for name in PROFILE_FIELDS
    }
    with transaction.atomic():
        profile = AccountProfile.objects.select_for_update().filter(account_id=account_id).first()
        before = profile_facts(profile) if profile else None
        if before == facts:
            # Announce again: a repeat of a write whose announcement failed puts it in force.
            policy.account_changed(account_id, profile.change_seq)
            return profile, False
        now = clock.now()
        screening = screening_cases.screen_account(account_id, facts, now)
        if profile is None:
            profile = AccountProfile(account_id=account_id)
        for name, value in facts.items():
            setattr(profile, name, value)
        _write_version(
            profile,
            screening,
            actor=actor,
            action="account.create" if before is None else "account.update",
            before=before,
            now=now,
        )
    return profile, True


def _screened_facts(profile: AccountProfile, screening: screening_cases.Screening) -> dict:
    return {
        **profile_facts(profile),
        "sanctions_status": screening.status,
        "sanctions_basis": screening.basis,
    }


def _write_version(
    profile: AccountProfile, screening: screening_cases.Screening, *, actor, action, before, now
) -> None:
    """Store the profile as a new version (history row, audit entry, announcement)."""
    facts = _screened_facts(profile, screening)
    version = profile.version + 1 if profile.pk else 1
    history = AccountProfileVersion.objects.create(
        account_id=profile.account_id,
        version=version,
        facts=facts,
        changed_at=now,
        changed_by=actor,
    )
    profile.sanctions_status, profile.sanctions_basis = screening.status, screening.basis
    profile.version, profile.change_seq = version, history.pk
    profile.updated_at, profile.updated_by = now, actor
    profile.save()
    audit.record(
        actor=actor,
        action=action,
        object_type="account",
        object_id=profile.account_id,
        before=before,
        after=facts,
    )
    policy.account_changed(profile.account_id, history.pk)


def write_screening_status(
    profile: AccountProfile, screening: screening_cases.Screening, *, actor: str
) -> bool:
    """A new version of the profile when screening changed its status or what the status
    rests on (a case decided or opened, a re-screen); returns whether anything changed. The
    caller holds the row locked."""
    if (profile.sanctions_status, profile.sanctions_basis) == (screening.status, screening.basis):
        return False
    before = _screened_facts(
        profile, screening_cases.Screening(profile.sanctions_status, profile.sanctions_basis)
    )
    _write_version(
        profile, screening, actor=actor, action="account.screening", before=before, now=clock.now()
    )
    return True


def rescreen_account(account_id: str, *, actor: str) -> str:
    """Screen one stored profile again against the latest list (a new list version): new
    possible matches open cases; nothing is released. Returns the status."""
    with transaction.atomic():
        profile = AccountProfile.objects.select_for_update().filter(account_id=account_id).first()
        if profile is None:
            raise NotFound(f"no account {account_id}")
        screening = screening_cases.screen_account(account_id, profile_facts(profile), clock.now())
        write_screening_status(profile, screening, actor=actor)
    return screening.status


def decide_screening_case(
    *, case_id: int, decision: str, note: str, proposed_by: str, actor: str
) -> ScreeningCase:
    """An officer's decision on an open case under maker-checker (``proposed_by`` asked,
    ``actor`` approves; never the same person). The account's status and profile version
    follow in the same transaction and are announced before this returns."""
    if decision not in screening_cases.DECISIONS:
        raise ValidationFailed(
            f"decision must be one of {list(screening_cases.DECISIONS)}",
            fields={"decision": [f"One of {list(screening_cases.DECISIONS)}."]},
        )
    if proposed_by == actor:
        raise FourEyesRequired(f"{actor} proposed this decision; another officer must approve")
    with transaction.atomic():
        case = ScreeningCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"no screening case {case_id}")
        if case.status != screening_cases.OPEN:
            raise Conflict(f"screening case {case_id} is {case.status}, not open")
        cleared = decision == screening_cases.FALSE_POSITIVE
        case.status = screening_cases.CLEARED if cleared else screening_cases.CONFIRMED
        case.decided_at, case.decided_by = clock.now(), actor
        case.proposed_by, case.note = proposed_by, note
        case.save(update_fields=["status", "decided_at", "decided_by", "proposed_by", "note"])
        audit.record(
            actor=actor,
            action=f"screening.case.{decision}",
            object_type="screening_case",
            object_id=str(case.pk),
            before={"status": screening_cases.OPEN},
            after={
                "status": case.status,
                "account_id": case.account_id,
                "entry_id": case.entry_id,
                "proposed_by": proposed_by,
                "note": note,
            },
        )
        profile = AccountProfile.objects.select_for_update().get(account_id=case.account_id)
        write_screening_status(profile, screening_cases.status_of(case.account_id), actor=actor)
    return case


def _rule_from(rule_id: str, fields: dict) -> Rule:
    """Build the domain rule, turning its checks into field errors."""
    try:
        return Rule(
            rule_id=rule_id,
            jurisdictions=fields["jurisdictions"],
            product_classes=fields["product_classes"],
            actions=fields["actions"],
            effect=fields["effect"],
            citation_text=fields["citation_text"],
            citation_ref=fields["citation_ref"],
            investor_category=fields.get("investor_category") or None,
            effective_from=fields.get("effective_from"),
            effective_until=fields.get("effective_until"),
            signals=fields.get("signals") or SCOPES,
            signal_effects=fields.get("signal_effects") or {},
            carve_out=bool(fields.get("carve_out")),
        )
    except ValueError as exc:
        raise ValidationFailed(f"rule {rule_id}: {exc}", fields={"rule": [str(exc)]}) from exc


def rule_of(revision: RuleRevision) -> Rule:
    return _rule_from(revision.rule_id, {name: getattr(revision, name) for name in RULE_FIELDS})


def _revision_snapshot(revision: RuleRevision) -> dict:
    data = {name: getattr(revision, name) for name in RULE_FIELDS}
    for name in ("effective_from", "effective_until"):
        data[name] = data[name].isoformat() if isinstance(data[name], datetime) else None
    return {"rule_id": revision.rule_id, "revision": revision.revision, **data}


def draft_rule(
    *, rule_id: str, fields: dict, actor: str, note: str = "", retires: bool = False
) -> RuleRevision:
    """Propose a new revision of a rule (or a new rule, or its retirement). It has no effect
    until someone else activates it."""
    with transaction.atomic():
        existing = RuleRevision.objects.select_for_update().filter(rule_id=rule_id)
        if retires:
            current = existing.filter(status="active").first()
            if current is None:
                raise NotFound(f"rule {rule_id} has no active revision to retire")
            fields = {name: getattr(current, name) for name in RULE_FIELDS}
        rule = _rule_from(rule_id, fields)
        number = (existing.aggregate(Max("revision"))["revision__max"] or 0) + 1
        revision = RuleRevision.objects.create(
            rule_id=rule_id,
            revision=number,
            jurisdictions=sorted(rule.jurisdictions),
            product_classes=sorted(rule.product_classes),
            actions=sorted(rule.actions),
            effect=rule.effect,
            investor_category=rule.investor_category or "",
            citation_text=rule.citation_text,
            citation_ref=rule.citation_ref,
            effective_from=rule.effective_from,
            effective_until=rule.effective_until,
            signals=[signal for signal in SCOPES if signal in rule.signals],
            signal_effects=dict(rule.signal_effects),
            carve_out=rule.carve_out,
            retires_rule=retires,
            status="draft",
            created_by=actor,
            created_at=clock.now(),
            note=note,
        )
        audit.record(
            actor=actor,
            action="rule.retire_proposed" if retires else "rule.draft",
            object_type="rule",
            object_id=f"{rule_id}#r{number}",
            after=_revision_snapshot(revision),
        )
    return revision


def _publish(actor: str, now: datetime) -> RulebookVersion:
    last = RulebookVersion.objects.aggregate(Max("version"))["version__max"] or 0
    version = RulebookVersion.objects.create(version=last + 1, published_at=now, published_by=actor)
    version.revisions.set(RuleRevision.objects.filter(status="active"))
    return version


def locked_draft(rule_id: str, revision: int) -> RuleRevision:
    """The rule's revision, locked for this transaction; 404 if there is none, 409 unless
    it is still a draft."""
    draft = (
        RuleRevision.objects.select_for_update().filter(rule_id=rule_id, revision=revision).first()
    )
    if draft is None:
        raise NotFound(f"rule {rule_id} has no revision {revision}")
    if draft.status != "draft":
        raise Conflict(f"rule {rule_id} r{revision} is {draft.status}, not a draft")
    return draft


def activate_rule(*, rule_id: str, revision: int, actor: str) -> RulebookVersion:
    """Put a drafted revision in force (or retire the rule, for a retirement draft) and
    publish the resulting rulebook version. Four eyes: never by its own drafter."""
    with transaction.atomic():
        rows = RuleRevision.objects.select_for_update().filter(rule_id=rule_id)
        draft = rows.filter(revision=revision).first()
        if draft is None:
            raise NotFound(f"rule {rule_id} has no revision {revision}")
        if draft.status != "draft":
            raise Conflict(f"rule {rule_id} r{revision} is {draft.status}, not a draft")
        if draft.created_by == actor:
            raise FourEyesRequired(
                f"{actor} drafted rule {rule_id} r{revision}; another person must approve it"
            )
        now = clock.now()
        current = rows.filter(status="active").first()
        before = _revision_snapshot(current) if current else None
        if current is not None:
            current.status = "retired" if draft.retires_rule else "superseded"
            current.save(update_fields=["status"])
        draft.status = "retired" if draft.retires_rule else "active"
        draft.approved_by, draft.approved_at = actor, now
        draft.save(update_fields=["status", "approved_by", "approved_at"])
        published = _publish(actor, now)
        audit.record(
            actor=actor,
            action="rule.retire" if draft.retires_rule else "rule.activate",
            object_type="rule",
            object_id=f"{rule_id}#r{revision}",
            before=before,
            after={**_revision_snapshot(draft), "rulebook_version": published.version},
        )
        policy.advance(policy.RULES)
    return published


def reject_rule(*, rule_id: str, revision: int, actor: str, reason: str) -> RuleRevision:
    with transaction.atomic():
        draft = locked_draft(rule_id, revision)
        draft.status, draft.note = "rejected", reason
        draft.save(update_fields=["status", "note"])
        audit.record(
            actor=actor,
            action="rule.reject",
            object_type="rule",
            object_id=f"{rule_id}#r{revision}",
            after={"status": "rejected", "reason": reason},
        )
    return draft


def confirm_seeded_rule(*, rule_id: str, revision: int, actor: str) -> RuleRevision:
    """An officer confirms a revision the installer put in force (issue 14: the PRC rules are
    seeded with no ``effective_from`` and approved by ``seed:``, not by a person).

    The seed is the maker and the confirming officer the checker; nothing a decision reads
    changes, so no policy version is announced. The seed's approval stays in the audit
    entry's ``before``."""
    with transaction.atomic():
        row = (
            RuleRevision.objects.select_for_update()
            .filter(rule_id=rule_id, revision=revision)
            .first()
        )
        if row is None:
            raise NotFound(f"rule {rule_id} has no revision {revision}")
        if row.status != "active" or not row.awaits_confirmation:
            raise Conflict(f"rule {rule_id} r{revision} awaits no confirmation")
        if not actor.startswith("officer:"):
            raise FourEyesRequired("a seeded rule is confirmed by an officer")
        before = {"approved_by": row.approved_by, "awaits_confirmation": True}
        if row.approved_at is not None:
            before["approved_at"] = row.approved_at.isoformat()
        row.awaits_confirmation = False
        row.approved_by, row.approved_at = actor, clock.now()
        row.save(update_fields=["awaits_confirmation", "approved_by", "approved_at"])
        audit.record(
            actor=actor,
            action="rule.confirm",
            object_type="rule",
            object_id=f"{rule_id}#r{revision}",
            before=before,
            after={"approved_by": actor, "awaits_confirmation": False},
        )
    return row
