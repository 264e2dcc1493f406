"""The access decision: may this person do this action with this product class, from here?

A pure function of a compiled rulebook, the account's facts, the address's facts, the
product class, the action and an explicit ``now`` (CONVENTIONS.md, "Pure core, thin
shell"): no I/O, no clock, nothing allocated on the allowed path but the answer.

How it decides (DESIGN.md, "Jurisdiction gating"; RULES.md §7):

* Every signal (IP, residence, each nationality, each controlling country) is resolved to
  the rule that decides it among the rules whose scope names that signal, with the effect
  the rule has on it (``compliance.rulebook.ruling``: the stricter of subdivision and
  country unless the subdivision rule is a carve-out; ``review`` when the signal's
  subdivision is unknown and the country has subdivision rules; otherwise the default
  ``allow``). The effective decision is the most restrictive over all of them;
  the first reason names the deciding signal and rule, and every other signal that is not
  ``allow`` is listed after it, most restrictive first, then in signal order.
* An anonymizing IP, an IP with no location and a missing profile are signals with no
  jurisdiction: their effect comes from ``SignalDefaults`` (shipped: ``review`` for
  ``open``). They can never hold up ``withdraw``: a customer's own assets are not trapped
  by a doubt about where they are.
* A product ban names the actions it bans (``open``, ``deposit``), so it never touches
  ``withdraw``; the wind-down rule puts ``reduce`` in ``close_only``; ``view`` is allowed
  unless a rule names it. Withdrawals are only held when a rule says so (``ofac-withdraw``:
  blocked property is released after compliance review).
* A visitor who names no account is judged by location alone; the ``no_profile`` default is
  for an account that is named but has no profile (API.md, "Access gate").
* A rule limited to ``retail`` investors also applies to a visitor with no profile: without
  KYC nobody has shown they are professional, and the FCA retail ban (PS20/10) must not be
  avoidable by not logging in.
* A profile that no longer validates (a pycountry upgrade retired one of its codes) is
  judged on the codes that still do, and ``open`` and ``deposit`` are ``review`` until an
  officer corrects it (``default-profile-invalid``): it never adds exposure on a fact the
  rulebook cannot read, and never traps the customer's own assets.
* Sanctions screening (``ProfileFacts.sanctions``, issue 15) comes before any rule: a
  confirmed match denies every action, ``withdraw`` and ``view`` included, since the
  listed person's property is blocked (``SANCTIONS_MATCH``); a possible match an officer
  has not decided is ``review`` for every action (``SANCTIONS_REVIEW``): orders are
  rejected and withdrawals held until the case is decided.
* Account status (suspended, closed) is not decided here: the pre-trade pipeline refuses
  such accounts (``ACCOUNT_SUSPENDED``) before jurisdiction is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from compliance.rulebook import (
    ACTIONS,
    ALLOW,
    CLOSE_ONLY,
    DENY,
    DEPOSIT,
    EFFECTS,
    OPEN,
    REDUCE,
    RESTRICTIVENESS,
    REVIEW,
    VIEW,
    WITHDRAW,
    CompiledRulebook,
    ruling,
)
from compliance.signals import RETAIL, IpFacts, ProfileFacts, Signal

CHECK = "jurisdiction"

REASON_CODES = MappingProxyType(
    {
        DENY: "JURISDICTION_BLOCKED",
        CLOSE_ONLY: "JURISDICTION_CLOSE_ONLY",
        REVIEW: "JURISDICTION_REVIEW",
    }
)
"""API.md reason codes, one per restrictive effect."""

ANONYMIZER = "anonymizer"
IP_UNLOCATED = "ip_unlocated"
NO_PROFILE = "no_profile"
PROFILE_INVALID = "profile_invalid"
SANCTIONS = "sanctions"
SANCTIONS_CHECK = "sanctions"
SANCTIONS_CODES = MappingProxyType({DENY: "SANCTIONS_MATCH", REVIEW: "SANCTIONS_REVIEW"})

_VERDICT_WORDS = {DENY: "Blocked", CLOSE_ONLY: "Close-only", REVIEW: "Review required"}

_DEFAULT_RULE_IDS = {
    ANONYMIZER: "default-anonymizer",
    IP_UNLOCATED: "default-ip-unlocated",
    NO_PROFILE: "default-no-profile",
    PROFILE_INVALID: "default-profile-invalid",
}

_DEFAULT_GROUNDS = {
    ANONYMIZER: "the address belongs to an anonymizing network (VPN, hosting, Tor or proxy)",
    IP_UNLOCATED: "the address has no location (private, reserved or unknown)",
    NO_PROFILE: "there is no account profile to check residence and nationality against",
    PROFILE_INVALID: "the account profile holds a code that no longer validates",
}

_DEFAULT_CITATION = (
    "RULES.md §7 (signals): an anonymizing IP, an IP with no location and a missing account "
    "profile each have a configurable effect; the shipped default is review for open, and "
    "they never block withdraw."
)


@dataclass(frozen=True, slots=True)
class JurisdictionReason:
    """Why a request is not simply allowed: one signal, the rule that decided it."""

    effect: str
    signal: str
    jurisdiction: str | None
    rule_id: str
    citation: str
    subdivision_unknown: bool = False
    basis: Mapping[str, object] | None = field(default=None, compare=False)
    """For a sanctions reason: the case and list version it rests on (into ``detail``)."""

    @property
    def code(self) -> str:
        if self.signal == SANCTIONS:
            return SANCTIONS_CODES[self.effect]
        return REASON_CODES[self.effect]

    @property
    def message(self) -> str:
        verdict = _VERDICT_WORDS[self.effect]
        if self.signal == SANCTIONS:
            return _SANCTIONS_MESSAGES[self.effect]
        grounds = _DEFAULT_GROUNDS.get(self.signal)
        if grounds is not None:
            return f"{verdict}: {grounds} (rule {self.rule_id})."
        if self.subdivision_unknown:
            return (
                f"{verdict}: the subdivision of {self.jurisdiction} is unknown and rule "
                f"{self.rule_id} restricts some of its subdivisions (signal: {self.signal})."
            )
        return f"{verdict} in {self.jurisdiction} by rule {self.rule_id} (signal: {self.signal})."

    def as_contract(self) -> dict:
        """The reason as API.md renders it (``check: "jurisdiction"``)."""
        detail = {
            "jurisdiction": self.jurisdiction,
            "signal": self.signal,
            "rule": self.rule_id,
            "citation": self.citation,
        }
        if self.subdivision_unknown:
            detail["subdivision"] = "unknown"
        if self.basis:
            detail.update(self.basis)
        check = SANCTIONS_CHECK if self.signal == SANCTIONS else CHECK
        return {"code": self.code, "check": check, "message": self.message, "detail": detail}


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """The answer: the effect, every reason (deciding one first) and the rulebook version."""

    effect: str
    reasons: tuple[JurisdictionReason, ...]
    policy_version: str

    def permits(self, action: str) -> bool:
        """Whether the action may go ahead under this effect.

        ``close_only`` lets a customer reduce, withdraw and look, but never add exposure or
        funds: the state a new ban puts existing positions in (DESIGN.md).
        """
        if self.effect == ALLOW:
            return True
        return self.effect == CLOSE_ONLY and action in (REDUCE, WITHDRAW, VIEW)

    def as_contract(self) -> dict:
        return {
            "effect": self.effect,
            "reasons": [reason.as_contract() for reason in self.reasons],
            "policy_version": self.policy_version,
        }


def _default_effects(configured: Mapping[str, str], signal: str) -> MappingProxyType:
    unknown = set(configured) - ACTIONS
    if unknown:
        raise ValueError(f"{signal}: unknown actions {sorted(unknown)}")
    effects = {action: configured.get(action, ALLOW) for action in ACTIONS}
    if not set(effects.values()) <= EFFECTS:
        raise ValueError(f"{signal}: effects must be among {sorted(EFFECTS)}")
    if effects[WITHDRAW] != ALLOW:
        raise ValueError(f"{signal}: a signal default never blocks or reviews withdraw")
    return MappingProxyType(effects)


def _shipped() -> dict[str, str]:
    return {OPEN: REVIEW}


@dataclass(frozen=True, slots=True)
class SignalDefaults:
    """Effects, per action, for the signals that carry no jurisdiction (RULES.md §7).

    Each field maps an action to an effect; an action left out is ``allow``. The shipped
    default is ``review`` for ``open``; configuring anything but ``allow`` for ``withdraw``
    is refused.
    """

    anonymizer: Mapping[str, str] = field(default_factory=_shipped)
    ip_unlocated: Mapping[str, str] = field(default_factory=_shipped)
    no_profile: Mapping[str, str] = field(default_factory=_shipped)
    _reasons: MappingProxyType = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        reasons: dict[str, tuple[JurisdictionReason | None, ...]] = {}
        for signal in (ANONYMIZER, IP_UNLOCATED, NO_PROFILE):
            effects = _default_effects(getattr(self, signal), signal)
            object.__setattr__(self, signal, effects)
        for action in ACTIONS:
            reasons[action] = tuple(
                _default_reason(signal, getattr(self, signal)[action])
                for signal in (ANONYMIZER, IP_UNLOCATED, NO_PROFILE)
            )
        object.__setattr__(self, "_reasons", MappingProxyType(reasons))


def _default_reason(signal: str, effect: str) -> JurisdictionReason | None:
    if effect == ALLOW:
        return None
    return JurisdictionReason(effect, signal, None, _DEFAULT_RULE_IDS[signal], _DEFAULT_CITATION)


SHIPPED_SIGNAL_DEFAULTS = SignalDefaults()

_PROFILE_INVALID_CITATION = (
    "Issue 14 (venue policy): a profile whose codes no longer validate is decided on the "
    "codes that still do, and opening or depositing is reviewed until it is corrected."
)
_PROFILE_INVALID_REASON = JurisdictionReason(
    REVIEW, PROFILE_INVALID, None, _DEFAULT_RULE_IDS[PROFILE_INVALID], _PROFILE_INVALID_CITATION
)
_PROFILE_INVALID_ACTIONS = frozenset({OPEN, DEPOSIT})


_SANCTIONS_MESSAGES = {
    DENY: "Blocked: the account matches a sanctions list entry (confirmed).",
    REVIEW: "Review required: a possible sanctions list match awaits an officer's decision.",
}
_SANCTIONS_CITATION = (
    "OFAC: 31 CFR 501 and the program regulations; dealing in the property or interests in "
    "property of a blocked person is prohibited wherever they live (issue 15: screening)."
)
_SANCTIONS_REASONS = MappingProxyType(
    {
        "match": JurisdictionReason(
            DENY, SANCTIONS, None, "sanctions-screening", _SANCTIONS_CITATION
        ),
        "review": JurisdictionReason(
            REVIEW, SANCTIONS, None, "sanctions-screening", _SANCTIONS_CITATION
        ),
    }
)


def _restrictiveness(reason: JurisdictionReason) -> int:
    return RESTRICTIVENESS[reason.effect]


def _judge(
    signals: tuple[Signal, ...],
    rules_by_scope: Mapping[str, object],
    investor_category: str,
    now: datetime,
    reasons: list[JurisdictionReason],
) -> None:
    """Append a reason for every signal whose deciding rule is not ``allow``."""
    for signal in signals:
        index = rules_by_scope.get(signal.scope)
        if index is None:
            continue
        found = ruling(index, signal.country, signal.subdivision, investor_category, now)
        if found is not None:
            scoped, code, unknown = found
            if unknown:
                reasons.append(
                    JurisdictionReason(
                        REVIEW, signal.name, code, scoped.rule.rule_id, scoped.rule.citation, True
                    )
                )
            elif scoped.rank:
                reasons.append(
                    JurisdictionReason(
                        scoped.effect, signal.name, code, scoped.rule.rule_id, scoped.rule.citation
                    )
                )


def decide(
    rulebook: CompiledRulebook,
    profile: ProfileFacts | None,
    ip: IpFacts | None,
    product_class: str,
    action: str,
    now: datetime,
    defaults: SignalDefaults = SHIPPED_SIGNAL_DEFAULTS,
    *,
    anonymous: bool = False,
) -> AccessDecision:
    """Decide one access request; see the module docstring for how.

    ``ip=None`` (no client address given) counts as an address with no location: the gate
    cannot place the request, which is the doubt ``ip_unlocated`` exists for.
    ``anonymous`` is a visitor who named no account (API.md: the answer is about the
    location alone), so the ``no_profile`` default does not apply to them; it applies to an
    account that was named and has no profile. Unknown product classes or actions and a
    naive ``now`` raise ValueError.
    """
    rules_by_scope = rulebook.rules_for(product_class, action)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    anonymizer, unlocated, no_profile = defaults._reasons[action]
    investor_category = RETAIL if profile is None else profile.investor_category
    reasons: list[JurisdictionReason] = []
    if ip is not None:
        if rules_by_scope and ip.signals:
            _judge(ip.signals, rules_by_scope, investor_category, now, reasons)
        if anonymizer is not None and ip.is_anonymizer:
            reasons.append(anonymizer)
    if unlocated is not None and (ip is None or not ip.signals):
        reasons.append(unlocated)
    if profile is None:
        if no_profile is not None and not anonymous:
            reasons.append(no_profile)
    else:
        screened = _SANCTIONS_REASONS.get(profile.sanctions)
        if screened is not None:
            if profile.sanctions_basis:
                screened = replace(screened, basis=profile.sanctions_basis)
            reasons.insert(0, screened)
        if rules_by_scope:
            _judge(profile.signals, rules_by_scope, investor_category, now, reasons)
        if profile.problems and action in _PROFILE_INVALID_ACTIONS:
            reasons.append(_PROFILE_INVALID_REASON)
    if not reasons:
        return AccessDecision(ALLOW, (), rulebook.version)
    reasons.sort(key=_restrictiveness, reverse=True)
    return AccessDecision(reasons[0].effect, tuple(reasons), rulebook.version)
