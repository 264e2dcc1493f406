"""Issue 14: every rule names the signals it reaches, the citations say what the sources say,
US territories are the US, and Cuba, US tokenized securities and Cuban withdrawals get rules
of their own. Shipped as new revisions of each rule, frozen here (never read from the live
``compliance.rules_seed``, which describes the same rulebook for the tests).

A database nobody has used yet (the seeded rulebook version 1 alone, no rule ever drafted
by a person, no decision recorded: a fresh install) gets them in force at once, as rulebook
version 2, with the ``rules`` policy version raised. A database in use gets them as drafts,
so that an officer puts them in force under four eyes: a migration is not a checker, and
no existing row is changed (tests/core/test_migrate_forward.py). The PRC revisions are
recorded as seeded awaiting an officer's confirmation (``awaits_confirmation``).
"""

from datetime import UTC, datetime

from django.db import migrations
from django.db.models import F, Max
from django.utils import timezone

SEEDED_BY_0003 = "seed:RULES.md §7"
SEEDED_BY = "seed:issue 14"
APPROVED_BY = "seed:migration compliance.0008"
NOTE = (
    "Issue 14: signal scope, US territories, corrected citations. Activate together with "
    "ofac-cuba and ofac-cuba-withdraw (Cuba leaves ofac-comprehensive and ofac-withdraw)."
)

