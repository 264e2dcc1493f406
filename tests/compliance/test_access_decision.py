"""The access decision, one row per RULES.md §7 rule and edge, plus its invariants.

Pure: no database, no Django. Facts are written by hand here; ``test_geoip.py`` drives the
same decisions through the real shipped GeoLite2 database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.access import SHIPPED_SIGNAL_DEFAULTS, AccessDecision, SignalDefaults, decide
from compliance.rulebook import (
    ACTIONS,
    PRODUCT_CLASSES,
    RESTRICTIVENESS,
    Rule,
    compile_rulebook,
)
from compliance.rules_seed import SEED_RULES, seed_rules
from compliance.signals import IpFacts, ProfileFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULEBOOK = compile_rulebook(seed_rules(), version="seed-test")
PRC_NOTICE = "银发〔2026〕42号"


def ip(country: str | None = None, subdivision: str | None = None, **flags: bool) -> IpFacts:
    return IpFacts(ip="192.0.2.1", country=country, subdivision=subdivision, **flags)


def person(
    residence: str,
    subdivision: str | None = None,
    nationalities: tuple[str, ...] = (),
    category: str = "retail",
) -> ProfileFacts:
    return ProfileFacts(
        account_id="acc-1",
        residence_country=residence,
        residence_subdivision=subdivision,
        nationalities=nationalities,
        investor_category=category,
    )


def entity(residence: str, controlling: tuple[str, ...]) -> ProfileFacts:
    return ProfileFacts(
        account_id="acc-2",
        residence_country=residence,
        entity_type="entity",
        controlling_countries=controlling,
        investor_category="professional",
    )


def case(
    name, profile, address, product, action, effect, by=(None, None, None), *, at=NOW, cites=None
):
    """One row: the request, the effect, and ``by`` = (signal, rule, jurisdiction) of the
    deciding reason; ``cites`` is a fragment its citation must contain."""
    return pytest.param(profile, address, product, action, at, effect, by, cites, id=name)


CN, SG = person("CN"), person("SG")
IP_CN, IP_SG = ip("CN"), ip("SG")

# fmt: off
ROWS = [
    case("cn_ip_rwa_open_denied_by_2026_notice_s2", CN, ip("CN", "CN-JS"), "rwa_token", "open",
         "deny", ("ip_geolocation", "prc-rwa-2026", "CN"), cites="§(二)"),
    case("cn_anonymous_visitor_rwa_open_denied_cites_s14", None, IP_CN, "rwa_token", "open",
         "deny", ("ip_geolocation", "prc-rwa-2026", "CN"), cites="§(十四)"),
    case("cn_crypto_perp_open_denied_by_s1", CN, IP_CN, "crypto_perp", "open",
         "deny", ("ip_geolocation", "prc-vc-2026", "CN"), cites="§(一)"),
    case("cn_stablecoin_deposit_denied", CN, IP_CN, "stablecoin", "deposit",
         "deny", ("ip_geolocation", "prc-vc-2026", "CN"), cites=PRC_NOTICE),
    case("cn_equity_perp_open_denied", CN, IP_CN, "equity_perp", "open",
         "deny", ("ip_geolocation", "prc-vc-2026", "CN")),
    case("cn_wind_down_reduce_is_close_only", CN, IP_CN, "rwa_token", "reduce",
         "close_only", ("ip_geolocation", "prc-wind-down", "CN")),
    case("cn_withdraw_of_own_assets_never_trapped", CN, IP_CN, "rwa_token", "withdraw", "allow"),
    case("cn_view_allowed", CN, IP_CN, "crypto_perp", "view", "allow"),
    case("hk_rwa_open_allowed", person("HK"), ip("HK"), "rwa_token", "open", "allow"),
    case("mo_crypto_perp_open_allowed", person("MO"), ip("MO"), "crypto_perp", "open", "allow"),
    case("tw_rwa_open_allowed", person("TW"), ip("TW"), "rwa_token", "open", "allow"),
    case("cn_hk_subdivision_code_is_hong_kong_not_mainland", person("CN", "CN-HK"),
         ip("CN", "CN-HK"), "rwa_token", "open", "allow"),
    case("ir_open_denied", person("IR"), ip("IR"), "crypto_spot", "open",
         "deny", ("ip_geolocation", "ofac-comprehensive", "IR"), cites="31 CFR part 560"),
    case("ir_reduce_denied", person("IR"), ip("IR"), "equity_perp", "reduce",
         "deny", ("ip_geolocation", "ofac-comprehensive", "IR")),
    case("ir_deposit_denied", person("IR"), ip("IR"), "stablecoin", "deposit",
         "deny", ("ip_geolocation", "ofac-comprehensive", "IR")),
    case("ir_withdraw_reviewed", person("IR"), ip("IR"), "stablecoin", "withdraw",
         "review", ("ip_geolocation", "ofac-withdraw", "IR"), cites="501.604"),
    case("ir_view_allowed", person("IR"), ip("IR"), "stablecoin", "view", "allow"),
    case("kp_open_denied", person("KP"), ip("KP"), "rwa_token", "open",
         "deny", ("ip_geolocation", "ofac-comprehensive", "KP")),
    case("kp_withdraw_reviewed", person("KP"), ip("KP"), "crypto_spot", "withdraw",
         "review", ("ip_geolocation", "ofac-withdraw", "KP")),
    case("cu_deposit_denied", person("CU"), ip("CU"), "crypto_spot", "deposit",
         "deny", ("ip_geolocation", "ofac-cuba", "CU")),
    case("crimea_ip_denied_by_subdivision", SG, ip("UA", "UA-43"), "crypto_spot", "open",
         "deny", ("ip_geolocation", "ofac-comprehensive", "UA-43"), cites="E.O. 13685"),
    case("sevastopol_resident_denied", person("UA", "UA-40"), IP_SG, "crypto_spot", "open",
         "deny", ("residence", "ofac-comprehensive", "UA-40")),
    case("donetsk_ip_denied", SG, ip("UA", "UA-14"), "rwa_token", "deposit",
         "deny", ("ip_geolocation", "ofac-comprehensive", "UA-14"), cites="E.O. 14065"),
    case("luhansk_withdraw_reviewed", SG, ip("UA", "UA-09"), "rwa_token", "withdraw",
         "review", ("ip_geolocation", "ofac-withdraw", "UA-09")),
    case("kyiv_allowed", person("UA", "UA-30"), ip("UA", "UA-30"), "crypto_spot", "open",
         "allow"),
    case("ukraine_without_subdivision_reviewed", person("UA"), ip("UA"), "crypto_spot", "open",
         "review", ("ip_geolocation", "ofac-comprehensive", "UA")),
    case("us_equity_perp_open_denied", person("US"), ip("US"), "equity_perp", "open",
         "deny", ("ip_geolocation", "us-perps", "US"), cites="CFTC"),
    case("us_crypto_perp_deposit_denied", person("US"), ip("US"), "crypto_perp", "deposit",
         "deny", ("ip_geolocation", "us-perps", "US")),
    case("us_perp_reduce_allowed", person("US"), ip("US"), "crypto_perp", "reduce", "allow"),
    case("us_rwa_token_open_denied_as_a_security", person("US"), ip("US"), "rwa_token", "open",
         "deny", ("ip_geolocation", "us-rwa-securities", "US"), cites="§5"),
    case("gb_retail_crypto_perp_open_denied", person("GB"), ip("GB"), "crypto_perp", "open",
         "deny", ("ip_geolocation", "gb-retail-crypto-derivs", "GB"), cites="PS20/10"),
    case("gb_professional_crypto_perp_open_allowed", person("GB", category="professional"),
         ip("GB"), "crypto_perp", "open", "allow"),
    case("gb_anonymous_visitor_counts_as_retail", None, ip("GB"), "crypto_perp", "open",
         "deny", ("ip_geolocation", "gb-retail-crypto-derivs", "GB")),
    case("gb_retail_equity_perp_allowed", person("GB"), ip("GB"), "equity_perp", "open",
         "allow"),
    case("gb_ban_not_in_force_before_6_january_2021", person("GB"), ip("GB"), "crypto_perp",
         "open", "allow", at=datetime(2021, 1, 5, 23, 59, 59, tzinfo=UTC)),
    case("gb_ban_in_force_from_6_january_2021", person("GB"), ip("GB"), "crypto_perp", "open",
         "deny", ("ip_geolocation", "gb-retail-crypto-derivs", "GB"),
         at=datetime(2021, 1, 6, tzinfo=UTC)),
    case("ontario_equity_perp_denied_by_subdivision", person("CA", "CA-ON"),
         ip("CA", "CA-ON"), "equity_perp", "open",
         "deny", ("ip_geolocation", "ca-on-derivs", "CA-ON"), cites="Ontario"),
    case("quebec_equity_perp_allowed", person("CA", "CA-QC"), ip("CA", "CA-QC"),
         "equity_perp", "open", "allow"),
    case("ontario_crypto_spot_allowed", person("CA", "CA-ON"), ip("CA", "CA-ON"),
         "crypto_spot", "open", "allow"),
    case("kyc_residence_cn_beats_clean_sg_ip", CN, IP_SG, "rwa_token", "open",
         "deny", ("residence", "prc-rwa-2026", "CN")),
    case("entity_controlled_from_cn_denied_rwa", entity("SG", ("CN",)), IP_SG, "rwa_token",
         "open", "deny", ("controlling_person", "prc-rwa-2026", "CN")),
    case("individual_has_no_controlling_person_signal",
         ProfileFacts(account_id="acc-4", residence_country="SG", controlling_countries=("CN",)),
         IP_SG, "rwa_token", "open", "allow"),
    case("cn_national_resident_in_sg_reviewed_rwa", person("SG", nationalities=("CN",)), IP_SG,
         "rwa_token", "open", "review", ("nationality", "prc-rwa-2026", "CN")),
    case("syria_denied_while_programme_in_force", person("SY"), ip("SY"), "crypto_spot",
         "open", "deny", ("ip_geolocation", "ofac-syria", "SY"),
         at=datetime(2025, 7, 1, 3, 59, tzinfo=UTC)),
    case("syria_allowed_once_programme_revoked", person("SY"), ip("SY"), "crypto_spot", "open",
         "allow", at=datetime(2025, 7, 1, 4, 0, tzinfo=UTC)),
    case("anonymizer_open_reviewed", SG, ip("SG", is_anonymous_vpn=True), "crypto_spot",
         "open", "review", ("anonymizer", "default-anonymizer", None)),
    case("tor_open_reviewed", SG, ip("DE", is_tor_exit_node=True), "rwa_token", "open",
         "review", ("anonymizer", "default-anonymizer", None)),
    case("anonymizer_withdraw_allowed", SG, ip("SG", is_hosting_provider=True), "crypto_spot",
         "withdraw", "allow"),
    case("anonymizer_reduce_allowed", SG, ip("SG", is_public_proxy=True), "crypto_spot",
         "reduce", "allow"),
    case("unlocated_ip_open_reviewed", SG, ip(), "crypto_spot", "open",
         "review", ("ip_unlocated", "default-ip-unlocated", None)),
    case("missing_ip_counts_as_unlocated", SG, None, "crypto_spot", "open",
         "review", ("ip_unlocated", "default-ip-unlocated", None)),
    case("unlocated_ip_withdraw_allowed", SG, ip(), "crypto_spot", "withdraw", "allow"),
    case("no_profile_open_reviewed", None, IP_SG, "crypto_spot", "open",
         "review", ("no_profile", "default-no-profile", None)),
    case("no_profile_withdraw_allowed", None, IP_SG, "crypto_spot", "withdraw", "allow"),
    case("no_profile_view_allowed", None, IP_SG, "rwa_token", "view", "allow"),
    case("most_restrictive_signal_decides_ir_ip_over_cn_wind_down", CN, ip("IR"), "rwa_token",
         "reduce", "deny", ("ip_geolocation", "ofac-comprehensive", "IR")),
]
# fmt: on


@pytest.mark.parametrize(
    ("profile", "address", "product", "action", "now", "effect", "by", "cites"), ROWS
)
def test_rulebook_row(profile, address, product, action, now, effect, by, cites) -> None:
    decision = decide(RULEBOOK, profile, address, product, action, now)
    assert decision.effect == effect
    assert decision.policy_version == "seed-test"
    if effect == "allow":
        assert decision.reasons == ()
        return
    deciding = decision.reasons[0]
    assert deciding.effect == effect
    assert (deciding.signal, deciding.rule_id, deciding.jurisdiction) == by
    if cites is not None:
        assert cites in deciding.citation


def test_every_failing_signal_is_listed_deciding_one_first() -> None:
    profile = ProfileFacts(
        account_id="acc-3",
        residence_country="SG",
        nationalities=("SG", "CN"),
        entity_type="entity",
        controlling_countries=("US", "CN"),
    )
    decision = decide(RULEBOOK, profile, ip("CN", is_anonymous_vpn=True), "rwa_token", "open", NOW)
    assert [(r.effect, r.signal, r.jurisdiction, r.rule_id) for r in decision.reasons] == [
        ("deny", "ip_geolocation", "CN", "prc-rwa-2026"),
        ("deny", "controlling_person", "US", "us-rwa-securities"),
        ("deny", "controlling_person", "CN", "prc-rwa-2026"),
        ("review", "anonymizer", None, "default-anonymizer"),
        ("review", "nationality", "CN", "prc-rwa-2026"),
    ]


def test_reason_renders_the_contract_shape() -> None:
    decision = decide(RULEBOOK, None, ip("CN"), "rwa_token", "open", NOW)
    body = decision.as_contract()
    assert set(body) == {"effect", "reasons", "policy_version"}
    first, second = body["reasons"]
    assert first["code"] == "JURISDICTION_BLOCKED"
    assert first["check"] == "jurisdiction"
    assert first["detail"]["signal"] == "ip_geolocation"
    assert first["detail"]["rule"] == "prc-rwa-2026"
    assert PRC_NOTICE in first["detail"]["citation"]
    assert set(first["detail"]) == {"jurisdiction", "signal", "rule", "citation"}
    assert first["message"]
    assert second["code"] == "JURISDICTION_REVIEW"
    assert second["detail"]["signal"] == "no_profile"


def test_close_only_permits_reducing_and_withdrawing_but_not_opening() -> None:
    decision = decide(RULEBOOK, person("CN"), ip("CN"), "rwa_token", "reduce", NOW)
    assert decision.effect == "close_only"
    assert decision.reasons[0].code == "JURISDICTION_CLOSE_ONLY"
    assert decision.permits("reduce") and decision.permits("withdraw")
    assert not decision.permits("open") and not decision.permits("deposit")


def rule(rule_id: str, jurisdictions: tuple[str, ...], effect: str, **extra) -> Rule:
    return Rule(
        rule_id=rule_id,
        jurisdictions=jurisdictions,
        product_classes=extra.pop("product_classes", ("equity_perp",)),
        actions=extra.pop("actions", ("open",)),
        effect=effect,
        citation_text="test rule",
        citation_ref="test",
        **extra,
    )


@pytest.mark.parametrize(("carve_out", "wyoming_effect"), [(False, "deny"), (True, "allow")])
def test_only_a_carve_out_lets_a_subdivision_rule_loosen_its_country(
    carve_out: bool, wyoming_effect: str
) -> None:
    rulebook = compile_rulebook(
        [
            rule("us-deny", ("US",), "deny"),
            rule("wy-allow", ("US-WY",), "allow", carve_out=carve_out),
        ],
        "v",
    )
    wyoming = decide(rulebook, person("US", "US-WY"), ip("US", "US-WY"), "equity_perp", "open", NOW)
    texas = decide(rulebook, person("US", "US-TX"), ip("US", "US-TX"), "equity_perp", "open", NOW)
    assert wyoming.effect == wyoming_effect
    assert texas.effect == "deny"


def test_a_stricter_subdivision_rule_still_beats_its_country() -> None:
    rulebook = compile_rulebook(
        [rule("us-review", ("US",), "review"), rule("ny-deny", ("US-NY",), "deny")], "v"
    )
    decision = decide(rulebook, person("US", "US-NY"), ip("SG"), "equity_perp", "open", NOW)
    assert (decision.effect, decision.reasons[0].rule_id) == ("deny", "ny-deny")


@pytest.mark.parametrize(
    ("effects", "expected"),
    [
        (("allow", "review"), "review"),
        (("review", "close_only"), "close_only"),
        (("close_only", "deny", "allow"), "deny"),
    ],
)
def test_equal_specificity_most_restrictive_wins(effects: tuple[str, ...], expected: str) -> None:
    rules = [rule(f"r{n}", ("FR",), effect) for n, effect in enumerate(effects)]
    decision = decide(
        compile_rulebook(rules, "v"), person("FR"), ip("FR"), "equity_perp", "open", NOW
    )
    assert decision.effect == expected


def test_effective_window_is_half_open() -> None:
    starts, ends = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    rulebook = compile_rulebook(
        [rule("windowed", ("FR",), "deny", effective_from=starts, effective_until=ends)], "v"
    )

    def effect_at(moment: datetime) -> str:
        return decide(rulebook, person("FR"), ip("FR"), "equity_perp", "open", moment).effect

    assert effect_at(starts - timedelta(microseconds=1)) == "allow"
    assert effect_at(starts) == "deny"
    assert effect_at(ends - timedelta(microseconds=1)) == "deny"
    assert effect_at(ends) == "allow"


def test_professional_only_rule_ignores_retail_and_anonymous_visitors() -> None:
    rulebook = compile_rulebook(
        [rule("pro-only", ("FR",), "deny", investor_category="professional")], "v"
    )
    professional = person("FR", category="professional")
    assert decide(rulebook, professional, ip("FR"), "equity_perp", "open", NOW).effect == "deny"
    assert decide(rulebook, person("FR"), ip("FR"), "equity_perp", "open", NOW).effect == "allow"
    anonymous = decide(rulebook, None, ip("FR"), "equity_perp", "open", NOW)
    assert [r.signal for r in anonymous.reasons] == ["no_profile"]


def test_configured_default_effects() -> None:
    strict = SignalDefaults(anonymizer={"open": "deny", "deposit": "review"}, no_profile={})
    opened = decide(
        RULEBOOK, None, ip("SG", is_tor_exit_node=True), "crypto_spot", "open", NOW, strict
    )
    assert opened.effect == "deny"
    assert opened.reasons[0].code == "JURISDICTION_BLOCKED"
    assert opened.reasons[0].signal == "anonymizer"
    deposit = decide(
        RULEBOOK, None, ip("SG", is_tor_exit_node=True), "crypto_spot", "deposit", NOW, strict
    )
    assert deposit.effect == "review"


@pytest.mark.parametrize("signal", ["anonymizer", "ip_unlocated", "no_profile"])
def test_defaults_can_never_hold_up_withdraw(signal: str) -> None:
    with pytest.raises(ValueError, match="withdraw"):
        SignalDefaults(**{signal: {"withdraw": "review"}})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jurisdictions": ("XX",)}, "ISO"),
        ({"jurisdictions": ("UA-99",)}, "ISO"),
        ({"jurisdictions": ("CN-HK",)}, "own jurisdiction"),
        ({"jurisdictions": "CN"}, "collection"),
        ({"product_classes": ("options",)}, "product"),
        ({"actions": "all"}, "collection"),
        ({"actions": ("trade",)}, "actions"),
        ({"effect": "block"}, "effect"),
        ({"investor_category": "vip"}, "investor_category"),
        ({"citation_ref": ""}, "citation"),
        ({"effective_from": datetime(2026, 1, 1)}, "aware"),
        (
            {
                "effective_from": datetime(2026, 2, 1, tzinfo=UTC),
                "effective_until": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "before",
        ),
    ],
)
def test_malformed_rules_are_refused(changes: dict, message: str) -> None:
    row = {**SEED_RULES[0], **changes}
    row.pop("awaits_confirmation", None)
    with pytest.raises(ValueError, match=message):
        Rule(**row)


def test_all_product_classes_expands() -> None:
    wind_down = next(r for r in seed_rules() if r.rule_id == "prc-wind-down")
    assert wind_down.product_classes == PRODUCT_CLASSES


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        compile_rulebook([*seed_rules(), seed_rules()[0]], "v")


@pytest.mark.parametrize(
    ("product", "action", "now"),
    [
        ("options", "open", NOW),
        ("rwa_token", "trade", NOW),
        ("rwa_token", "open", datetime(2026, 3, 1)),
    ],
)
def test_bad_request_raises_value_error(product: str, action: str, now: datetime) -> None:
    with pytest.raises(ValueError):
        decide(RULEBOOK, None, ip("SG"), product, action, now)


@pytest.mark.parametrize(
    "fields",
    [
        {"residence_country": "XX"},
        {"residence_country": "UA", "residence_subdivision": "UA-99"},
        {"residence_country": "PL", "residence_subdivision": "UA-43"},
        {"residence_country": "SG", "nationalities": ("cn",)},
        {"residence_country": "SG", "entity_type": "trust"},
    ],
)
def test_profiles_with_unknown_codes_are_refused(fields: dict) -> None:
    with pytest.raises(ValueError):
        ProfileFacts(account_id="acc-9", **fields)


# Invariants (CONVENTIONS.md: "most restrictive wins, decisions are monotone in restriction").

PLACES = [
    ("CN", None),
    ("HK", None),
    ("US", None),
    ("US", "US-WY"),
    ("UA", "UA-43"),
    ("UA", "UA-30"),
    ("GB", None),
    ("CA", "CA-ON"),
    ("SG", None),
    ("IR", None),
]
CODES = sorted({code for place in PLACES for code in place if code})
MOMENTS = [datetime(2025, 1, 1, tzinfo=UTC), NOW, datetime(2027, 1, 1, tzinfo=UTC)]
EFFECT_NAMES = sorted(RESTRICTIVENESS)

rule_fields = st.fixed_dictionaries(
    {
        "jurisdictions": st.frozensets(st.sampled_from(CODES), min_size=1, max_size=3),
        "product_classes": st.frozensets(st.sampled_from(sorted(PRODUCT_CLASSES)), min_size=1),
        "actions": st.frozensets(st.sampled_from(sorted(ACTIONS)), min_size=1),
        "effect": st.sampled_from(EFFECT_NAMES),
        "investor_category": st.sampled_from([None, "retail", "professional"]),
        "effective_from": st.sampled_from([None, MOMENTS[0], MOMENTS[1]]),
        "effective_until": st.sampled_from([None, MOMENTS[2]]),
    }
)


@st.composite
def rulebooks(draw: st.DrawFn) -> list[Rule]:
    rows = draw(st.lists(rule_fields, max_size=8))
    return [
        Rule(rule_id=f"rule-{n}", citation_text="generated", citation_ref="test", **row)
        for n, row in enumerate(rows)
    ]


@st.composite
def requests(draw: st.DrawFn) -> tuple:
    place = st.sampled_from(PLACES)
    profile = None
    if draw(st.booleans()):
        country, subdivision = draw(place)
        profile = ProfileFacts(
            account_id="acc-h",
            residence_country=country,
            residence_subdivision=subdivision,
            nationalities=tuple(
                draw(st.lists(st.sampled_from(["CN", "US", "SG", "IR"]), max_size=2))
            ),
            entity_type=draw(st.sampled_from(["individual", "entity"])),
            controlling_countries=tuple(draw(st.lists(st.sampled_from(["CN", "HK"]), max_size=2))),
            investor_category=draw(st.sampled_from(["retail", "professional"])),
        )
    address = None
    if draw(st.booleans()):
        country, subdivision = draw(st.one_of(place, st.just((None, None))))
        address = IpFacts("192.0.2.9", country, subdivision, is_anonymous_vpn=draw(st.booleans()))
    product = draw(st.sampled_from(sorted(PRODUCT_CLASSES)))
    action = draw(st.sampled_from(sorted(ACTIONS)))
    return profile, address, product, action, draw(st.sampled_from(MOMENTS))


def restrictiveness(decision: AccessDecision) -> int:
    return RESTRICTIVENESS[decision.effect]


@settings(max_examples=300, deadline=None)
@given(rules=rulebooks(), extra=rule_fields, request=requests())
def test_adding_a_deny_rule_never_loosens_a_decision(rules, extra, request) -> None:
    deny = Rule(
        rule_id="added-deny",
        citation_text="added",
        citation_ref="test",
        **{**extra, "effect": "deny"},
    )
    before = decide(compile_rulebook(rules, "v1"), *request)
    after = decide(compile_rulebook([*rules, deny], "v2"), *request)
    assert restrictiveness(after) >= restrictiveness(before)


@settings(max_examples=300, deadline=None)
@given(rules=rulebooks(), request=requests(), data=st.data())
def test_decision_does_not_depend_on_rule_order(rules, request, data) -> None:
    shuffled = data.draw(st.permutations(rules))
    assert decide(compile_rulebook(rules, "v"), *request) == decide(
        compile_rulebook(shuffled, "v"), *request
    )


@settings(max_examples=300, deadline=None)
@given(rules=rulebooks(), request=requests(), data=st.data())
def test_effect_does_not_depend_on_creation_order_or_ids(rules, request, data) -> None:
    """Rules created in another order get other ids: the effect and which signals fail must
    not change (only the id named among equally restrictive rules may)."""
    recreated = [
        replace(found, rule_id=f"again-{n}")
        for n, found in enumerate(data.draw(st.permutations(rules)))
    ]
    first = decide(compile_rulebook(rules, "v"), *request)
    again = decide(compile_rulebook(recreated, "v"), *request)
    assert first.effect == again.effect
    assert [(r.signal, r.effect) for r in first.reasons] == [
        (r.signal, r.effect) for r in again.reasons
    ]


@settings(max_examples=300, deadline=None)
@given(rules=rulebooks(), request=requests())
def test_effect_is_the_most_restrictive_reason(rules, request) -> None:
    decision = decide(compile_rulebook(rules, "v"), *request)
    ranks = [RESTRICTIVENESS[reason.effect] for reason in decision.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert restrictiveness(decision) == (ranks[0] if ranks else 0)


@settings(max_examples=200, deadline=None)
@given(rules=rulebooks(), request=requests())
def test_withdraw_is_held_only_by_a_rule_that_names_it(rules, request) -> None:
    profile, address, product, _, now = request
    rulebook = compile_rulebook([r for r in rules if "withdraw" not in r.actions], "v")
    decision = decide(rulebook, profile, address, product, "withdraw", now, SHIPPED_SIGNAL_DEFAULTS)
    assert decision.effect == "allow"
