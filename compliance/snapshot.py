"""The jurisdiction gate's policy snapshot: the compiled rulebook of the latest published
version and every account's KYC facts, immutable and version-stamped, rebuilt off the
database only when the policy version moves (``core.policy``). The access check reads it
and never queries the ORM.

Profiles load incrementally: each profile row carries the id of the history row that wrote
it (``change_seq``), so a rebuild reads only profiles changed since the previous snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.conf import settings

from core.policy import SnapshotHolder

from .access import SignalDefaults
from .models import AccountProfile, RulebookVersion, RuleRevision
from .rulebook import CompiledRulebook, compile_rulebook
from .signals import ProfileFacts


@dataclass(frozen=True, slots=True)
class ComplianceSnapshot:
    rulebook: CompiledRulebook
    rulebook_version: int
    profiles: Mapping[str, ProfileFacts]
    profile_seq: int
    defaults: SignalDefaults
    policy_version: str


def profile_facts_of(row: AccountProfile) -> ProfileFacts:
    return ProfileFacts(
        account_id=row.account_id,
        residence_country=row.residence_country,
        residence_subdivision=row.residence_subdivision or None,
        nationalities=tuple(row.nationalities),
        entity_type=row.entity_type,
        controlling_countries=tuple(row.controlling_countries),
        investor_category=row.investor_category,
        status=row.status,
    )


def _rulebook(version: RulebookVersion | None) -> CompiledRulebook:
    from .services import rule_of

    label = f"rb{version.version}" if version else "rb0"
    revisions = version.revisions.all() if version else RuleRevision.objects.none()
    return compile_rulebook([rule_of(revision) for revision in revisions], label)


def signal_defaults() -> SignalDefaults:
    return SignalDefaults(
        anonymizer=settings.ACCESS_DEFAULT_ANONYMIZER,
        ip_unlocated=settings.ACCESS_DEFAULT_IP_UNLOCATED,
        no_profile=settings.ACCESS_DEFAULT_NO_PROFILE,
    )


def build(previous: ComplianceSnapshot | None, counter: str) -> ComplianceSnapshot:
    version = RulebookVersion.objects.order_by("-version").first()
    number = version.version if version else 0
    if previous is not None and previous.rulebook_version == number:
        rulebook = previous.rulebook
    else:
        rulebook = _rulebook(version)
    profiles = dict(previous.profiles) if previous is not None else {}
    seq = previous.profile_seq if previous is not None else -1
    for row in AccountProfile.objects.filter(change_seq__gt=seq).order_by("change_seq"):
        profiles[row.account_id] = profile_facts_of(row)
        seq = max(seq, row.change_seq)
    return ComplianceSnapshot(
        rulebook=rulebook,
        rulebook_version=number,
        profiles=MappingProxyType(profiles),
        profile_seq=max(seq, 0),
        defaults=previous.defaults if previous is not None else signal_defaults(),
        policy_version=f"{rulebook.version}.p{counter}",
    )


holder: SnapshotHolder[ComplianceSnapshot] = SnapshotHolder(build)
