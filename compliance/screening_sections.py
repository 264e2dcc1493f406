"""Sanctions screening's sections of the daily regulatory report (issue 15): the cases
opened and decided, the property blocked, the transactions refused or flagged for a listed
address, and the list versions in force. Counted in SQL, like the access sections."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q
from django.db.models.fields.json import KT

from compliance.models import AccountProfile, SanctionsListVersion, ScreeningCase
from core.models import AuditEntry
from core.registry import section
from custody.ledger import AccountKind
from custody.models import OpenPending
from custody.money import from_minor
from custody.selectors import client_balances

ADDRESS_REFUSED = "sanctions.address_refused"
ADDRESS_FLAGGED = "sanctions.address_flagged"


@section("screening_cases")
def screening_cases(period_start: datetime, period_end: datetime):
    """Cases opened in the period and cases decided in it, by what matched and the
    matcher's class; ``open`` is what is still undecided of those opened."""
    columns = ["event", "matched_on", "result", "cases"]
    opened = (
        ScreeningCase.objects.filter(opened_at__gte=period_start, opened_at__lt=period_end)
        .values("matched_on", "result")
        .annotate(cases=Count("id"), still_open=Count("id", filter=Q(status="open")))
        .order_by("matched_on", "result")
    )
    decided = (
        ScreeningCase.objects.filter(decided_at__gte=period_start, decided_at__lt=period_end)
        .values("status", "matched_on", "result")
        .annotate(cases=Count("id"))
        .order_by("status", "matched_on", "result")
    )
    rows = []
    for row in opened:
        rows.append(("opened", row["matched_on"], row["result"], row["cases"]))
        rows.append(("open", row["matched_on"], row["result"], row["still_open"]))
    rows += [(r["status"], r["matched_on"], r["result"], r["cases"]) for r in decided]
    return columns, rows


@section("blocked_property")
def blocked_property(period_start: datetime, period_end: datetime):
    """Blocked property to report (31 CFR 501.603), kept on the books: the booked funds of
    every account whose screening status is ``match`` at the end of the period, and every
    deposit from a listed address still frozen (its pending ``blocking`` transfer)."""
    columns = ["account_id", "basis", "asset", "amount", "reserved"]
    rows = []
    matched = AccountProfile.objects.filter(sanctions_status="match").order_by("account_id")
    for account_id in matched.values_list("account_id", flat=True):
        for balance in client_balances(account_id=account_id, now=period_end):
            rows.append(
                (
                    account_id,
                    "account_match",
                    balance.asset,
                    str(from_minor(balance.asset, balance.view.total)),
                    str(from_minor(balance.asset, balance.view.reserved)),
                )
            )
    frozen = OpenPending.objects.filter(credit_account__kind=AccountKind.BLOCKED_PROPERTY)
    for pending in frozen.select_related("credit_account").order_by("pending_id"):
        amount = str(from_minor(pending.asset_id, pending.amount))
        rows.append(
            (pending.credit_account.owner, "frozen_deposit", pending.asset_id, amount, amount)
        )
    return columns, rows


@section("sanctions_refused_transactions")
def sanctions_refused_transactions(period_start: datetime, period_end: datetime):
    """Withdrawals refused and deposits flagged for a listed counterparty address (audited
    by the screening gate), by action and asset; rejected transactions to report
    (31 CFR 501.604)."""
    columns = ["event", "movement", "asset", "count"]
    rows = (
        AuditEntry.objects.filter(
            at__gte=period_start,
            at__lt=period_end,
            action__in=(ADDRESS_REFUSED, ADDRESS_FLAGGED),
        )
        .annotate(movement=KT("after__movement"), asset=KT("after__asset"))
        .values("action", "movement", "asset")
        .annotate(count=Count("id"))
        .order_by("action", "movement", "asset")
        .values_list("action", "movement", "asset", "count")
    )
    return columns, list(rows)


@section("sanctions_lists_in_force")
def sanctions_lists_in_force(period_start: datetime, period_end: datetime):
    """The list version in force at the end of the period and every version loaded in it."""
    columns = ["list_version", "published_on", "loaded_at", "entries", "addresses", "in_force"]
    versions = SanctionsListVersion.objects.defer("files").filter(loaded_at__lt=period_end)
    in_force = versions.order_by("-version").first()
    loaded = versions.filter(loaded_at__gte=period_start)
    rows = []
    for version in sorted({*loaded, *([in_force] if in_force else [])}, key=lambda v: v.version):
        rows.append(
            (
                version.label,
                version.published_on.isoformat(),
                version.loaded_at.isoformat(),
                version.entry_count,
                version.address_count,
                version == in_force,
            )
        )
    return columns, rows
