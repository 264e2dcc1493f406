"""The risk part's sections of the daily regulatory report (registered with
``core.registry``): pre-trade rejects by reason, limit breaches, and market
halts and breaker events. Counted in SQL; only the distinct groups reach Python."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import Count

from core.registry import section
from risk.models import MarketEvent, PretradeDecision

LIMIT_CODES = (
    "POSITION_LIMIT",
    "OPEN_INTEREST_LIMIT",
    "ORDER_QUANTITY_LIMIT",
    "ORDER_NOTIONAL_LIMIT",
    "LEVERAGE_LIMIT",
    "INSUFFICIENT_MARGIN",
    "RATE_LIMIT",
)


def _rejects(period_start: datetime, period_end: datetime):
    return PretradeDecision.objects.filter(
        evaluated_at__gte=period_start, evaluated_at__lt=period_end, decision="reject"
    )


@section("pretrade_rejects_by_reason")
def pretrade_rejects_by_reason(period_start: datetime, period_end: datetime):
    """Every failing check counts once per reject (a reject lists all of them)."""
    counts: Counter = Counter()
    groups = (
        _rejects(period_start, period_end)
        .values("instrument", "reason_codes")
        .annotate(n=Count("id"))
        .values_list("instrument", "reason_codes", "n")
    )
    for instrument, codes, n in groups:
        for code in filter(None, codes.split(",")):
            counts[instrument, code] += n
    rows = sorted((instrument, code, n) for (instrument, code), n in counts.items())
    return ["instrument", "reason", "rejects"], rows


@section("limit_breaches")
def limit_breaches(period_start: datetime, period_end: datetime):
    """Orders refused because they would have breached a limit, per account and instrument."""
    counts: Counter = Counter()
    groups = (
        _rejects(period_start, period_end)
        .values("account_id", "instrument", "reason_codes")
        .annotate(n=Count("id"))
        .values_list("account_id", "instrument", "reason_codes", "n")
    )
    for account_id, instrument, codes, n in groups:
        for code in filter(None, codes.split(",")):
            if code in LIMIT_CODES:
                counts[account_id, instrument, code] += n
    rows = sorted((*key, n) for key, n in counts.items())
    return ["account_id", "instrument", "limit", "refused_orders"], rows


@section("market_halts_and_breakers")
def market_halts_and_breakers(period_start: datetime, period_end: datetime):
    """Every change of a market's published state in the period: halts, pauses, limit
    states, breakers, oracle close-only, and who halted or resumed by hand."""
    rows = (
        MarketEvent.objects.filter(at__gte=period_start, at__lt=period_end)
        .order_by("at", "instrument", "to_status")
        .values_list("at", "instrument", "from_status", "to_status", "reason", "until", "actor")
    )
    return (
        ["at", "instrument", "from", "to", "reason", "until", "actor"],
        [
            (at, inst, a, b, reason, until, actor or "")
            for at, inst, a, b, reason, until, actor in rows
        ],
    )
