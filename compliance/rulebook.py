"""Jurisdiction rules and the compiled, immutable rulebook the access decision runs on.

DESIGN.md, "Jurisdiction gating": a rule says, for these jurisdictions (ISO 3166-1 country or
ISO 3166-2 subdivision), these product classes and these actions, ``allow``, ``close_only``,
``review`` or ``deny``, with a legal citation, an effective window and an optional
investor-category condition. The default is ``allow``: the rulebook lists restrictions, it
is not a list of permissions; at equal specificity ``deny`` > ``close_only`` > ``review`` >
``allow``.

A rule names the signals it reaches (issue 14): any of ``ip_geolocation``, ``residence``,
``nationality`` and ``controlling_country``, each with the rule's effect or one of its own
(``signal_effects``: the PRC notice reaches mainland subjects, so residence is ``deny`` and a
mainland nationality alone is ``review``, enhanced due diligence as venue policy). A signal
outside a rule's scope is simply not judged by it.

Subdivision against country: the stricter of the two applies, so a subdivision rule never
loosens its country's rule (a future ``US-NY review`` leaves the US ``deny`` in place)
unless it is marked ``carve_out``; a carve-out decides its subdivision alone. A signal
placed only in a country (no subdivision) where the rulebook has subdivision rules that
restrict more than the country's own is answered ``review``: the subdivision is unknown
(a ``UA`` residence with no subdivision may be Crimea).

Only the rules handed to ``compile_rulebook`` exist for it: callers pass the *active* rules
(drafts and retired rules never get here). Effective windows are still checked at decision
time against an explicit ``now``, so a snapshot compiled before a rule comes into force (or
lapses) stays right without a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from compliance.signals import (
    INVESTOR_CATEGORIES,
    OWN_JURISDICTION_TERRITORIES,
    SCOPES,
    is_known_jurisdiction,
)

ALLOW = "allow"
REVIEW = "review"
CLOSE_ONLY = "close_only"
DENY = "deny"

RESTRICTIVENESS = MappingProxyType({ALLOW: 0, REVIEW: 1, CLOSE_ONLY: 2, DENY: 3})
"""The one ordering of effects (DESIGN.md): a higher number is more restrictive."""

EFFECTS = frozenset(RESTRICTIVENESS)

PRODUCT_CLASSES = frozenset(
    {"equity_perp", "crypto_perp", "rwa_token", "crypto_spot", "stablecoin"}
)
"""RULES.md §7. ``all`` in a rule means every one of these."""

OPEN = "open"
REDUCE = "reduce"
DEPOSIT = "deposit"
WITHDRAW = "withdraw"
VIEW = "view"
ACTIONS = frozenset({OPEN, REDUCE, DEPOSIT, WITHDRAW, VIEW})
"""API.md, "Access gate". There is deliberately no ``all`` for actions: a product ban
written as "all actions" would trap withdrawals of a customer's own assets, which DESIGN.md
forbids; a rule that touches ``withdraw`` must say so."""

ALL_PRODUCT_CLASSES = "all"


def _codes(value: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(value, str):
        raise ValueError(f"{what} must be a collection of codes, not the string {value!r}")
    codes = frozenset(value)
    if not codes:
        raise ValueError(f"{what} must not be empty")
    return codes


def _utc(moment: datetime | None, what: str) -> datetime | None:
    """Aware datetimes only (CONVENTIONS.md, "One clock"); normalised to UTC for comparison."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the rulebook (RULES.md §7), checked when it is built.

    ``effective_from``/``effective_until`` form the half-open window [from, until): a rule is
    in force from its first instant up to, not including, its last. ``investor_category``
    (``retail`` or ``professional``) limits the rule to accounts of that category.
    ``citation`` ("reference: text") is what a decision shows in ``detail.citation``.
    ``signals`` is the rule's scope (``compliance.signals.SCOPES``; all four when not
    given, which is what every rule meant before scopes existed); ``signal_effects`` gives
    a signal of the scope an effect other than ``effect``. ``carve_out`` lets a subdivision
    rule be less strict than its country's rule.
    """

    rule_id: str
    jurisdictions: frozenset[str]
    product_classes: frozenset[str]
    actions: frozenset[str]
    effect: str
    citation_text: str
    citation_ref: str
    investor_category: str | None = None
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    signals: frozenset[str] = frozenset(SCOPES)
    signal_effects: Mapping[str, str] = field(default_factory=dict, hash=False)
    carve_out: bool = False
    rank: int = field(init=False, repr=False, compare=False)
    citation: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rule_id or not isinstance(self.rule_id, str):
            raise ValueError("rule_id is required")
        jurisdictions = _codes(self.jurisdictions, "jurisdictions")
        for code in jurisdictions:
            if code in OWN_JURISDICTION_TERRITORIES:
                raise ValueError(f"{code} is its own jurisdiction: write it as a country code")
            if not is_known_jurisdiction(code):
                raise ValueError(f"{code!r} is not an ISO 3166-1 or ISO 3166-2 code")
        if self.product_classes == ALL_PRODUCT_CLASSES:
            products = PRODUCT_CLASSES
        else:
            products = _codes(self.product_classes, "product_classes")
        if not products <= PRODUCT_CLASSES:
            raise ValueError(f"unknown product classes {sorted(products - PRODUCT_CLASSES)}")
        actions = _codes(self.actions, "actions")
        if not actions <= ACTIONS:
            raise ValueError(f"unknown actions {sorted(actions - ACTIONS)}")
        if self.effect not in EFFECTS:
            raise ValueError(f"effect must be one of {sorted(EFFECTS)}")
        if self.investor_category not in {None, *INVESTOR_CATEGORIES}:
            raise ValueError(f"investor_category must be None or {sorted(INVESTOR_CATEGORIES)}")
        if not self.citation_text or not self.citation_ref:
            raise ValueError("a rule needs its legal citation (text and reference)")
        starts = _utc(self.effective_from, "effective_from")
        ends = _utc(self.effective_until, "effective_until")
        if starts is not None and ends is not None and not starts < ends:
            raise ValueError("effective_from must be before effective_until")
        scope = _codes(self.signals, "signals")
        if not scope <= frozenset(SCOPES):
            raise ValueError(f"unknown signals {sorted(scope - frozenset(SCOPES))}")
        signal_effects = dict(self.signal_effects or {})
        if not set(signal_effects) <= scope:
            raise ValueError("signal_effects may only name signals in the rule's scope")
        if not set(signal_effects.values()) <= EFFECTS:
            raise ValueError(f"signal effects must be among {sorted(EFFECTS)}")
        if self.carve_out and not any("-" in code for code in jurisdictions):
            raise ValueError("only a subdivision rule can be a carve-out")
        object.__setattr__(self, "signals", scope)
        object.__setattr__(self, "signal_effects", MappingProxyType(signal_effects))
        object.__setattr__(self, "jurisdictions", jurisdictions)
        object.__setattr__(self, "product_classes", products)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "effective_from", starts)
        object.__setattr__(self, "effective_until", ends)
        object.__setattr__(self, "rank", RESTRICTIVENESS[self.effect])
        object.__setattr__(self, "citation", f"{self.citation_ref}: {self.citation_text}")

    def effect_on(self, signal: str) -> str | None:
        """The rule's effect on a signal of its scope, or None outside it."""
        if signal not in self.signals:
            return None
        return self.signal_effects.get(signal, self.effect)

    def in_force(self, now: datetime) -> bool:
        """Whether ``now`` falls in [effective_from, effective_until)."""
        return (self.effective_from is None or self.effective_from <= now) and (
            self.effective_until is None or now < self.effective_until
        )


