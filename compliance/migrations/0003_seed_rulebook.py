"""Seed the starting rulebook (shared/reference/RULES.md §7) as revision 1 of each rule and
publish it as rulebook version 1, and schedule the decision-log drain every second.

The rows are frozen here, exactly as this migration first seeded them (issue 14): it once
imported the live ``compliance.rules_seed``, so editing that file silently changed what new
installs seeded. Corrections are new revisions in later migrations (``0008``).
"""

from datetime import UTC, datetime

from django.db import migrations
from django.utils import timezone

SEEDED_BY = "seed:RULES.md §7"
APPROVED_BY = "seed:migration compliance.0003"

SEED_REVISIONS = [
    {
        "rule_id": "prc-vc-2026",
        "jurisdictions": ["CN"],
        "product_classes": ["crypto_perp", "crypto_spot", "equity_perp", "stablecoin"],
        "actions": ["deposit", "open"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "“虚拟货币相关业务活动属于非法金融活动。……境外单位和个人不得以任何形式非法向境内主体提供虚拟货币相关服务。” Virtual-currency business, including trading of virtual-currency-related financial products, is illegal financial activity, and no overseas entity may serve domestic subjects; stock perpetuals margined and settled in virtual currency are such products.",
        "citation_ref": "中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) §(一); 银发〔2021〕237号同时废止",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "prc-rwa-2026",
        "jurisdictions": ["CN"],
        "product_classes": ["rwa_token"],
        "actions": ["deposit", "open"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "§(二): “境外单位和个人不得以任何形式非法向境内主体提供现实世界资产代币化相关服务。” §(十四): “境内主体直接或间接赴境外开展……现实世界资产代币化业务……未经相关部门同意、备案等,任何单位和个人不得开展上述业务。” RWA tokenization services to domestic subjects are prohibited, and the ban reaches what domestic entities do abroad directly or indirectly, i.e. through overseas entities they control.",
        "citation_ref": "中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) §(二), §(十四)",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "prc-wind-down",
        "jurisdictions": ["CN"],
        "product_classes": ["crypto_perp", "crypto_spot", "equity_perp", "rwa_token", "stablecoin"],
        "actions": ["reduce"],
        "effect": "close_only",
        "investor_category": "",
        "citation_text": "Existing positions of domestic subjects are wound down: they may be reduced and closed but not increased. Withdrawals of the customer's own assets stay allowed (no rule touches withdraw for CN).",
        "citation_ref": "中国人民银行 国家发展改革委 工业和信息化部 公安部 市场监管总局 金融监管总局 中国证监会 国家外汇局《关于进一步防范和处置虚拟货币等相关风险的通知》(银发〔2026〕42号) §(一), §(二) (wind-down)",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "ofac-comprehensive",
        "jurisdictions": ["CU", "IR", "KP", "UA-09", "UA-14", "UA-40", "UA-43"],
        "product_classes": ["crypto_perp", "crypto_spot", "equity_perp", "rwa_token", "stablecoin"],
        "actions": ["deposit", "open", "reduce"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "US persons may not provide services to persons located or ordinarily resident in Cuba, Iran, North Korea or the Crimea, Sevastopol, Donetsk and Luhansk regions of Ukraine.",
        "citation_ref": "OFAC comprehensive sanctions: Cuban Assets Control Regulations (31 CFR part 515); Iranian Transactions and Sanctions Regulations (31 CFR part 560); North Korea Sanctions Regulations (31 CFR part 510); E.O. 13685 (Crimea region of Ukraine, incl. Sevastopol); E.O. 14065 (so-called DNR and LNR regions of Ukraine)",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "ofac-withdraw",
        "jurisdictions": ["CU", "IR", "KP", "UA-09", "UA-14", "UA-40", "UA-43"],
        "product_classes": ["crypto_perp", "crypto_spot", "equity_perp", "rwa_token", "stablecoin"],
        "actions": ["withdraw"],
        "effect": "review",
        "investor_category": "",
        "citation_text": "Property of a person subject to these programmes is blocked: a withdrawal is released only after compliance review (and an OFAC licence where one is needed).",
        "citation_ref": "OFAC comprehensive sanctions: Cuban Assets Control Regulations (31 CFR part 515); Iranian Transactions and Sanctions Regulations (31 CFR part 560); North Korea Sanctions Regulations (31 CFR part 510); E.O. 13685 (Crimea region of Ukraine, incl. Sevastopol); E.O. 14065 (so-called DNR and LNR regions of Ukraine); 31 CFR 501.603 (reports of blocked property)",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "ofac-syria",
        "jurisdictions": ["SY"],
        "product_classes": ["crypto_perp", "crypto_spot", "equity_perp", "rwa_token", "stablecoin"],
        "actions": ["deposit", "open", "reduce"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "Comprehensive Syria sanctions, in force until the programme was revoked in 2025; kept with its effective window so that earlier decisions stay explained.",
        "citation_ref": "OFAC Syrian Sanctions Regulations (31 CFR part 542), E.O. 13582; revoked by E.O. 14312 of 30 June 2025, effective 1 July 2025",
        "effective_from": None,
        "effective_until": datetime(2025, 7, 1, 4, 0, tzinfo=UTC),
    },
    {
        "rule_id": "us-perps",
        "jurisdictions": ["US"],
        "product_classes": ["crypto_perp", "equity_perp"],
        "actions": ["deposit", "open"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "Perpetual futures are futures under the Commodity Exchange Act; they may be offered to US persons only on a CFTC-registered exchange through a registered intermediary, which this venue is not, so they are not offered to US persons.",
        "citation_ref": "Commodity Exchange Act §4(a), 7 U.S.C. §6(a); CFTC registration",
        "effective_from": None,
        "effective_until": None,
    },
    {
        "rule_id": "gb-retail-crypto-derivs",
        "jurisdictions": ["GB"],
        "product_classes": ["crypto_perp"],
        "actions": ["open"],
        "effect": "deny",
        "investor_category": "retail",
        "citation_text": "Prohibiting the sale to retail clients of investment products that reference cryptoassets: derivatives referencing cryptoassets may not be sold, marketed or distributed to retail consumers in or from the UK.",
        "citation_ref": "FCA PS20/10 (COBS 22.6), in force 6 January 2021",
        "effective_from": datetime(2021, 1, 6, 0, 0, tzinfo=UTC),
        "effective_until": None,
    },
    {
        "rule_id": "ca-on-derivs",
        "jurisdictions": ["CA-ON"],
        "product_classes": ["crypto_perp", "equity_perp"],
        "actions": ["open"],
        "effect": "deny",
        "investor_category": "",
        "citation_text": "A platform not registered in Ontario may not offer derivatives such as perpetual futures to Ontario residents; the OSC acts against unregistered derivatives and crypto trading platforms.",
        "citation_ref": "Ontario Securities Commission; Securities Act (Ontario), R.S.O. 1990, c. S.5, s. 25 (registration requirement)",
        "effective_from": None,
        "effective_until": None,
    },
]


def seed(apps, schema_editor):
    RuleRevision = apps.get_model("compliance", "RuleRevision")
    RulebookVersion = apps.get_model("compliance", "RulebookVersion")
    now = timezone.now()
    revisions = []
    for row in SEED_REVISIONS:
        revisions.append(
            RuleRevision.objects.create(
                **row,
                revision=1,
                status="active",
                created_by=SEEDED_BY,
                created_at=now,
                approved_by=APPROVED_BY,
                approved_at=now,
            )
        )
    version = RulebookVersion.objects.create(version=1, published_at=now, published_by=APPROVED_BY)
    version.revisions.set(revisions)


def schedule_drain(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="drain access decisions into the database",
        defaults={
            "task": "compliance.tasks.realtime_drain_access_decisions",
            "interval": every_second,
            "queue": "realtime",
            "expires": None,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_accessdecision_accountprofile_change_seq_and_more"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(schedule_drain, migrations.RunPython.noop),
    ]
