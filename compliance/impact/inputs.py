"""A logged decision made the gate's inputs again, as they were when it was decided.

- The rulebook: the decision's policy version names it (``rb<N>``), and ``RulebookVersion``
  N holds exactly the revisions that were in force; the draft is applied to that set the
  way activation would (``replay.with_draft``).
- The account's facts: the policy version names their version too (``a<seq>``, the id of
  the ``AccountProfileVersion`` row that wrote them), so a profile changed since the
  decision is read as it was. ``a0`` is no profile on file (or an anonymous visitor).
- The address: the access log stores what GeoIP said (country, subdivision, anonymizer).
  The pre-trade log stores the address only; it is located again with today's database and
  the decision is counted as *approximate*: said on the page, never silently.

Whatever cannot be recovered (a rulebook or profile version that is not there, a policy
version that does not parse, an address that cannot be located now) is skipped with its
reason and counted; nothing is guessed. Reads are batched per chunk (one query for the
chunk's profile versions) and compiled rulebooks are kept per version, so a chunk costs a
few queries whatever its size.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from compliance.geoip import GeoIpDatabaseError
from compliance.impact.replay import Question, with_draft
from compliance.models import AccountProfileVersion, RulebookVersion, RuleRevision
from compliance.rulebook import CompiledRulebook, Rule, compile_rulebook
from compliance.services import rule_of
from compliance.signals import IpFacts, ProfileFacts
from core.errors import GatehouseError
from core.registry import RecordedDecision

NOT_ASKED = "not_asked"
POLICY_VERSION_UNREADABLE = "policy_version_unreadable"
RULEBOOK_MISSING = "rulebook_missing"
PROFILE_MISSING = "profile_missing"
LOCATION_UNAVAILABLE = "location_unavailable"
INPUTS_INVALID = "inputs_invalid"

SKIP_REASONS = {
    NOT_ASKED: "the gate was not asked (an order for an unknown instrument)",
    POLICY_VERSION_UNREADABLE: "the decision's policy version does not name a rulebook",
    RULEBOOK_MISSING: "the rulebook version it names is not on file or no longer compiles",
    PROFILE_MISSING: "the account's facts at the time are not on file",
    LOCATION_UNAVAILABLE: "the address could not be located again (GeoIP unavailable)",
    INPUTS_INVALID: "the stored inputs no longer validate",
}
"""Why a decision was not replayed, as the draft's page says it."""

_POLICY_VERSION = re.compile(r"^rb(\d+)(?:\.[a-z]+\d+)*\.a(\d+)$")
_CACHED_RULEBOOKS = 64


def parse_policy_version(policy_version: str) -> tuple[int, int] | None:
    """(rulebook number, profile seq) of ``rb<N>.a<seq>`` or ``rb<N>.i<i>.s<s>.a<seq>``."""
    found = _POLICY_VERSION.match(policy_version or "")
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2))


def profile_of_version(account_id: str, seq: int, facts: dict) -> ProfileFacts:
    """An account's facts as a history row wrote them (fields added since default to
    what they meant before they existed); read leniently, as the snapshot reads them."""
    return ProfileFacts(
        account_id=account_id,
        residence_country=facts["residence_country"],
        residence_subdivision=facts.get("residence_subdivision") or None,
        nationalities=tuple(facts.get("nationalities") or ()),
        entity_type=facts.get("entity_type") or "individual",
        controlling_countries=tuple(facts.get("controlling_countries") or ()),
        controlling_subdivisions=tuple(facts.get("controlling_subdivisions") or ()),
        investor_category=facts.get("investor_category") or "retail",
        status=facts.get("status") or "active",
        sanctions=facts.get("sanctions_status") or "clear",
        sanctions_basis=facts.get("sanctions_basis") or None,
        seq=seq,
        lenient=True,
    )


@dataclass(frozen=True, slots=True)
class Rulebooks:
    """One rulebook version as it was (``before``) and with the draft applied (``after``)."""

    before: CompiledRulebook
    after: CompiledRulebook


@dataclass(frozen=True, slots=True)
class Recovered:
    """A record's inputs, recovered: the question, its rulebooks, and whether an input had
    to be derived again now (``approximate``)."""

    question: Question
    rulebooks: Rulebooks
    approximate: bool


Locate = Callable[[str], IpFacts]
Profile = tuple[str, ProfileFacts | None]
"""A profile version: its account, and its facts (None when they no longer read)."""


