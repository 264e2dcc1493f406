"""Jurisdiction rules and the compiled, immutable rulebook the access decision runs on.

DESIGN.md, "Jurisdiction gating": a rule says, for these jurisdictions (ISO 3166-1 country or
ISO 3166-2 subdivision), these product classes and these actions, ``allow``, ``close_only``,
``review`` or ``deny``, with a legal citation, an effective window and an optional
investor-category condition. The most specific matching rule wins (subdivision over
country over the default, which is ``allow``: the rulebook lists restrictions, it is not a
list of permissions); at equal specificity ``deny`` > ``close_only`` > ``review`` >
``allow``.

Only the rules handed to ``compile_rulebook`` exist for it: callers pass the *active* rules
(drafts and retired rules never get here). Effective windows are still checked at decision
time against an explicit ``now``, so a snapshot compiled before a rule comes into force (or
lapses) stays right without a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from compliance.signals import (
    INVESTOR_CATEGORIES,
    OWN_JURISDICTION_TERRITORIES,
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
        object.__setattr__(self, "jurisdictions", jurisdictions)
        object.__setattr__(self, "product_classes", products)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "effective_from", starts)
        object.__setattr__(self, "effective_until", ends)
        object.__setattr__(self, "rank", RESTRICTIVENESS[self.effect])
        object.__setattr__(self, "citation", f"{self.citation_ref}: {self.citation_text}")

    def in_force(self, now: datetime) -> bool:
        """Whether ``now`` falls in [effective_from, effective_until)."""
        return (self.effective_from is None or self.effective_from <= now) and (
            self.effective_until is None or now < self.effective_until
        )


def _precedence(rule: Rule) -> tuple[int, str]:
    """Most restrictive first; the rule id breaks ties so that rule order never matters."""
    return (-rule.rank, rule.rule_id)


@dataclass(frozen=True, slots=True)
class CompiledRulebook:
    """An immutable, version-stamped snapshot of the active rules, indexed for the hot path.

    For every (product class, action) it holds a map from jurisdiction code to the rules for
    it, most restrictive first, so a decision is a handful of dict hits and no scans.
    """

    version: str
    rules: tuple[Rule, ...]
    _index: MappingProxyType = field(repr=False, compare=False)

    def rules_for(self, product_class: str, action: str) -> MappingProxyType:
        """Jurisdiction code -> rules (in precedence order) for this product and action."""
        try:
            return self._index[product_class, action]
        except KeyError:
            raise ValueError(
                f"unknown product class or action: {product_class!r}, {action!r}"
            ) from None


def _first_applicable(
    rules: tuple[Rule, ...], investor_category: str, now: datetime
) -> Rule | None:
    for rule in rules:
        if rule.investor_category is not None and rule.investor_category != investor_category:
            continue
        if rule.effective_from is not None and now < rule.effective_from:
            continue
        if rule.effective_until is not None and now >= rule.effective_until:
            continue
        return rule
    return None


def ruling(
    rules_by_code: MappingProxyType,
    country: str,
    subdivision: str | None,
    investor_category: str,
    now: datetime,
) -> tuple[Rule, str] | None:
    """The rule that decides one jurisdiction and the code it matched, or None (allow).

    A subdivision rule that applies beats any country rule; only when none applies does the
    country's rule decide. Within a level the first applicable rule is the most restrictive,
    because ``CompiledRulebook.rules_for`` keeps rules in precedence order.
    """
    if subdivision is not None:
        rules = rules_by_code.get(subdivision)
        if rules is not None:
            rule = _first_applicable(rules, investor_category, now)
            if rule is not None:
                return rule, subdivision
    rules = rules_by_code.get(country)
    if rules is not None:
        rule = _first_applicable(rules, investor_category, now)
        if rule is not None:
            return rule, country
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
    collected: dict[tuple[str, str], dict[str, list[Rule]]] = {
        (product, action): {} for product in PRODUCT_CLASSES for action in ACTIONS
    }
    for rule in ordered:
        for product in rule.product_classes:
            for action in rule.actions:
                by_code = collected[product, action]
                for code in rule.jurisdictions:
                    by_code.setdefault(code, []).append(rule)
    index = {
        key: MappingProxyType(
            {code: tuple(sorted(found, key=_precedence)) for code, found in by_code.items()}
        )
        for key, by_code in collected.items()
    }
    return CompiledRulebook(version=version, rules=ordered, _index=MappingProxyType(index))