@dataclass(frozen=True, slots=True)
class Scoped:
    """One rule as it applies to one signal: its effect there, ranked."""

    rule: Rule
    effect: str
    rank: int
    carve_out: bool


def _precedence(entry: Scoped) -> tuple[int, str]:
    """Most restrictive first; the rule id breaks ties so that rule order never matters."""
    return (-entry.rank, entry.rule.rule_id)


@dataclass(frozen=True, slots=True)
class SignalIndex:
    """The rules for one (product class, action, signal): jurisdiction code -> rules in
    precedence order, and country -> the rules of its subdivisions (for a signal whose
    subdivision is unknown)."""

    by_code: MappingProxyType
    subdivided: MappingProxyType


@dataclass(frozen=True, slots=True)
class CompiledRulebook:
    """An immutable, version-stamped snapshot of the active rules, indexed for the hot path.

    For every (product class, action) it holds, per signal of a rule's scope, a map from
    jurisdiction code to the rules for it, most restrictive first, so a decision is a
    handful of dict hits and no scans.
    """

    version: str
    rules: tuple[Rule, ...]
    _index: MappingProxyType = field(repr=False, compare=False)

    def rules_for(self, product_class: str, action: str) -> MappingProxyType:
        """Signal scope -> ``SignalIndex`` for this product and action (scopes no rule
        reaches are absent)."""
        try:
            return self._index[product_class, action]
        except KeyError:
            raise ValueError(
                f"unknown product class or action: {product_class!r}, {action!r}"
            ) from None


