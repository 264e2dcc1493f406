"""One past decision asked again of two rulebooks: the one it was decided with, and that
one with the draft applied. Pure: no ORM, no clock, no GeoIP.

Both answers come from the same ``decide`` with the same inputs at the same instant (the
decision's own), so the only thing that can make them differ is the draft. A profile
changed since, a GeoIP database replaced or signal defaults reconfigured move both
answers alike and never show up as the draft's impact; effective windows are judged at the
decision's instant, so a draft that comes into force later flips nothing before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from compliance.access import AccessDecision, JurisdictionReason, SignalDefaults, decide
from compliance.rulebook import RESTRICTIVENESS, Rule
from compliance.signals import IpFacts, ProfileFacts

NO_JURISDICTION = "—"
"""What a flip's jurisdiction reads when its deciding reason has none (a signal default)."""


@dataclass(frozen=True, slots=True)
class Question:
    """What the gate was asked: the inputs a decision's log kept, made facts again.

    ``action`` is what the decision was about, as the impact counts it; ``actions`` are the
    gate's questions it rested on (``(action,)`` for an access decision); with more than
    one, ``decides`` picks the one whose verdict decided from the effect of each (a
    pre-trade order: ``core.registry.RecordedDecision``).
    """

    at: datetime
    profile: ProfileFacts | None
    ip: IpFacts | None
    product_class: str
    action: str
    actions: tuple[str, ...]
    anonymous: bool = False
    decides: Callable[[Mapping[str, str]], str] | None = None


@dataclass(frozen=True, slots=True)
class Flip:
    """A decision the draft changes: the effect before and after, and the reason on the
    stricter side that the other side does not have (the rule the draft adds or lifts)."""

    action: str
    effect_from: str
    effect_to: str
    jurisdiction: str
    signal: str
    rule_id: str


@dataclass(frozen=True, slots=True)
class Replayed:
    """The two answers: ``before`` under the rulebook in force, ``after`` with the draft."""

    action: str
    before: AccessDecision
    after: AccessDecision

    @property
    def flip(self) -> Flip | None:
        if self.before.effect == self.after.effect:
            return None
        stricter, other = self.after, self.before
        if RESTRICTIVENESS[self.before.effect] > RESTRICTIVENESS[self.after.effect]:
            stricter, other = self.before, self.after
        reason = _new_reason(stricter, other)
        return Flip(
            action=self.action,
            effect_from=self.before.effect,
            effect_to=self.after.effect,
            jurisdiction=reason.jurisdiction or NO_JURISDICTION,
            signal=reason.signal,
            rule_id=reason.rule_id,
        )


def _key(reason: JurisdictionReason) -> tuple:
    return (reason.effect, reason.signal, reason.jurisdiction, reason.rule_id)


def _new_reason(stricter: AccessDecision, other: AccessDecision) -> JurisdictionReason:
    """The first reason at the stricter effect that the other answer lacks: what the draft
    added (or, when it loosens, what it took away). Its deciding reason otherwise."""
    known = {_key(reason) for reason in other.reasons}
    for reason in stricter.reasons:
        if reason.effect == stricter.effect and _key(reason) not in known:
            return reason
    return stricter.reasons[0]


def with_draft(rules: Iterable[Rule], rule_id: str, draft: Rule | None) -> tuple[Rule, ...]:
    """``rules`` as they would be with the draft in force: the draft's rule replaced by it
    (or added), or taken out when the draft retires it (``draft=None``). The same thing
    activation does to the set of active revisions (``compliance.services.activate_rule``)."""
    kept = tuple(rule for rule in rules if rule.rule_id != rule_id)
    return kept if draft is None else (*kept, draft)


def ask(question: Question, rulebook, defaults: SignalDefaults) -> AccessDecision:
    """The gate's answer to ``question`` under ``rulebook``: the deciding verdict."""
    decided = {
        action: decide(
            rulebook,
            question.profile,
            question.ip,
            question.product_class,
            action,
            question.at,
            defaults,
            anonymous=question.anonymous,
        )
        for action in question.actions
    }
    if len(decided) == 1 or question.decides is None:
        return decided[question.actions[0]]
    return decided[question.decides({name: found.effect for name, found in decided.items()})]


def replay(question: Question, before, after, defaults: SignalDefaults) -> Replayed:
    """``question`` asked of ``before`` (the rulebook it was decided with) and of ``after``
    (the same with the draft applied), at its own instant."""
    return Replayed(
        question.action, ask(question, before, defaults), ask(question, after, defaults)
    )
