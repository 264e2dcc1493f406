"""A rule's impact, the pure part: a past decision's inputs asked of the rulebook it was
decided with and of that rulebook with the draft applied (``compliance.impact.replay``),
and the flips counted (``compliance.impact.tally``).

No database: facts and rules are written by hand, one row per case.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.access import SHIPPED_SIGNAL_DEFAULTS
from compliance.impact.replay import Question, replay, with_draft
from compliance.impact.tally import DIMENSIONS, Tally
from compliance.rulebook import ACTIONS, PRODUCT_CLASSES, RESTRICTIVENESS, Rule, compile_rulebook
from compliance.rules_seed import seed_rules
from compliance.signals import IpFacts, ProfileFacts

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def rule(rule_id: str, jurisdictions, effect="deny", **fields) -> Rule:
    return Rule(
        rule_id=rule_id,
        jurisdictions=frozenset(jurisdictions),
        product_classes=fields.pop("products", "all"),
        actions=frozenset(fields.pop("actions", ("open",))),
        effect=effect,
        citation_text="test",
        citation_ref="test",
        **fields,
    )


US_DENY = rule("us-perps", {"US"}, signals=frozenset({"ip_geolocation", "residence"}))
GB_REVIEW = rule("gb-retail", {"GB"}, "review", investor_category="retail")
BASE = (US_DENY, GB_REVIEW)
CN_RESIDENTS = rule("cn-residents", {"CN"}, signals=frozenset({"residence"}))


def person(residence, *, nationalities=(), subdivision=None, category="retail", seq=1):
    return ProfileFacts(
        account_id="acc-1",
        residence_country=residence,
        residence_subdivision=subdivision,
        nationalities=tuple(nationalities),
        investor_category=category,
        seq=seq,
    )


def ip(country, subdivision=None, **flags):
    return IpFacts(ip="192.0.2.7", country=country, subdivision=subdivision, **flags)


def ask(profile, address, product="equity_perp", action="open", at=AT, anonymous=False):
    return Question(
        at=at,
        profile=profile,
        ip=address,
        product_class=product,
        action=action,
        actions=(action,),
        anonymous=anonymous,
    )


def flip_of(question, draft_id, draft, base=BASE):
    before = compile_rulebook(base, "rb1")
    after = compile_rulebook(with_draft(base, draft_id, draft), "rb1+draft")
    return replay(question, before, after, SHIPPED_SIGNAL_DEFAULTS).flip


def row(name, question, draft_id, draft, expected, base=BASE):
    """``expected``: (from, to, jurisdiction, signal, rule) of the flip, or None."""
    return pytest.param(question, draft_id, draft, expected, base, id=name)


LATER = AT + timedelta(days=3)
EARLIER = AT - timedelta(days=3)

# fmt: off
ROWS = [
    row("cn_resident_opening_is_flipped_allow_to_deny",
        ask(person("CN"), ip("SG")), "cn-residents", CN_RESIDENTS,
        ("allow", "deny", "CN", "residence", "cn-residents")),
    row("cn_resident_withdrawing_is_not_in_the_drafts_actions",
        ask(person("CN"), ip("SG"), action="withdraw"), "cn-residents", CN_RESIDENTS, None),
    row("sg_resident_on_a_cn_address_is_out_of_a_residence_scope",
        ask(person("SG"), ip("CN", "CN-SH")), "cn-residents", CN_RESIDENTS, None),
    row("cn_national_living_in_sg_is_out_of_a_residence_scope",
        ask(person("SG", nationalities=("CN",)), ip("SG")), "cn-residents", CN_RESIDENTS, None),
    row("hk_resident_is_its_own_jurisdiction",
        ask(person("HK"), ip("HK")), "cn-residents", CN_RESIDENTS, None),
    row("anonymous_visitor_from_cn_has_no_residence",
        ask(None, ip("CN"), anonymous=True), "cn-residents", CN_RESIDENTS, None),
    row("cn_resident_already_denied_is_no_flip",
        ask(person("CN"), ip("US")), "cn-residents", CN_RESIDENTS, None),
    row("cn_resident_under_review_for_an_anonymizer_is_flipped_review_to_deny",
        ask(person("CN"), ip("SG", is_anonymous_vpn=True)), "cn-residents", CN_RESIDENTS,
        ("review", "deny", "CN", "residence", "cn-residents")),
    row("a_draft_not_yet_in_force_at_the_decision_flips_nothing",
        ask(person("CN"), ip("SG")), "cn-residents",
        replace(CN_RESIDENTS, effective_from=LATER), None),
    row("a_draft_lapsed_before_the_decision_flips_nothing",
        ask(person("CN"), ip("SG")), "cn-residents",
        replace(CN_RESIDENTS, effective_from=EARLIER - timedelta(days=1),
                effective_until=EARLIER), None),
    row("a_draft_in_force_at_the_decision_flips_it",
        ask(person("CN"), ip("SG")), "cn-residents",
        replace(CN_RESIDENTS, effective_from=EARLIER, effective_until=LATER),
        ("allow", "deny", "CN", "residence", "cn-residents")),
    row("the_window_is_half_open_a_decision_at_its_end_is_outside",
        ask(person("CN"), ip("SG")), "cn-residents",
        replace(CN_RESIDENTS, effective_from=EARLIER, effective_until=AT), None),
    row("retiring_a_rule_lifts_its_denials",
        ask(person("US"), ip("US", "US-NY")), "us-perps", None,
        ("deny", "allow", "US", "ip_geolocation", "us-perps")),
    row("loosening_a_rule_flips_deny_to_review",
        ask(person("SG"), ip("US")), "us-perps", replace(US_DENY, effect="review"),
        ("deny", "review", "US", "ip_geolocation", "us-perps")),
    row("a_draft_identical_to_the_rule_in_force_flips_nothing",
        ask(person("US"), ip("US")), "us-perps", US_DENY, None),
    row("a_retail_only_draft_leaves_a_professional_alone",
        ask(person("CN", category="professional"), ip("SG")), "cn-residents",
        replace(CN_RESIDENTS, investor_category="retail"), None),
    row("a_subdivision_carve_out_lifts_the_country_rule_there",
        ask(person("US", subdivision="US-WY"), None), "us-wy-carve-out",
        rule("us-wy-carve-out", {"US-WY"}, "allow", carve_out=True,
             signals=frozenset({"residence"})),
        ("deny", "review", "US", "residence", "us-perps")),
    row("a_new_rule_for_a_product_nobody_traded_flips_nothing",
        ask(person("CN"), ip("SG"), product="equity_perp"), "cn-stablecoin",
        rule("cn-stablecoin", {"CN"}, products=("stablecoin",)), None),
]
# fmt: on


@pytest.mark.parametrize(("question", "draft_id", "draft", "expected", "base"), ROWS)
def test_a_replayed_decision_flips_only_when_the_draft_changes_it(
    question, draft_id, draft, expected, base
):
    flip = flip_of(question, draft_id, draft, base)
    if expected is None:
        assert flip is None
    else:
        assert flip is not None
        assert (flip.effect_from, flip.effect_to, flip.jurisdiction, flip.signal, flip.rule_id) == (
            expected
        )


def test_the_same_facts_answer_both_sides_so_only_the_draft_can_differ():
    """A decision is replayed with the facts it was decided on: the profile it saw (its
    version, even if the account moved since) goes into both answers."""
    then, now = person("SG", seq=4), person("CN", seq=9)
    assert flip_of(ask(then, ip("SG")), "cn-residents", CN_RESIDENTS) is None
    assert flip_of(ask(now, ip("SG")), "cn-residents", CN_RESIDENTS) is not None


def test_an_order_is_judged_by_the_verdict_that_decided_it():
    """A pre-trade order rests on two verdicts; ``decides`` picks one (risk's rule, tested
    with risk): a reducing order under a new opening ban is decided by reducing, still
    allowed, so it does not flip; one that adds exposure does."""
    ban = rule("cn-open-ban", {"CN"}, signals=frozenset({"residence"}))

    def order(reduces):
        def decides(effects):
            if effects["open"] == "allow" or not reduces:
                return "open"
            return "reduce" if effects["reduce"] in ("allow", "close_only") else "open"

        action = "reduce" if reduces else "open"
        return replace(
            ask(person("CN"), ip("SG"), action=action), actions=("open", "reduce"), decides=decides
        )

    assert flip_of(order(reduces=True), "cn-open-ban", ban) is None
    flip = flip_of(order(reduces=False), "cn-open-ban", ban)
    assert (flip.action, flip.effect_from, flip.effect_to) == ("open", "allow", "deny")


def test_the_tally_counts_by_every_dimension_with_examples():
    tally = Tally()
    before = compile_rulebook(BASE, "rb1")
    after = compile_rulebook(with_draft(BASE, "cn-residents", CN_RESIDENTS), "rb1+d")
    questions = [ask(person("CN"), ip("SG"), product=p) for p in ("equity_perp", "rwa_token")]
    questions += [ask(person("SG"), ip("SG"))] * 3
    for index, question in enumerate(questions * 4):
        replayed = replay(question, before, after, SHIPPED_SIGNAL_DEFAULTS)
        tally.add(
            source="access",
            key=f"d{index}",
            at=AT,
            product=question.product_class,
            replayed=replayed,
            recorded_effect="allow",
        )
    tally.skip("profile_missing")
    again = Tally(tally.as_json())  # what a chunk stores, the next one reads
    assert (
        again.flips == 8 and again.total_replayed == 20 and again.skipped == {"profile_missing": 1}
    )
    assert again.not_reproduced == 0
    (by_jurisdiction,) = again.rows("jurisdiction")
    assert (by_jurisdiction.value, by_jurisdiction.effect_from, by_jurisdiction.effect_to) == (
        "CN",
        "allow",
        "deny",
    )
    assert by_jurisdiction.count == 8 and len(by_jurisdiction.examples) == 5
    assert [e["key"] for e in by_jurisdiction.examples] == ["d0", "d1", "d5", "d6", "d10"]
    assert {(r.value, r.count) for r in again.rows("product")} == {
        ("equity_perp", 4),
        ("rwa_token", 4),
    }
    assert [(r.value, r.count) for r in again.rows("signal")] == [("residence", 8)]
    assert [(r.value, r.count) for r in again.rows("action")] == [("open", 8)]


def test_a_replay_that_does_not_give_the_recorded_effect_is_counted_not_flipped():
    """Something outside the rulebook moved (the signal defaults): the replay under the
    decision's own rulebook disagrees with the log. Said, and never the draft's flip."""
    tally = Tally()
    rulebook = compile_rulebook(BASE, "rb1")
    replayed = replay(ask(person("SG"), ip("SG")), rulebook, rulebook, SHIPPED_SIGNAL_DEFAULTS)
    tally.add(source="access", key="d", at=AT, product="equity_perp", replayed=replayed,
              recorded_effect="review")  # fmt: skip
    assert tally.not_reproduced == 1 and tally.flips == 0


# --- invariants --------------------------------------------------------------------------

SEED = seed_rules()
COUNTRIES = ["CN", "US", "GB", "SG", "HK", "IR", "CU", "UA", "RU", "DE", "CA"]
SUBDIVISIONS = {"UA": ["UA-43", "UA-14", None], "US": ["US-NY", None], "CA": ["CA-ON", None]}


@st.composite
def questions(draw):
    def place():
        country = draw(st.sampled_from(COUNTRIES))
        return country, draw(st.sampled_from(SUBDIVISIONS.get(country, [None])))

    profile = None
    anonymous = draw(st.booleans())
    if not anonymous and draw(st.booleans()):
        residence, subdivision = place()
        profile = ProfileFacts(
            account_id="acc-h",
            residence_country=residence,
            residence_subdivision=subdivision,
            nationalities=tuple(draw(st.lists(st.sampled_from(COUNTRIES), max_size=2))),
            entity_type=draw(st.sampled_from(["individual", "entity"])),
            controlling_countries=tuple(draw(st.lists(st.sampled_from(COUNTRIES), max_size=2))),
            investor_category=draw(st.sampled_from(["retail", "professional"])),
            sanctions=draw(st.sampled_from(["clear", "clear", "review"])),
        )
    address = None
    if draw(st.booleans()):
        country, subdivision = place()
        address = IpFacts(
            ip="192.0.2.9",
            country=country,
            subdivision=subdivision,
            is_anonymous_vpn=draw(st.booleans()),
        )
    action = draw(st.sampled_from(sorted(ACTIONS)))
    at = AT + timedelta(days=draw(st.integers(min_value=-40, max_value=40)))
    return ask(profile, address, draw(st.sampled_from(sorted(PRODUCT_CLASSES))), action, at,
               anonymous)  # fmt: skip


@st.composite
def drafts(draw):
    jurisdictions = draw(st.sets(st.sampled_from([*COUNTRIES, "UA-43", "US-NY"]), min_size=1))
    scope = draw(st.sets(st.sampled_from(["ip_geolocation", "residence", "nationality",
                                          "controlling_country"]), min_size=1))  # fmt: skip
    starts = draw(st.none() | st.integers(min_value=-60, max_value=60))
    return rule(
        draw(st.sampled_from(["prc-vc-2026", "us-perps", "new-rule"])),
        jurisdictions,
        draw(st.sampled_from(sorted(RESTRICTIVENESS))),
        products=draw(st.sets(st.sampled_from(sorted(PRODUCT_CLASSES)), min_size=1)),
        actions=draw(st.sets(st.sampled_from(sorted(ACTIONS)), min_size=1)),
        signals=frozenset(scope),
        effective_from=None if starts is None else AT + timedelta(days=starts),
    )


SEED_BOOK = compile_rulebook(SEED, "rb2")


@settings(max_examples=150, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=20), st.sampled_from(SEED))
def test_applying_a_draft_identical_to_the_rule_in_force_never_flips(asked, in_force):
    after = compile_rulebook(with_draft(SEED, in_force.rule_id, in_force), "rb2+draft")
    for question in asked:
        assert replay(question, SEED_BOOK, after, SHIPPED_SIGNAL_DEFAULTS).flip is None


@settings(max_examples=150, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=25), drafts())
def test_flips_counted_are_the_decisions_whose_replayed_effect_differs(asked, draft):
    after = compile_rulebook(with_draft(SEED, draft.rule_id, draft), "rb2+draft")
    tally, differing = Tally(), 0
    for index, question in enumerate(asked):
        replayed = replay(question, SEED_BOOK, after, SHIPPED_SIGNAL_DEFAULTS)
        differing += replayed.before.effect != replayed.after.effect
        tally.add(source="access", key=str(index), at=question.at,
                  product=question.product_class, replayed=replayed)  # fmt: skip
    tally = Tally(tally.as_json())
    assert tally.flips == differing and tally.total_replayed == len(asked)
    for dimension in DIMENSIONS:
        assert sum(r.count for r in tally.rows(dimension)) == differing


@settings(max_examples=150, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=25), drafts())
def test_a_draft_that_only_adds_a_rule_only_ever_tightens(asked, draft):
    """A new rule id adds restrictions and lifts none (most restrictive wins): every flip
    goes to a stricter effect, and a rule that is ``allow`` everywhere flips nothing."""
    draft = replace(draft, rule_id="brand-new-rule", carve_out=False)
    after = compile_rulebook(with_draft(SEED, draft.rule_id, draft), "rb2+draft")
    for question in asked:
        flip = replay(question, SEED_BOOK, after, SHIPPED_SIGNAL_DEFAULTS).flip
        if flip is not None:
            assert RESTRICTIVENESS[flip.effect_to] > RESTRICTIVENESS[flip.effect_from]
            assert draft.effect != "allow"
