"""Reads of the risk engine for the console: pre-trade decisions and their rejects over the
day, and an account's live positions and reservations from Redis
(``risk.positions.orders.risk_view``), which may be down."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import ExtractMinute, Floor, TruncHour

from core.redis_client import REDIS_ERRORS
from risk.markets.snapshot import holder
from risk.models import Instrument, PretradeDecision
from risk.positions.orders import risk_view


def _with_increments(decisions: QuerySet[PretradeDecision]) -> QuerySet[PretradeDecision]:
    """Each decision with its instrument's ``tick_size`` and ``lot_size``, in the same query,
    so its price and quantity are written at the instrument's tick and lot."""
    instrument = Instrument.objects.filter(symbol=OuterRef("instrument"))
    return decisions.annotate(
        tick_size=Subquery(instrument.values("tick_size")[:1]),
        lot_size=Subquery(instrument.values("lot_size")[:1]),
    )


def pretrade_decisions(
    *,
    account_id: str = "",
    instrument: str = "",
    decision: str = "",
    reason: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[PretradeDecision]:
    found = _with_increments(PretradeDecision.objects.order_by("-evaluated_at", "-id"))
    if account_id:
        found = found.filter(account_id=account_id)
    if instrument:
        found = found.filter(instrument=instrument)
    if decision:
        found = found.filter(decision=decision)
    if reason:
        found = found.filter(reason_codes__icontains=reason)
    if since:
        found = found.filter(evaluated_at__gte=since)
    if until:
        found = found.filter(evaluated_at__lt=until)
    return found


REJECT_BUCKET_MINUTES = 15


def rejects_per_quarter_hour(
    *, since: datetime, until: datetime
) -> tuple[list[tuple[datetime, str, int]], dict[datetime, int]]:
    """Pre-trade rejects in [since, until) per 15-minute bucket (UTC): (bucket start,
    reason, rejects) rows, where a reject counts once under each check it failed (as the
    dashboard and the daily report count them), and the rejects per bucket. One grouped
    query: its rows are buckets times the combinations of reasons seen, however many
    decisions there were."""
    groups = (
        PretradeDecision.objects.filter(
            decision="reject", evaluated_at__gte=since, evaluated_at__lt=until
        )
        .annotate(
            hour=TruncHour("evaluated_at", tzinfo=UTC),
            quarter=Floor(ExtractMinute("evaluated_at", tzinfo=UTC) / REJECT_BUCKET_MINUTES),
        )
        .values_list("hour", "quarter", "reason_codes")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_reason: Counter = Counter()
    totals: Counter = Counter()
    for hour, quarter, codes, n in groups:
        start = hour.astimezone(UTC) + timedelta(minutes=REJECT_BUCKET_MINUTES * int(quarter))
        totals[start] += n
        for code in filter(None, codes.split(",")):
            per_reason[start, code] += n
    return [(start, code, n) for (start, code), n in per_reason.items()], dict(totals)


def pretrade_decision(decision_id: int) -> PretradeDecision | None:
    return _with_increments(PretradeDecision.objects.filter(pk=decision_id)).first()


def account_risk(account_id: str) -> tuple[dict | None, str]:
    """(the account's risk view, "") or (None, why it is unavailable): a page about the
    account must still render when Redis is down; it says so instead of showing zeros.
    Each instrument's row carries its ``lot_size`` (from the snapshot the view was read
    with) for the page to write quantities at."""
    try:
        view = risk_view(account_id)
    except (*REDIS_ERRORS, OSError) as error:
        return None, f"Live positions are unavailable: the risk store did not answer ({error})."
    snapshot = holder.current()
    for row in view["instruments"]:
        terms = snapshot.terms(row["instrument"])
        row["lot_size"] = terms.lot_size if terms else None
    return view, ""
