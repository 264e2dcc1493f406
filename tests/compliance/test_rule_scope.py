"""Which signals each rule reaches (issue 14): the shipped scope as a table, one row per rule
and signal, and the invariants of scopes, unknown subdivisions and carve-outs.

Pure: rules and facts written here, no database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.access import decide
from compliance.rulebook import RESTRICTIVENESS, Rule, compile_rulebook
from compliance.rules_seed import seed_rules
from compliance.signals import SCOPES, IpFacts, ProfileFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHIPPED = {rule.rule_id: rule for rule in seed_rules()}

LOCATION = {"ip_geolocation", "residence"}
LOCATION_AND_CONTROL = LOCATION | {"controlling_country"}
EXPECTED_SCOPE = {
    # rule: {signal: effect}; a signal left out is outside the rule's scope
    "prc-vc-2026": {
        **dict.fromkeys(LOCATION_AND_CONTROL, "deny"),
        "nationality": "review",  # venue policy: enhanced due diligence
    },
    "prc-rwa-2026": {**dict.fromkeys(LOCATION_AND_CONTROL, "deny"), "nationality": "review"},
    "prc-wind-down": dict.fromkeys(LOCATION_AND_CONTROL, "close_only"),
    "us-perps": dict.fromkeys(LOCATION_AND_CONTROL, "deny"),
    "us-rwa-securities": dict.fromkeys(LOCATION_AND_CONTROL, "deny"),
    "gb-retail-crypto-derivs": dict.fromkeys(LOCATION, "deny"),
    "ca-on-derivs": dict.fromkeys(LOCATION, "deny"),
    "ofac-comprehensive": dict.fromkeys(LOCATION_AND_CONTROL, "deny"),
    "ofac-withdraw": dict.fromkeys(LOCATION_AND_CONTROL, "review"),
    "ofac-cuba": dict.fromkeys(SCOPES, "deny"),
    "ofac-cuba-withdraw": dict.fromkeys(SCOPES, "review"),
}


def _facts(signal: str, code: str, category: str) -> tuple[ProfileFacts, IpFacts]:
    """Facts that place exactly one signal in ``code``; everything else in Singapore."""
    country, _, _ = code.partition("-")
    subdivision = code if "-" in code else None
    base = {"account_id": "acc", "residence_country": "SG", "investor_category": category}
    ip = IpFacts(ip="192.0.2.1", country="SG")
    if signal == "ip_geolocation":
        ip = IpFacts(ip="192.0.2.1", country=country, subdivision=subdivision)
    elif signal == "residence":
        base |= {"residence_country": country, "residence_subdivision": subdivision}
    elif signal == "nationality":
        base |= {"nationalities": (country,)}
    else:
        base |= {
            "entity_type": "entity",
            "controlling_countries": (country,),
            "controlling_subdivisions": (subdivision,) if subdivision else (),
        }
    return ProfileFacts(**base), ip


ROWS = [
    (rule_id, signal, code)
    for rule_id in sorted(EXPECTED_SCOPE)
    for signal in SCOPES
    for code in sorted(SHIPPED[rule_id].jurisdictions)
    if not (signal == "nationality" and "-" in code)  # a nationality has no subdivision
]


@pytest.mark.parametrize(
    ("rule_id", "signal", "code"), ROWS, ids=[f"{r}-{s}-{c}" for r, s, c in ROWS]
)
def test_shipped_rule_reaches_exactly_its_signals(rule_id: str, signal: str, code: str) -> None:
    rule = SHIPPED[rule_id]
    rulebook = compile_rulebook([rule], "one-rule")
    profile, ip = _facts(signal, code, rule.investor_category or "retail")
    product, action = sorted(rule.product_classes)[0], sorted(rule.actions)[0]
    decision = decide(rulebook, profile, ip, product, action, NOW)
    expected = EXPECTED_SCOPE[rule_id].get(signal, "allow")
    assert decision.effect == expected
    if expected != "allow":
        first = decision.reasons[0]
        assert (first.rule_id, first.jurisdiction) == (rule_id, code)


def test_every_shipped_rule_is_in_the_scope_table() -> None:
    assert set(SHIPPED) - {"ofac-syria"} == set(EXPECTED_SCOPE)
    for rule_id, effects in EXPECTED_SCOPE.items():
        assert {s: SHIPPED[rule_id].effect_on(s) for s in SCOPES if s in effects} == effects


@pytest.mark.parametrize(
    ("signals", "signal_effects", "message"),
    [
        ((), {}, "empty"),
        (("postcode",), {}, "unknown signals"),
        (("residence",), {"nationality": "review"}, "scope"),
        (("residence",), {"residence": "maybe"}, "effects"),
    ],
)
def test_malformed_scopes_are_refused(signals, signal_effects, message) -> None:
    with pytest.raises(ValueError, match=message):
        _rule("bad", ("FR",), "deny", signals=signals, signal_effects=signal_effects)


def test_a_country_rule_cannot_be_a_carve_out() -> None:
    with pytest.raises(ValueError, match="carve-out"):
        _rule("bad", ("FR",), "allow", carve_out=True)


def test_unknown_subdivision_is_review_only_where_subdivisions_are_stricter() -> None:
    crimea = _rule("crimea", ("UA-43",), "deny")
    ukraine_close = _rule("ua-close", ("UA",), "close_only")
    unknown = ProfileFacts(account_id="a", residence_country="UA")
    sg = IpFacts(ip="192.0.2.1", country="SG")
    first = decide(compile_rulebook([crimea], "v"), unknown, sg, "equity_perp", "open", NOW)
    assert first.effect == "review" and first.reasons[0].subdivision_unknown
    both = compile_rulebook([crimea, ukraine_close], "v")
    assert decide(both, unknown, sg, "equity_perp", "open", NOW).effect == "close_only"
    elsewhere = ProfileFacts(account_id="a", residence_country="FR")
    assert decide(both, elsewhere, sg, "equity_perp", "open", NOW).effect == "allow"


def _rule(rule_id: str, jurisdictions, effect: str, **extra) -> Rule:
    return Rule(
        rule_id=rule_id,
        jurisdictions=jurisdictions,
        product_classes=("equity_perp",),
        actions=("open",),
        effect=effect,
        citation_text="test rule",
        citation_ref="test",
        **extra,
    )


CODES = ("US", "US-NY", "UA", "UA-43", "UA-30", "CN", "FR")
EFFECTS = ("allow", "review", "close_only", "deny")
PLACES = (("US", None), ("US", "US-NY"), ("UA", None), ("UA", "UA-43"), ("CN", None))

rules_strategy = st.lists(
    st.tuples(
        st.sets(st.sampled_from(CODES), min_size=1, max_size=3),
        st.sampled_from(EFFECTS),
        st.sets(st.sampled_from(SCOPES), min_size=1),
        st.dictionaries(st.sampled_from(SCOPES), st.sampled_from(EFFECTS), max_size=2),
    ),
    min_size=1,
    max_size=5,
)


def _build(specs, carve_outs=False) -> list[Rule]:
    rules = []
    for n, (codes, effect, signals, overrides) in enumerate(specs):
        overrides = {s: e for s, e in overrides.items() if s in signals}
        rules.append(
            _rule(f"r{n}", tuple(codes), effect, signals=signals, signal_effects=overrides)
        )
    return rules


facts_strategy = st.tuples(
    st.sampled_from(PLACES),  # ip
    st.sampled_from(PLACES),  # residence
    st.sampled_from(PLACES),  # controlling
    st.sampled_from(("US", "UA", "CN", "FR")),  # nationality
)


def _facts_of(sample) -> tuple[ProfileFacts, IpFacts]:
    (ip_c, ip_s), (res_c, res_s), (ctl_c, ctl_s), nationality = sample
    profile = ProfileFacts(
        account_id="a",
        residence_country=res_c,
        residence_subdivision=res_s,
        nationalities=(nationality,),
        entity_type="entity",
        controlling_countries=(ctl_c,),
        controlling_subdivisions=(ctl_s,) if ctl_s else (),
    )
    return profile, IpFacts(ip="192.0.2.1", country=ip_c, subdivision=ip_s)


def _rank(rules, profile, ip) -> int:
    decision = decide(compile_rulebook(rules, "v"), profile, ip, "equity_perp", "open", NOW)
    return RESTRICTIVENESS[decision.effect]


@settings(max_examples=300, deadline=None)
@given(rules_strategy, facts_strategy, st.data())
def test_adding_a_signal_to_a_rules_scope_never_loosens_a_decision(specs, sample, data):
    rules = _build(specs)
    profile, ip = _facts_of(sample)
    index = data.draw(st.integers(0, len(rules) - 1))
    signal = data.draw(st.sampled_from(SCOPES))
    widened = list(rules)
    target = rules[index]
    widened[index] = Rule(
        rule_id=target.rule_id,
        jurisdictions=target.jurisdictions,
        product_classes=target.product_classes,
        actions=target.actions,
        effect=target.effect,
        citation_text=target.citation_text,
        citation_ref=target.citation_ref,
        signals=target.signals | {signal},
        signal_effects=target.signal_effects,
    )
    assert _rank(widened, profile, ip) >= _rank(rules, profile, ip)


@settings(max_examples=300, deadline=None)
@given(rules_strategy, facts_strategy)
def test_without_a_carve_out_subdivision_rules_never_loosen_their_country(specs, sample):
    rules = _build(specs)
    country_only = [rule for rule in rules if not any("-" in c for c in rule.jurisdictions)]
    profile, ip = _facts_of(sample)
    assert _rank(rules, profile, ip) >= _rank(country_only, profile, ip)
