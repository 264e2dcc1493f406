"""The dashboard's health panels: ledger chain status, segregation per asset and today's
pre-trade rejects by reason. The first two walk or sum the whole ledger, so the console
keeps their answer for ``CONSOLE_AUDIT_STATUS_CACHE_SECONDS`` (as it does for the audit
chain)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

LEDGER_STATUS_KEY = "console:ledger-chain-status"
SEGREGATION_KEY = "console:segregation"


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    ok: bool
    transfers_checked: int
    checkpoints_checked: int
    problem: str | None
    checked_at: datetime


def ledger_chain_status(now: datetime) -> LedgerStatus:
    cached = cache.get(LEDGER_STATUS_KEY)
    if cached is not None:
        return cached
    from custody.verification import verify_ledger

    report = verify_ledger()
    status = LedgerStatus(
        report.ok, report.transfers_checked, report.checkpoints_checked, report.problem, now
    )
    cache.set(LEDGER_STATUS_KEY, status, settings.CONSOLE_AUDIT_STATUS_CACHE_SECONDS)
    return status


def segregation_by_asset(now: datetime) -> list[dict]:
    """Client liabilities, segregated assets and the excess (negative: shortfall) per asset
    that has client accounts."""
    cached = cache.get(SEGREGATION_KEY)
    if cached is not None:
        return cached
    from custody.selectors import segregation_report_rows

    _, rows = segregation_report_rows(now, now)
    result = [
        {
            "asset": asset,
            "liabilities": liabilities,
            "segregated": segregated,
            "excess": excess,
            "shortfall": excess.startswith("-"),
        }
        for asset, _, liabilities, segregated, excess in rows
    ]
    cache.set(SEGREGATION_KEY, result, settings.CONSOLE_AUDIT_STATUS_CACHE_SECONDS)
    return result


def rejects_by_reason(since: datetime) -> list[tuple[str, int]]:
    """Today's pre-trade rejects per reason (a reject counts once for each failing check)."""
    from django.db.models import Count

    from risk.models import PretradeDecision

    counts: Counter = Counter()
    groups = (
        PretradeDecision.objects.filter(evaluated_at__gte=since, decision="reject")
        .values("reason_codes")
        .annotate(n=Count("id"))
        .values_list("reason_codes", "n")
    )
    for codes, n in groups:
        for code in filter(None, codes.split(",")):
            counts[code] += n
    return counts.most_common()