class Inputs:
    """Recovers the inputs of logged decisions for one draft (``rule_id``, ``draft``: the
    draft's rule, None when it retires the rule). ``locate`` is the GeoIP lookup used when a
    log kept only the address."""

    def __init__(self, rule_id: str, draft: Rule | None, locate: Locate | None) -> None:
        self.rule_id, self.draft = rule_id, draft
        self._locate = locate
        self._rulebooks: OrderedDict[int, Rulebooks | None] = OrderedDict()
        self._places: dict[tuple, IpFacts] = {}

    def rulebooks(self, number: int) -> Rulebooks | None:
        """Rulebook ``number`` before and after the draft, compiled once per measurement
        run (the last ``_CACHED_RULEBOOKS`` used)."""
        if number in self._rulebooks:
            self._rulebooks.move_to_end(number)
            return self._rulebooks[number]
        found = self._compile(number)
        self._rulebooks[number] = found
        if len(self._rulebooks) > _CACHED_RULEBOOKS:
            self._rulebooks.popitem(last=False)
        return found

    def _compile(self, number: int) -> Rulebooks | None:
        if number == 0:
            revisions: Sequence[RuleRevision] = ()
        else:
            version = RulebookVersion.objects.filter(version=number).first()
            if version is None:
                return None
            revisions = list(version.revisions.all())
        try:
            rules = [rule_of(revision) for revision in revisions]
            return Rulebooks(
                before=compile_rulebook(rules, f"rb{number}"),
                after=compile_rulebook(
                    with_draft(rules, self.rule_id, self.draft), f"rb{number}+draft"
                ),
            )
        except (GatehouseError, ValueError):
            return None

    def profiles(self, records: Sequence[RecordedDecision]) -> dict[int, Profile]:
        """The profile versions the chunk's decisions name, each made facts once: seq ->
        (account, facts, or None when they no longer read), in one query."""
        seqs = set()
        for record in records:
            parsed = parse_policy_version(record.policy_version)
            if parsed is not None and parsed[1]:
                seqs.add(parsed[1])
        rows = AccountProfileVersion.objects.filter(pk__in=seqs).values_list(
            "pk", "account_id", "facts"
        )
        found: dict[int, Profile] = {}
        for pk, account_id, facts in rows:
            try:
                found[pk] = (account_id, profile_of_version(account_id, pk, facts))
            except (KeyError, TypeError, ValueError):
                found[pk] = (account_id, None)
        return found

    def recover(self, record: RecordedDecision, profiles: dict[int, Profile]) -> Recovered | str:
        """The record's inputs, or the reason (``SKIP_REASONS``) they cannot be had."""
        if record.product_class is None:
            return NOT_ASKED
        parsed = parse_policy_version(record.policy_version)
        if parsed is None:
            return POLICY_VERSION_UNREADABLE
        number, seq = parsed
        rulebooks = self.rulebooks(number)
        if rulebooks is None:
            return RULEBOOK_MISSING
        profile = None
        if seq:
            stored = profiles.get(seq)
            if stored is None or stored[0] != record.account_id:
                return PROFILE_MISSING
            profile = stored[1]
            if profile is None:
                return INPUTS_INVALID
        elif record.profile_known:
            return PROFILE_MISSING  # a profile was on file, but the log names no version
        place = self._place(record)
        if isinstance(place, str):
            return place
        ip, approximate = place
        question = Question(
            at=record.at,
            profile=profile,
            ip=ip,
            product_class=record.product_class,
            action=record.action,
            actions=record.actions,
            anonymous=record.anonymous,
            decides=record.decides,
        )
        return Recovered(question, rulebooks, approximate)

    def _place(self, record: RecordedDecision) -> tuple[IpFacts | None, bool] | str:
        """(the address's facts, whether they were derived again now)."""
        if record.client_ip is None:
            return None, False
        if record.location_stored:
            if record.location is None:
                return None, False
            key = (
                record.client_ip,
                record.location.get("country"),
                record.location.get("subdivision"),
                bool(record.location.get("anonymizer")),
            )
            found = self._places.get(key)
            if found is None:
                try:
                    found = IpFacts(
                        ip=key[0], country=key[1], subdivision=key[2], is_anonymous_vpn=key[3]
                    )
                except ValueError:
                    return INPUTS_INVALID
                if len(self._places) > 65_536:
                    self._places.clear()
                self._places[key] = found
            return found, False
        if self._locate is None:
            return LOCATION_UNAVAILABLE
        try:
            return self._locate(record.client_ip), True
        except (OSError, ValueError, GeoIpDatabaseError):
            return LOCATION_UNAVAILABLE