REVISIONS = [
    {
        'rule_id': 'prc-vc-2026',
        'jurisdictions': ['CN'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'stablecoin'],
        'actions': ['deposit', 'open'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': '§(一): “虚拟货币相关业务活动属于非法金融活动。……境外单位和个人不得以任何形式非法向境内主体提供虚拟货币相关服务。” Virtual-currency business, including trading of virtual-currency-related financial products, is illegal financial activity, and no overseas entity may serve mainland subjects; stock perpetuals margined and settled in virtual currency are such products. Entities controlled from the mainland are refused as venue policy: the notice forbids serving mainland subjects “以任何形式” (in any form, §(一), §(二)) and §(十八) punishes serving or assisting them; §(十五) lets offshore subsidiaries of mainland financial institutions provide RWA services abroad, which is their regime, not ours. A mainland nationality alone (residence elsewhere) is review, not deny: a mainland national abroad may still be a mainland subject, so the venue applies enhanced due diligence. That is venue policy, not the notice; Hong Kong, Macau and Taiwan residents are outside it.',
        'citation_ref': '中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) §(一); §(十八); controlled entities and nationality: venue policy',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'nationality', 'controlling_country'],
        'signal_effects': {'nationality': 'review'},
        'carve_out': False,
        'awaits_confirmation': True,
    },
    {
        'rule_id': 'prc-rwa-2026',
        'jurisdictions': ['CN'],
        'product_classes': ['rwa_token'],
        'actions': ['deposit', 'open'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': "§(二): “境外单位和个人不得以任何形式非法向境内主体提供现实世界资产代币化相关服务。” RWA tokenization services to mainland subjects are prohibited. (“境内主体及其控制的境外主体” is §(十三), on issuing virtual currency abroad; §(十四) is an approval and filing regime for mainland entities' own offshore RWA business. Neither is relied on here.) Entities controlled from the mainland are refused as venue policy: the notice forbids serving mainland subjects “以任何形式” (in any form, §(一), §(二)) and §(十八) punishes serving or assisting them; §(十五) lets offshore subsidiaries of mainland financial institutions provide RWA services abroad, which is their regime, not ours. A mainland nationality alone (residence elsewhere) is review, not deny: a mainland national abroad may still be a mainland subject, so the venue applies enhanced due diligence. That is venue policy, not the notice; Hong Kong, Macau and Taiwan residents are outside it.",
        'citation_ref': '中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) §(二); §(十八); §(十五) noted; controlled entities and nationality: venue policy',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'nationality', 'controlling_country'],
        'signal_effects': {'nationality': 'review'},
        'carve_out': False,
        'awaits_confirmation': True,
    },
    {
        'rule_id': 'prc-wind-down',
        'jurisdictions': ['CN'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'rwa_token', 'stablecoin'],
        'actions': ['reduce'],
        'effect': 'close_only',
        'investor_category': '',
        'citation_text': "Venue policy: existing positions of mainland subjects are wound down: they may be reduced and closed but not increased. Withdrawals of the customer's own assets stay allowed (no rule touches withdraw for CN). A mainland nationality alone is not in scope: reducing exposure is never held for due diligence.",
        'citation_ref': 'Venue policy under 中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) (the notice has no wind-down provision; its closing paragraph repeals 银发〔2021〕237号)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': True,
    },
    {
        'rule_id': 'ofac-comprehensive',
        'jurisdictions': ['IR', 'KP', 'UA-09', 'UA-14', 'UA-40', 'UA-43'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'rwa_token', 'stablecoin'],
        'actions': ['deposit', 'open', 'reduce'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': 'US persons may not export services to persons located or ordinarily resident in Iran, North Korea or the Crimea, Sevastopol, Donetsk and Luhansk regions of Ukraine, nor to entities controlled from there. Nationality alone is not in scope: an Iranian national living in Germany is not a person in Iran.',
        'citation_ref': 'OFAC: Iranian Transactions and Sanctions Regulations (31 CFR part 560, §560.204 exportation of services to Iran); North Korea Sanctions Regulations (31 CFR part 510); E.O. 13685 (Crimea region of Ukraine, incl. Sevastopol); E.O. 14065 (so-called DNR and LNR regions of Ukraine)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'ofac-cuba',
        'jurisdictions': ['CU'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'rwa_token', 'stablecoin'],
        'actions': ['deposit', 'open', 'reduce'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': 'Transactions in property in which Cuba or a Cuban national has an interest are prohibited: the regulations reach Cuban nationals wherever they live, unless unblocked (§515.505), as well as persons in Cuba.',
        'citation_ref': 'OFAC Cuban Assets Control Regulations (31 CFR part 515, §515.201; §515.302 Cuban national)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'nationality', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'ofac-withdraw',
        'jurisdictions': ['IR', 'KP', 'UA-09', 'UA-14', 'UA-40', 'UA-43'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'rwa_token', 'stablecoin'],
        'actions': ['withdraw'],
        'effect': 'review',
        'investor_category': '',
        'citation_text': 'Ordinary residents of Iran, North Korea, Crimea and the DNR/LNR regions are not blocked persons: their rules forbid exporting services or funds to them. A withdrawal is reviewed before it goes out; one that would send funds into the region is rejected and reported as a rejected transaction (501.604). The property of the governments of Iran and North Korea is blocked; those are screening matches (SANCTIONS_MATCH), not this rule.',
        'citation_ref': '31 CFR 560.204 (ITSR), part 510 (NKSR), E.O. 13685, E.O. 14065; 31 CFR 501.604 (reports on rejected transactions)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'ofac-cuba-withdraw',
        'jurisdictions': ['CU'],
        'product_classes': ['crypto_perp', 'crypto_spot', 'equity_perp', 'rwa_token', 'stablecoin'],
        'actions': ['withdraw'],
        'effect': 'review',
        'investor_category': '',
        'citation_text': 'Property in which a Cuban national has an interest is blocked: a withdrawal is released only after compliance review (and an OFAC licence or unblocking where one is needed); property blocked is reported under 501.603.',
        'citation_ref': '31 CFR part 515 (§515.201); 31 CFR 501.603 (reports of blocked property)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'nationality', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'us-perps',
        'jurisdictions': ['AS', 'GU', 'MP', 'PR', 'UM', 'US', 'VI'],
        'product_classes': ['crypto_perp', 'equity_perp'],
        'actions': ['deposit', 'open'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': 'Perpetual futures on crypto assets are futures under the Commodity Exchange Act; they may be offered to US persons only on a CFTC-registered exchange through a registered intermediary. Perpetuals on single US stocks are security-based swaps or security futures, which may be offered to retail US persons only on a registered national securities exchange (§6(l)). This venue is neither, so they are not offered to persons located or resident in the United States, its territories and possessions, or entities controlled from there. A US person turns on residence, not citizenship: nationality is not in scope.',
        'citation_ref': 'Commodity Exchange Act §4(a), 7 U.S.C. §6(a); 17 CFR 23.23(a) (“United States” includes its territories and possessions); Securities Exchange Act of 1934 §3(a)(68) (security-based swap), §3(a)(55) (security future), §6(l), 15 U.S.C. §78f(l)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'us-rwa-securities',
        'jurisdictions': ['AS', 'GU', 'MP', 'PR', 'UM', 'US', 'VI'],
        'product_classes': ['rwa_token'],
        'actions': ['deposit', 'open'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': 'Tokenized US equities are securities: offering or selling them to US persons without a registration statement in effect, or an exemption, is unlawful under §5. The venue relies on no exemption, so they are not offered to persons located or resident in the United States, its territories and possessions, or entities controlled from there.',
        'citation_ref': 'Securities Act of 1933 §5, 15 U.S.C. §77e',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence', 'controlling_country'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'gb-retail-crypto-derivs',
        'jurisdictions': ['GB'],
        'product_classes': ['crypto_perp'],
        'actions': ['open'],
        'effect': 'deny',
        'investor_category': 'retail',
        'citation_text': 'Prohibiting the sale to retail clients of investment products that reference cryptoassets: derivatives referencing cryptoassets may not be sold, marketed or distributed to retail consumers in or from the UK. Its scope is UK consumers: a UK national living abroad is not in scope.',
        'citation_ref': 'FCA PS20/10 (COBS 22.6), in force 6 January 2021',
        'effective_from': datetime(2021, 1, 6, 0, 0, tzinfo=UTC),
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
    {
        'rule_id': 'ca-on-derivs',
        'jurisdictions': ['CA-ON'],
        'product_classes': ['crypto_perp', 'equity_perp'],
        'actions': ['open'],
        'effect': 'deny',
        'investor_category': '',
        'citation_text': 'A platform not registered in Ontario may not offer derivatives such as perpetual futures to Ontario residents; the OSC acts against unregistered derivatives and crypto trading platforms.',
        'citation_ref': 'Ontario Securities Commission; Securities Act (Ontario), R.S.O. 1990, c. S.5, s. 25 (registration requirement)',
        'effective_from': None,
        'effective_until': None,
        'signals': ['ip_geolocation', 'residence'],
        'signal_effects': {},
        'carve_out': False,
        'awaits_confirmation': False,
    },
]


def _fresh(apps) -> bool:
    RuleRevision = apps.get_model("compliance", "RuleRevision")
    RulebookVersion = apps.get_model("compliance", "RulebookVersion")
    AccessDecision = apps.get_model("compliance", "AccessDecision")
    return (
        RulebookVersion.objects.count() <= 1
        and not RuleRevision.objects.exclude(created_by=SEEDED_BY_0003).exists()
        and not AccessDecision.objects.exists()
    )


def ship(apps, schema_editor):
    RuleRevision = apps.get_model("compliance", "RuleRevision")
    RulebookVersion = apps.get_model("compliance", "RulebookVersion")
    PolicyVersion = apps.get_model("core", "PolicyVersion")
    fresh = _fresh(apps)
    now = timezone.now()
    for row in REVISIONS:
        existing = RuleRevision.objects.filter(rule_id=row["rule_id"])
        number = (existing.aggregate(Max("revision"))["revision__max"] or 0) + 1
        if fresh:
            existing.filter(status="active").update(status="superseded")
        RuleRevision.objects.create(
            **row,
            revision=number,
            status="active" if fresh else "draft",
            created_by=SEEDED_BY,
            created_at=now,
            approved_by=APPROVED_BY if fresh else "",
            approved_at=now if fresh else None,
            note=NOTE,
        )
    if not fresh:
        return
    last = RulebookVersion.objects.aggregate(Max("version"))["version__max"] or 0
    version = RulebookVersion.objects.create(
        version=last + 1, published_at=now, published_by=APPROVED_BY
    )
    version.revisions.set(RuleRevision.objects.filter(status="active"))
    PolicyVersion.objects.filter(name="rules").update(value=F("value") + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_rule_signal_scope"),
        ("core", "0004_policy_versions"),
    ]

    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