def _first_applicable(
    entries: tuple[Scoped, ...] | None, investor_category: str, now: datetime
) -> Scoped | None:
    if entries is None:
        return None
    for entry in entries:
        rule = entry.rule
        if rule.investor_category is not None and rule.investor_category != investor_category:
            continue
        if rule.effective_from is not None and now < rule.effective_from:
            continue
        if rule.effective_until is not None and now >= rule.effective_until:
            continue
        return entry
    return None


UNKNOWN_SUBDIVISION_RANK = RESTRICTIVENESS[REVIEW]


def ruling(
    index: SignalIndex,
    country: str,
    subdivision: str | None,
    investor_category: str,
    now: datetime,
) -> tuple[Scoped, str, bool] | None:
    """What decides one signal: (rule as scoped, code it matched, subdivision unknown), or
    None (allow).

    With a subdivision, the stricter of its rule and the country's rule decides (the
    subdivision's at a tie), unless the subdivision's is a carve-out, which decides alone.
    Without one, a country whose subdivisions have rules stricter than its own answers
    ``review`` (the third item is True; the scoped rule is the strictest such rule).
    """
    by_code = index.by_code
    national = _first_applicable(by_code.get(country), investor_category, now)
    if subdivision is not None:
        local = _first_applicable(by_code.get(subdivision), investor_category, now)
        if local is not None and (
            national is None or local.carve_out or local.rank >= national.rank
        ):
            return local, subdivision, False
    elif (national is None or national.rank < UNKNOWN_SUBDIVISION_RANK) and (
        country in index.subdivided
    ):
        local = _first_applicable(index.subdivided[country], investor_category, now)
        if local is not None and local.rank and (national is None or local.rank > national.rank):
            return local, country, True
    if national is not None:
        return national, country, False
    return None


def compile_rulebook(rules: Iterable[Rule], version: str) -> CompiledRulebook:
    """Index ``rules`` (the active ones) into an immutable ``CompiledRulebook``.

    Two rules with the same id are a caller error (a rule is one row with history, not two
    live rows), so they are refused rather than silently merged.
    """
    if not version:
        raise ValueError("a compiled rulebook needs a version (it is stamped on decisions)")
    ordered = tuple(sorted(rules, key=lambda rule: rule.rule_id))
    ids = [rule.rule_id for rule in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate rule ids in one rulebook")
    collected: dict[tuple[str, str], dict[str, dict[str, list[Scoped]]]] = {
        (product, action): {} for product in PRODUCT_CLASSES for action in ACTIONS
    }
    for rule in ordered:
        for signal in rule.signals:
            effect = rule.effect_on(signal)
            entry = Scoped(rule, effect, RESTRICTIVENESS[effect], rule.carve_out)
            for product in rule.product_classes:
                for action in rule.actions:
                    by_code = collected[product, action].setdefault(signal, {})
                    for code in rule.jurisdictions:
                        by_code.setdefault(code, []).append(entry)
    index = {
        key: MappingProxyType(
            {signal: _signal_index(by_code) for signal, by_code in by_signal.items()}
        )
        for key, by_signal in collected.items()
    }
    return CompiledRulebook(version=version, rules=ordered, _index=MappingProxyType(index))


def _signal_index(by_code: dict[str, list[Scoped]]) -> SignalIndex:
    subdivided: dict[str, list[Scoped]] = {}
    for code, entries in by_code.items():
        country, dash, _ = code.partition("-")
        if dash:
            subdivided.setdefault(country, []).extend(entries)
    return SignalIndex(
        by_code=MappingProxyType(
            {code: tuple(sorted(found, key=_precedence)) for code, found in by_code.items()}
        ),
        subdivided=MappingProxyType(
            {code: tuple(sorted(found, key=_precedence)) for code, found in subdivided.items()}
        ),
    )
