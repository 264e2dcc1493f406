"""The "explain" form: what the gate would decide for this IP, account, product and action,
and why, signal by signal — without recording a decision.

It uses exactly what the access check uses (``compliance.gate``): the policy snapshot, the
GeoIP locator and the pure ``decide``, so the answer is the API's answer. On top it lists
every signal, including those that allowed, with the rule (if any) that decided it: an
officer asking "why was this allowed?" needs the allowed signals as much as the blocking
one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from compliance import geoip
from compliance.access import ANONYMIZER, IP_UNLOCATED, NO_PROFILE, AccessDecision, decide
from compliance.models import AccountProfile
from compliance.rulebook import ALLOW, REVIEW, ruling
from compliance.signals import RETAIL, IpFacts, ProfileFacts, signals_of
from compliance.snapshot import holder, profile_facts_of
from core.errors import ValidationFailed
from core.policy import SnapshotUnavailable
from core.redis_client import REDIS_ERRORS


class ExplainUnavailable(Exception):
    """The snapshot or GeoIP cannot be read: the gate itself would fail closed now."""


@dataclass(frozen=True)
class SignalRuling:
    signal: str
    jurisdiction: str
    effect: str
    rule_id: str
    citation: str
    subdivision_unknown: bool = False
    """The signal names a country whose subdivisions have stricter rules, and no
    subdivision: the gate reviews it (issue 14) rather than guess."""


@dataclass(frozen=True)
class Explanation:
    decision: AccessDecision
    policy_version: str
    ip: IpFacts | None
    profile: ProfileFacts | None
    account_id: str
    rulings: tuple[SignalRuling, ...]
    defaults: tuple[tuple[str, str], ...]
    at: datetime


def explain(
    *, client_ip: str, account_id: str, product_class: str, action: str, at: datetime
) -> Explanation:
    try:
        snapshot = holder.verified()
    except (SnapshotUnavailable, *REDIS_ERRORS) as error:
        raise ExplainUnavailable(f"policy snapshot unavailable: {error}") from error
    ip_facts = None
    if client_ip:
        try:
            locator = geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB)
            ip_facts = locator.lookup(client_ip)
        except ValueError as error:
            raise ValidationFailed(str(error), fields={"client_ip": [str(error)]}) from error
        except (OSError, geoip.GeoIpDatabaseError) as error:
            raise ExplainUnavailable(f"GeoIP unavailable: {error}") from error
    row = AccountProfile.objects.filter(account_id=account_id).first() if account_id else None
    profile = None if row is None else profile_facts_of(row)  # the officer sees it as it is
    try:
        decision = decide(
            snapshot.rulebook,
            profile,
            ip_facts,
            product_class,
            action,
            at,
            snapshot.defaults,
            anonymous=not account_id,
        )
        rules_by_scope = snapshot.rulebook.rules_for(product_class, action)
    except ValueError as error:
        raise ValidationFailed(str(error)) from error
    category = RETAIL if profile is None else profile.investor_category
    rulings = []
    for signal in signals_of(profile, ip_facts):
        index = rules_by_scope.get(signal.scope)
        found = (
            None
            if index is None
            else ruling(index, signal.country, signal.subdivision, category, at)
        )
        if found is None:
            rulings.append(SignalRuling(signal.name, signal.jurisdiction, ALLOW, "", ""))
            continue
        scoped, code, unknown = found
        rule = scoped.rule
        effect = REVIEW if unknown else scoped.effect
        rulings.append(
            SignalRuling(signal.name, code, effect, rule.rule_id, rule.citation, unknown)
        )
    defaults = []
    if ip_facts is not None and ip_facts.is_anonymizer:
        defaults.append((ANONYMIZER, snapshot.defaults.anonymizer[action]))
    if ip_facts is None or not ip_facts.located:
        defaults.append((IP_UNLOCATED, snapshot.defaults.ip_unlocated[action]))
    if profile is None and account_id:
        defaults.append((NO_PROFILE, snapshot.defaults.no_profile[action]))
    return Explanation(
        decision=decision,
        policy_version=f"{snapshot.rulebook.version}.a{row.change_seq if row else 0}",
        ip=ip_facts,
        profile=profile,
        account_id=account_id,
        rulings=tuple(rulings),
        defaults=tuple(defaults),
        at=at,
    )
