"""Reads of the ledger for the custody page: wallet balances, open breaks, and per asset in
use the segregation statement and the latest proof-of-reserves publication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from console.models import Proposal
from custody import selectors
from custody.ledger import Account, AccountKind, Balance, balance_view
from custody.models import HeldWithdrawal, LedgerAccount, PorPublication, ReconciliationBreak
from custody.money import from_minor
from custody.selectors import SegregationStatement


@dataclass(frozen=True, slots=True)
class WalletBalance:
    wallet: str
    asset: str
    total: str
    reserved: str
    available: str


@dataclass(frozen=True, slots=True)
class AssetPosition:
    asset: str
    statement: SegregationStatement
    publication: PorPublication | None

    def _minor(self, amount: int | None) -> str:
        return "—" if amount is None else from_minor(self.asset, amount)

    @property
    def client_liabilities(self) -> str:
        return self._minor(self.statement.client_liabilities)

    @property
    def segregated_assets(self) -> str:
        return self._minor(self.statement.segregated_assets)

    @property
    def excess(self) -> str:
        return self._minor(self.statement.excess)

    @property
    def sweepable(self) -> str:
        return self._minor(self.statement.sweepable)

    @property
    def shortfall(self) -> bool:
        return self.statement.excess < 0

    @property
    def published_total(self) -> str:
        return self._minor(int(self.publication.total)) if self.publication else "—"


def wallet_balances() -> list[WalletBalance]:
    """Every custody wallet's balance per asset (a wallet is debit-normal: what the venue
    holds there), from the counters the ledger writer keeps."""
    rows = LedgerAccount.objects.filter(kind=AccountKind.CUSTODY_WALLET).order_by("owner", "asset")
    found = []
    for row in rows:
        view = balance_view(
            Account.open(row.id, row.asset_id, AccountKind.CUSTODY_WALLET),
            Balance(row.debits_pending, row.debits_posted, row.credits_pending, row.credits_posted),
        )
        found.append(
            WalletBalance(
                wallet=row.owner,
                asset=row.asset_id,
                total=from_minor(row.asset_id, view.total),
                reserved=from_minor(row.asset_id, view.reserved),
                available=from_minor(row.asset_id, view.available),
            )
        )
    return found


def assets_in_use() -> list[str]:
    return sorted(set(LedgerAccount.objects.values_list("asset_id", flat=True).distinct()))


def asset_positions(*, assets: list[str], now: datetime) -> list[AssetPosition]:
    return [
        AssetPosition(
            asset=asset,
            statement=selectors.segregation_statement(asset=asset, now=now),
            publication=selectors.latest_publication(asset=asset),
        )
        for asset in assets
    ]


def open_breaks(limit: int = 100) -> list[ReconciliationBreak]:
    return list(selectors.reconciliation_breaks(status=ReconciliationBreak.OPEN)[:limit])


def resolved_breaks(limit: int = 20) -> list[ReconciliationBreak]:
    """The latest resolutions, who made them and why."""
    return list(
        ReconciliationBreak.objects.filter(status=ReconciliationBreak.RESOLVED).order_by(
            "-resolved_at", "-id"
        )[:limit]
    )


def decided_withdrawals(limit: int = 20) -> list[HeldWithdrawal]:
    """The latest held withdrawals an officer released or refused, with who proposed,
    who approved and why."""
    return list(
        HeldWithdrawal.objects.exclude(status=HeldWithdrawal.HELD).order_by("-decided_at", "id")[
            :limit
        ]
    )


def pending_withdrawal_decisions() -> dict[str, Proposal]:
    """Held withdrawal id → the release or refusal awaiting its checker."""
    pending = Proposal.objects.filter(status="proposed", target__startswith="withdrawal:").order_by(
        "created_at"
    )
    return {proposal.target.removeprefix("withdrawal:"): proposal for proposal in pending}


@dataclass(frozen=True, slots=True)
class HeldWithdrawalRow:
    id: str
    account_id: str
    asset: str
    amount: str
    custody_wallet: str
    held_at: datetime
    age: str
    overdue: bool
    reasons: list[dict]
    pending: Proposal | None = None


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def held_withdrawals(*, now: datetime, alert_after_minutes: int) -> list[HeldWithdrawalRow]:
    """Withdrawals waiting for an officer, oldest first, with the gate's reasons and age."""
    rows = []
    pending = pending_withdrawal_decisions()
    for hold in selectors.held_withdrawals():
        waited = (now - hold.held_at).total_seconds()
        rows.append(
            HeldWithdrawalRow(
                id=hold.id,
                account_id=hold.account_id,
                asset=hold.asset_id,
                amount=from_minor(hold.asset_id, hold.amount),
                custody_wallet=hold.custody_wallet,
                held_at=hold.held_at,
                age=_age(max(0.0, waited)),
                overdue=waited >= alert_after_minutes * 60,
                reasons=hold.reasons,
                pending=pending.get(hold.id),
            )
        )
    return rows
