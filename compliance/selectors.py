"""Reads of the jurisdiction gate for views, reports and the console."""

from __future__ import annotations

from compliance.models import AccessDecision, AccountProfile, AccountProfileVersion, RuleRevision


def account_profile(account_id: str) -> AccountProfile | None:
    return AccountProfile.objects.filter(account_id=account_id).first()


def profile_history(account_id: str):
    return AccountProfileVersion.objects.filter(account_id=account_id).order_by("version")


def rule_revisions(rule_id: str | None = None):
    revisions = RuleRevision.objects.all()
    return revisions.filter(rule_id=rule_id) if rule_id else revisions


def access_decisions(*, account_id: str | None = None, effect: str | None = None):
    decisions = AccessDecision.objects.all()
    if account_id:
        decisions = decisions.filter(account_id=account_id)
    if effect:
        decisions = decisions.filter(effect=effect)
    return decisions
