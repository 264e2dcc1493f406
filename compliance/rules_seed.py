"""The starting jurisdiction rulebook (RULES.md §7) as plain data, for the seeding migration.

Each row has exactly the fields of ``compliance.rulebook.Rule``, so ``Rule(**row)`` builds
it. Citations quote the source: for the PRC rules, the notice 银发〔2026〕42号 as printed at
the end of ../shared/reference/000_35401233afbfb911.txt.

The PRC rules have no ``effective_from``: the notice is in force "自发布之日起" (from
publication) and its publication date is not in our reference text, while §(一) restates a
ban in force since 银发〔2021〕237号. An officer sets the date when approving the rule.

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

_OFAC_JURISDICTIONS = ("CU", "IR", "KP", "UA-43", "UA-40", "UA-14", "UA-09")

SEED_RULES: list[dict] = [
    {
        "rule_id": "prc-vc-2026",
        "jurisdictions": ("CN",),
        "product_classes": ("crypto_perp", "crypto_spot", "stablecoin", "equity_perp"),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": f"{_PRC_NOTICE} §(一); 银发〔2021〕237号同时废止",
        "citation_text": (
            "“虚拟货币相关业务活动属于非法金融活动。……境外单位和个人不得以任何形式非法向"
            "境内主体提供虚拟货币相关服务。” Virtual-currency business, including trading "
            "of virtual-currency-related financial products, is illegal financial activity, "
            "and no overseas entity may serve domestic subjects; stock perpetuals margined "
            "and settled in virtual currency are such products."
        ),
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "prc-rwa-2026",
        "jurisdictions": ("CN",),
        "product_classes": ("rwa_token",),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": f"{_PRC_NOTICE} §(二), §(十四)",
        "citation_text": (
            "§(二): “境外单位和个人不得以任何形式非法向境内主体提供现实世界资产代币化相关"
            "服务。” §(十四): “境内主体直接或间接赴境外开展……现实世界资产代币化业务……"
            "未经相关部门同意、备案等,任何单位和个人不得开展上述业务。” RWA tokenization "
            "services to domestic subjects are prohibited, and the ban reaches what domestic "
            "entities do abroad directly or indirectly, i.e. through overseas entities they "
            "control."
        ),
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "prc-wind-down",
        "jurisdictions": ("CN",),
        "product_classes": "all",
        "actions": ("reduce",),
        "effect": "close_only",
        "investor_category": None,
        "citation_ref": f"{_PRC_NOTICE} §(一), §(二) (wind-down)",
        "citation_text": (
            "Existing positions of domestic subjects are wound down: they may be reduced and "
            "closed but not increased. Withdrawals of the customer's own assets stay allowed "
            "(no rule touches withdraw for CN)."
        ),
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "ofac-comprehensive",
        "jurisdictions": _OFAC_JURISDICTIONS,
        "product_classes": "all",
        "actions": ("open", "reduce", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": _OFAC_PROGRAMMES,
        "citation_text": (
            "US persons may not provide services to persons located or ordinarily resident "
            "in Cuba, Iran, North Korea or the Crimea, Sevastopol, Donetsk and Luhansk regions "
            "of Ukraine."
        ),
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "ofac-withdraw",
        "jurisdictions": _OFAC_JURISDICTIONS,
        "product_classes": "all",
        "actions": ("withdraw",),
        "effect": "review",
        "investor_category": None,
        "citation_ref": f"{_OFAC_PROGRAMMES}; 31 CFR 501.603 (reports of blocked property)",
        "citation_text": (
            "Property of a person subject to these programmes is blocked: a withdrawal is "
            "released only after compliance review (and an OFAC licence where one is needed)."
        ),
        "effective_from": None,
        "effective_until": None,
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
        "jurisdictions": ("US",),
        "product_classes": ("equity_perp", "crypto_perp"),
        "actions": ("open", "deposit"),
        "effect": "deny",
        "investor_category": None,
        "citation_ref": "Commodity Exchange Act §4(a), 7 U.S.C. §6(a); CFTC registration",
        "citation_text": (
            "Perpetual futures are futures under the Commodity Exchange Act; they may be "
            "offered to US persons only on a CFTC-registered exchange through a registered "
            "intermediary, which this venue is not, so they are not offered to US persons."
        ),
        "effective_from": None,
        "effective_until": None,
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
            "distributed to retail consumers in or from the UK."
        ),
        "effective_from": datetime(2021, 1, 6, 0, 0, tzinfo=UTC),
        "effective_until": None,
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
    },
]


def seed_rules() -> tuple[Rule, ...]:
    """The seed rows as validated ``Rule`` objects (a bad row fails here, not at runtime)."""
    return tuple(Rule(**row) for row in SEED_RULES)
