"""The custody part's sections of the daily regulatory report, registered with
``core.registry`` (custody imports nothing from the layers above it)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from core.registry import section
from custody.announcements import large_withdrawal_thresholds
from custody.models import ReconciliationBreak, Transfer
from custody.money import from_minor
from custody.selectors import segregation_report_rows


@section("reconciliation_breaks")
def reconciliation_breaks(period_start: datetime, period_end: datetime):
    """Breaks opened in the period or still open at its end, with what each side said."""
    rows = (
        ReconciliationBreak.objects.filter(opened_at__lt=period_end)
        .filter(
            Q(opened_at__gte=period_start)
            | Q(resolved_at__isnull=True)
            | Q(resolved_at__gte=period_start)
        )
        .order_by("opened_at", "wallet", "id")
        .values_list(
            "opened_at",
            "custodian",
            "wallet",
            "asset",
            "statement_amount",
            "ledger_amount",
            "amount",
            "status",
            "resolved_at",
        )
    )
    columns = [
        "opened_at",
        "custodian",
        "wallet",
        "asset",
        "statement",
        "ledger",
        "break",
        "status",
        "resolved_at",
    ]
    return columns, [
        (
            opened,
            custodian,
            wallet,
            asset,
            from_minor(asset, statement),
            from_minor(asset, ledger),
            from_minor(asset, amount),
            status,
            resolved,
        )
        for opened, custodian, wallet, asset, statement, ledger, amount, status, resolved in rows
    ]


@section("large_withdrawals")
def large_withdrawals(period_start: datetime, period_end: datetime):
    """Withdrawals at or above ``LARGE_WITHDRAWAL_THRESHOLD`` booked in the period."""
    thresholds = large_withdrawal_thresholds()
    query = Q()
    for asset, minimum in thresholds.items():
        query |= Q(asset_id=asset, amount__gte=minimum)
    rows = (
        Transfer.objects.filter(
            code="withdrawal", created_at__gte=period_start, created_at__lt=period_end
        )
        .filter(query)
        .order_by("created_at", "seq")
        .values_list("created_at", "transfer_id", "debit_account_id", "asset", "amount")
    )
    return ["at", "transfer_id", "from_account", "asset", "amount"], [
        (at, transfer_id, debit, asset, from_minor(asset, amount))
        for at, transfer_id, debit, asset, amount in rows
    ]


section("segregation_statement")(segregation_report_rows)
