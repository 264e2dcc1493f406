"""Reads of the risk engine for the console: pre-trade decisions, and an account's live
positions and reservations from Redis (``risk.positions.orders.risk_view``), which may be down."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from core.redis_client import REDIS_ERRORS
from risk.models import PretradeDecision
from risk.positions.orders import risk_view


def pretrade_decisions(
    *,
    account_id: str = "",
    instrument: str = "",
    decision: str = "",
    reason: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[PretradeDecision]:
    found = PretradeDecision.objects.order_by("-evaluated_at", "-id")
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


def account_risk(account_id: str) -> tuple[dict | None, str]:
    """(the account's risk view, "") or (None, why it is unavailable): a page about the
    account must still render when Redis is down; it says so instead of showing zeros."""
    try:
        return risk_view(account_id), ""
    except (*REDIS_ERRORS, OSError) as error:
        return None, f"Live positions are unavailable: the risk store did not answer ({error})."
