"""The jurisdiction rulebook as shipped today (RULES.md §7, corrected by issue 14), as plain
data.

This file is the live description of what a fresh install has in force, checked against the
migrated database by the tests; the migrations never import it. ``compliance.0003`` froze
the first rulebook in its own text and ``compliance.0008`` ships the corrections of issue 14
as new revisions; a later change is a new revision in a new migration (or an officer's
four-eyes change), with this file updated to match.

Each row has exactly the fields of ``compliance.rulebook.Rule``, so ``Rule(**row)`` builds
it. ``signals`` is the rule's scope; where a choice is the venue's policy rather than what
the source requires, the citation says so. Citations quote the source: for the PRC rules,
the notice 银发〔2026〕42号 as printed at the end of
../shared/reference/000_35401233afbfb911.txt.

The PRC rules have no ``effective_from``: the notice is in force "自发布之日起" (from
publication) and its publication date is not in our reference text, while §(一) restates a
ban in force since 银发〔2021〕237号. They are seeded in force but awaiting an officer's
confirmation (``awaits_confirmation``), which the console shows until an officer confirms
them by a four-eyes revision that sets the date.

``ofac-syria`` is history kept, not a live restriction: the Syria programme was revoked by
E.O. 14312 (30 June 2025) with effect from 1 July 2025. Its window ends at midnight US
Eastern time (04:00 UTC) on that day, so a decision taken before then is still explained by
the rule that made it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from compliance.rulebook import Rule

_PRC_NOTICE = (
    "中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 "
    "国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号)"
)

_OFAC_PROGRAMMES = (
    "OFAC comprehensive sanctions: Cuban Assets Control Regulations (31 CFR part 515); "
    "Iranian Transactions and Sanctions Regulations (31 CFR part 560); North Korea Sanctions "
    "Regulations (31 CFR part 510); E.O. 13685 (Crimea region of Ukraine, incl. Sevastopol); "
    "E.O. 14065 (so-called DNR and LNR regions of Ukraine)"
)

_OFAC_LOCATED = ("IR", "KP", "UA-43", "UA-40", "UA-14", "UA-09")
"""Programmes that turn on location and ordinary residence (and control of an entity)."""

US_AND_TERRITORIES = ("US", "PR", "GU", "VI", "AS", "MP", "UM")
"""The United States as the CFTC defines it (17 CFR 23.23(a): the States, the District of
Columbia and the territories and possessions); GeoIP2 reports the territories as
countries of their own."""

LOCATION = ("ip_geolocation", "residence")
LOCATION_AND_CONTROL = ("ip_geolocation", "residence", "controlling_country")
EVERY_SIGNAL = ("ip_geolocation", "residence", "nationality", "controlling_country")

_PRC_NATIONALITY_POLICY = (
    " A mainland nationality alone (residence elsewhere) is review, not deny: a mainland "
    "national abroad may still be a mainland subject, so the venue applies enhanced due "
    "diligence. That is venue policy, not the notice; Hong Kong, Macau and Taiwan residents "
    "are outside it."
)

_PRC_CONTROL_POLICY = (
    " Entities controlled from the mainland are refused as venue policy: the notice forbids "
    "serving mainland subjects “以任何形式” (in any form, §(一), §(二)) and §(十八) punishes "
    "serving or assisting them; §(十五) lets offshore subsidiaries of mainland financial "
    "institutions provide RWA services abroad, which is their regime, not ours."
)

SEED_RULES: list[dict] = [
    {
        "rule_id": "prc-vc-2026",
        "jurisdictions": ("CN",),
        "product_classes": ("crypto_perp", "crypto_spot", "stablecoin", "equity_perp"),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": f"{_PRC_NOTICE} §(一); §(十八); controlled entities and nationality: "
        "venue policy",
        "citation_text": (
            "§(一): “虚拟货币相关业务活动属于非法金融活动。……境外单位和个人不得以任何形式非法"
            "向境内主体提供虚拟货币相关服务。” Virtual-currency business, including trading of "
            "virtual-currency-related financial products, is illegal financial activity, and "
            "no overseas entity may serve mainland subjects; stock perpetuals margined and "
            "settled in virtual currency are such products."
            + _PRC_CONTROL_POLICY
            + _PRC_NATIONALITY_POLICY
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": EVERY_SIGNAL,
        "signal_effects": {"nationality": "review"},
        "awaits_confirmation": True,
    },
    {
        "rule_id": "prc-rwa-2026",
        "jurisdictions": ("CN",),
        "product_classes": ("rwa_token",),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": f"{_PRC_NOTICE} §(二); §(十八); §(十五) noted; controlled entities and "
        "nationality: venue policy",
        "citation_text": (
            "§(二): “境外单位和个人不得以任何形式非法向境内主体提供现实世界资产代币化相关服务。”"
            " RWA tokenization services to mainland subjects are prohibited. (“境内主体及其控制"
            "的境外主体” is §(十三), on issuing virtual currency abroad; §(十四) is an approval "
            "and filing regime for mainland entities' own offshore RWA business. Neither is "
            "relied on here.)" + _PRC_CONTROL_POLICY + _PRC_NATIONALITY_POLICY
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": EVERY_SIGNAL,
        "signal_effects": {"nationality": "review"},
        "awaits_confirmation": True,
    },
    {
        "rule_id": "prc-wind-down",
        "jurisdictions": ("CN",),
        "product_classes": "all",
        "actions": ("reduce",),
        "effect": "close_only",
        "investor_category": None,
        "citation_ref": f"Venue policy under {_PRC_NOTICE} (the notice has no wind-down "
        "provision; its closing paragraph repeals 银发〔2021〕237号)",
        "citation_text": (
            "Venue policy: existing positions of mainland subjects are wound down: they may be "
            "reduced and closed but not increased. Withdrawals of the customer's own assets "
            "stay allowed (no rule touches withdraw for CN). A mainland nationality alone is "
            "not in scope: reducing exposure is never held for due diligence."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION_AND_CONTROL,
        "awaits_confirmation": True,
    },
    {
        "rule_id": "ofac-comprehensive",
        "jurisdictions": _OFAC_LOCATED,
        "product_classes": "all",
        "actions": ("open", "reduce", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": (
            "OFAC: Iranian Transactions and Sanctions Regulations (31 CFR part 560, §560.204 "
            "exportation of services to Iran); North Korea Sanctions Regulations (31 CFR part "
            "510); E.O. 13685 (Crimea region of Ukraine, incl. Sevastopol); E.O. 14065 "
            "(so-called DNR and LNR regions of Ukraine)"
        ),
        "citation_text": (
            "US persons may not export services to persons located or ordinarily resident in "
            "Iran, North Korea or the Crimea, Sevastopol, Donetsk and Luhansk regions of "
            "Ukraine, nor to entities controlled from there. Nationality alone is not in scope: "
            "an Iranian national living in Germany is not a person in Iran."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION_AND_CONTROL,
    },
    {
        "rule_id": "ofac-cuba",
        "jurisdictions": ("CU",),
        "product_classes": "all",
        "actions": ("open", "reduce", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": "OFAC Cuban Assets Control Regulations (31 CFR part 515, §515.201; "
        "§515.302 Cuban national)",
        "citation_text": (
            "Transactions in property in which Cuba or a Cuban national has an interest are "
            "prohibited: the regulations reach Cuban nationals wherever they live, unless "
            "unblocked (§515.505), as well as persons in Cuba."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": EVERY_SIGNAL,
    },
    {
        "rule_id": "ofac-withdraw",
        "jurisdictions": _OFAC_LOCATED,
        "product_classes": "all",
        "actions": ("withdraw",),
        "effect": "review",
        "investor_category": None,
        "citation_ref": "31 CFR 560.204 (ITSR), part 510 (NKSR), E.O. 13685, E.O. 14065; "
        "31 CFR 501.604 (reports on rejected transactions)",
        "citation_text": (
            "Ordinary residents of Iran, North Korea, Crimea and the DNR/LNR regions are not "
            "blocked persons: their rules forbid exporting services or funds to them. A "
            "withdrawal is reviewed before it goes out; one that would send funds into the "
            "region is rejected and reported as a rejected transaction (501.604). The property "
            "of the governments of Iran and North Korea is blocked; those are screening "
            "matches (SANCTIONS_MATCH), not this rule."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION_AND_CONTROL,
    },
    {
        "rule_id": "ofac-cuba-withdraw",
        "jurisdictions": ("CU",),
        "product_classes": "all",
        "actions": ("withdraw",),
        "effect": "review",
        "investor_category": None,
        "citation_ref": "31 CFR part 515 (§515.201); 31 CFR 501.603 (reports of blocked property)",
        "citation_text": (
            "Property in which a Cuban national has an interest is blocked: a withdrawal is "
            "released only after compliance review (and an OFAC licence or unblocking where one "
            "is needed); property blocked is reported under 501.603."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": EVERY_SIGNAL,
    },
    {
        "rule_id": "ofac-syria",
        "jurisdictions": ("SY",),
        "product_classes": "all",
        "actions": ("open", "reduce", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": (
            "OFAC Syrian Sanctions Regulations (31 CFR part 542), E.O. 13582; revoked by "
            "E.O. 14312 of 30 June 2025, effective 1 July 2025"
        ),
        "citation_text": (
            "Comprehensive Syria sanctions, in force until the programme was revoked in 2025; "
            "kept with its effective window so that earlier decisions stay explained."
        ),
        "effective_from": None,
        "effective_until": datetime(2025, 7, 1, 4, 0, tzinfo=UTC),
    },
    {
        "rule_id": "us-perps",
        "jurisdictions": US_AND_TERRITORIES,
        "product_classes": ("equity_perp", "crypto_perp"),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": (
            "Commodity Exchange Act §4(a), 7 U.S.C. §6(a); 17 CFR 23.23(a) (“United States” "
            "includes its territories and possessions); Securities Exchange Act of 1934 §3(a)(68) "
            "(security-based swap), §3(a)(55) (security future), §6(l), 15 U.S.C. §78f(l)"
        ),
        "citation_text": (
            "Perpetual futures on crypto assets are futures under the Commodity Exchange Act; "
            "they may be offered to US persons only on a CFTC-registered exchange through a "
            "registered intermediary. Perpetuals on single US stocks are security-based swaps "
            "or security futures, which may be offered to retail US persons only on a "
            "registered national securities exchange (§6(l)). This venue is neither, so they "
            "are not offered to persons located or resident in the United States, its "
            "territories and possessions, or entities controlled from there. A US person turns "
            "on residence, not citizenship: nationality is not in scope."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION_AND_CONTROL,
    },
    {
        "rule_id": "us-rwa-securities",
        "jurisdictions": US_AND_TERRITORIES,
        "product_classes": ("rwa_token",),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": "Securities Act of 1933 §5, 15 U.S.C. §77e",
        "citation_text": (
            "Tokenized US equities are securities: offering or selling them to US persons "
            "without a registration statement in effect, or an exemption, is unlawful under "
            "§5. The venue relies on no exemption, so they are not offered to persons located "
            "or resident in the United States, its territories and possessions, or entities "
            "controlled from there."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION_AND_CONTROL,
    },
    {
        "rule_id": "gb-retail-crypto-derivs",
        "jurisdictions": ("GB",),
        "product_classes": ("crypto_perp",),
        "actions": ("open",),
        "effect": "deny",
        "investor_category": "retail",
        "citation_ref": "FCA PS20/10 (COBS 22.6), in force 6 January 2021",
        "citation_text": (
            "Prohibiting the sale to retail clients of investment products that reference "
            "cryptoassets: derivatives referencing cryptoassets may not be sold, marketed or "
            "distributed to retail consumers in or from the UK. Its scope is UK consumers: a "
            "UK national living abroad is not in scope."
        ),
        "effective_from": datetime(2021, 1, 6, 0, 0, tzinfo=UTC),
        "effective_until": None,
        "signals": LOCATION,
    },
    {
        "rule_id": "ca-on-derivs",
        "jurisdictions": ("CA-ON",),
        "product_classes": ("equity_perp", "crypto_perp"),
        "actions": ("open",),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": (
            "Ontario Securities Commission; Securities Act (Ontario), R.S.O. 1990, c. S.5, "
            "s. 25 (registration requirement)"
        ),
        "citation_text": (
            "A platform not registered in Ontario may not offer derivatives such as perpetual "
            "futures to Ontario residents; the OSC acts against unregistered derivatives and "
            "crypto trading platforms."
        ),
        "effective_from": None,
        "effective_until": None,
        "signals": LOCATION,
    },
]

SEEDED_FIELDS = ("awaits_confirmation",)
"""Row fields that describe how a revision was seeded, not the rule itself."""


def seed_rules() -> tuple[Rule, ...]:
    """The seed rows as validated ``Rule`` objects (a bad row fails here, not at runtime)."""
    return tuple(
        Rule(**{name: value for name, value in row.items() if name not in SEEDED_FIELDS})
        for row in SEED_RULES
    )
