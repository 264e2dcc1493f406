"""The jurisdiction gate's policy snapshot: the compiled rulebook of the latest published
version, immutable and stamped with the ``rules`` version it was built from, and the
accounts' KYC facts, each stamped with its own version (``seq``).

The access check and the pre-trade check read it and never query the ORM in the common
case. Their Lua step compares the versions they used with the announced ones
(``core.policy``): a newer rulebook rebuilds the snapshot (``holder.at_least``), a newer
profile reloads that one account (``ProfileCache.refresh``), and the check asks again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from compliance.access import SignalDefaults
from compliance.models import AccountProfile, RulebookVersion, RuleRevision
from compliance.rulebook import CompiledRulebook, compile_rulebook
from compliance.signals import ProfileFacts
from core import policy
from core.policy import SnapshotHolder, SnapshotUnavailable

logger = logging.getLogger("gatehouse.access")


def profile_facts_of(row: AccountProfile) -> ProfileFacts:
    """Stored facts are read leniently: a code retired since it was written is reported
    (logged here, ``review`` in the decision) instead of making the whole snapshot fail."""
    facts = ProfileFacts(
        account_id=row.account_id,
        residence_country=row.residence_country,
        residence_subdivision=row.residence_subdivision or None,
        nationalities=tuple(row.nationalities),
        entity_type=row.entity_type,
        controlling_countries=tuple(row.controlling_countries),
        controlling_subdivisions=tuple(row.controlling_subdivisions or ()),
        investor_category=row.investor_category,
        status=row.status,
        sanctions=row.sanctions_status,
        sanctions_basis=row.sanctions_basis or None,
        seq=row.change_seq,
        lenient=True,
    )
    if facts.problems:
        logger.warning("profile %s no longer validates: %s", row.account_id, facts.problems)
    return facts


class ProfileCache:
    """Every account's facts as this process last read them. Loaded whole once; after that
    one account at a time, when a check finds its announced version newer than the copy
    here. Each entry is replaced whole (one dict assignment), so a reader sees either the
    old facts or the new ones, never a mixture."""

    def __init__(self) -> None:
        self._facts: dict[str, ProfileFacts] = {}
        self._lock = threading.Lock()

    def load_all(self) -> None:
        rows = AccountProfile.objects.all().iterator(chunk_size=2000)
        self._facts = {row.account_id: profile_facts_of(row) for row in rows}

    def get(self, account_id: str) -> ProfileFacts | None:
        return self._facts.get(account_id)

    def seq(self, account_id: str | None) -> int:
        facts = self._facts.get(account_id) if account_id else None
        return 0 if facts is None else facts.seq

    def refresh(self, account_id: str, at_least: int) -> ProfileFacts | None:
        """Read one account's facts again; they must be at least version ``at_least``."""
        with self._lock:
            facts = self._facts.get(account_id)
            if facts is not None and facts.seq >= at_least:
                return facts
            row = AccountProfile.objects.filter(account_id=account_id).first()
            if row is None or row.change_seq < at_least:
                raise SnapshotUnavailable(
                    f"profile of {account_id} below the announced version {at_least}"
                )
            facts = profile_facts_of(row)
            self._facts[account_id] = facts
            return facts

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


@dataclass(frozen=True, slots=True)
class ComplianceSnapshot:
    rulebook: CompiledRulebook
    rulebook_version: int
    profiles: ProfileCache
    defaults: SignalDefaults
    versions: dict[str, int]

    def policy_version(self, account_id: str | None = None) -> str:
        """Names exactly what a decision saw: the rulebook and the version of the account's
        facts (``a0``: no account, or none on file)."""
        return f"{self.rulebook.version}.a{self.profiles.seq(account_id)}"


def _rulebook(version: RulebookVersion | None) -> CompiledRulebook:
    from compliance.services import rule_of

    label = f"rb{version.version}" if version else "rb0"
    revisions = version.revisions.all() if version else RuleRevision.objects.none()
    return compile_rulebook([rule_of(revision) for revision in revisions], label)


def signal_defaults() -> SignalDefaults:
    return SignalDefaults(
        anonymizer=settings.ACCESS_DEFAULT_ANONYMIZER,
        ip_unlocated=settings.ACCESS_DEFAULT_IP_UNLOCATED,
        no_profile=settings.ACCESS_DEFAULT_NO_PROFILE,
    )


def build(previous: ComplianceSnapshot | None) -> ComplianceSnapshot:
    versions = policy.versions_in_database()
    version = RulebookVersion.objects.order_by("-version").first()
    number = version.version if version else 0
    if previous is not None and previous.rulebook_version == number:
        rulebook = previous.rulebook
    else:
        rulebook = _rulebook(version)
    if previous is not None:
        profiles = previous.profiles
    else:
        profiles = ProfileCache()
        profiles.load_all()
    return ComplianceSnapshot(
        rulebook=rulebook,
        rulebook_version=number,
        profiles=profiles,
        defaults=previous.defaults if previous is not None else signal_defaults(),
        versions={policy.RULES: versions[policy.RULES]},
    )


def account_versions():
    """Every profile's version, for ``core.policy.restore``."""
    return AccountProfile.objects.values_list("account_id", "change_seq").iterator(chunk_size=5000)


holder: SnapshotHolder[ComplianceSnapshot] = SnapshotHolder(build, (policy.RULES,))
