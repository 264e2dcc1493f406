"""The jurisdiction gate's sections of the daily regulatory report.

Every section counts in the database (GROUP BY over the day's access decisions, which are
indexed on ``decided_at``): a day of a million decisions becomes a few hundred rows without
a single decision being loaded into Python.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, Count, Q, Value, When
from django.db.models.fields.json import KT

from compliance.models import AccessDecision
from compliance.signals import CONTROLLING_PERSON, IP_GEOLOCATION, NATIONALITY, RESIDENCE
from core.registry import section

PRC_2026_RULES = ("prc-rwa-2026", "prc-vc-2026")
"""The rules carrying the 2026 PRC notice (银发〔2026〕42号): RWA tokenization services and
virtual-currency business offered to mainland subjects (shared/reference/RULES.md §7)."""


def _ip_country():
    """The IP's country, "" when unlocated: a JSON null reads as NULL on PostgreSQL but as the
    text "null" on SQLite, so it is matched as JSON null and replaced on both."""
    return Case(
        When(signals__ip__country=None, then=Value("")),
        default=KT("signals__ip__country"),
        output_field=CharField(),
    )


def _decisions(period_start: datetime, period_end: datetime):
    return AccessDecision.objects.filter(decided_at__gte=period_start, decided_at__lt=period_end)


@section("access_decisions_by_jurisdiction")
def access_decisions_by_jurisdiction(period_start: datetime, period_end: datetime):
    """Where access checks came from (the IP's country) and what decided them: the deciding
    jurisdiction and rule (empty for an allow, which no rule decides) and the effect."""
    columns = ["ip_country", "deciding_jurisdiction", "rule", "effect", "decisions"]
    rows = (
        _decisions(period_start, period_end)
        .annotate(ip_country=_ip_country())
        .values("ip_country", "deciding_jurisdiction", "deciding_rule", "effect")
        .annotate(decisions=Count("id"))
        .values_list("ip_country", "deciding_jurisdiction", "deciding_rule", "effect", "decisions")
    )
    return columns, [(country or "", *rest) for country, *rest in rows]


@section("prc_2026_denials")
def prc_2026_denials(period_start: datetime, period_end: datetime):
    """One row per PRC 2026 rule, always (a regulator must read an explicit zero), with the
    signal that tied each denial to the mainland: the IP, the residence, a nationality, or a
    controlling person of an entity (the notice's reach to overseas entities it controls)."""
    columns = [
        "rule",
        "denials",
        "distinct_accounts",
        "distinct_ips",
        "by_ip_geolocation",
        "by_residence",
        "by_nationality",
        "by_controlling_person",
    ]
    denials = _decisions(period_start, period_end).filter(
        effect="deny", deciding_rule__in=PRC_2026_RULES
    )
    counted = {
        row[0]: row
        for row in denials.values("deciding_rule")
        .annotate(
            denials=Count("id"),
            accounts=Count("account_id", distinct=True, filter=~Q(account_id="")),
            ips=Count("client_ip", distinct=True),
            by_ip=Count("id", filter=Q(deciding_signal=IP_GEOLOCATION)),
            by_residence=Count("id", filter=Q(deciding_signal=RESIDENCE)),
            by_nationality=Count("id", filter=Q(deciding_signal=NATIONALITY)),
            by_controller=Count("id", filter=Q(deciding_signal=CONTROLLING_PERSON)),
        )
        .values_list(
            "deciding_rule",
            "denials",
            "accounts",
            "ips",
            "by_ip",
            "by_residence",
            "by_nationality",
            "by_controller",
        )
    }
    return columns, [counted.get(rule, (rule, 0, 0, 0, 0, 0, 0, 0)) for rule in PRC_2026_RULES]


@section("denied_access_attempts")
def denied_access_attempts(period_start: datetime, period_end: datetime):
    """Denied attempts by deciding jurisdiction, product class and action, with how many
    distinct accounts and addresses made them and how many came without an account."""
    columns = [
        "deciding_jurisdiction",
        "product_class",
        "action",
        "denials",
        "distinct_accounts",
        "distinct_ips",
        "without_account",
    ]
    rows = (
        _decisions(period_start, period_end)
        .filter(effect="deny")
        .values("deciding_jurisdiction", "product_class", "action")
        .annotate(
            denials=Count("id"),
            accounts=Count("account_id", distinct=True, filter=~Q(account_id="")),
            ips=Count("client_ip", distinct=True),
            anonymous=Count("id", filter=Q(account_id="")),
        )
        .values_list(
            "deciding_jurisdiction",
            "product_class",
            "action",
            "denials",
            "accounts",
            "ips",
            "anonymous",
        )
    )
    return columns, list(rows)
