"""Custody's events become officers' alerts (custody sends signals and knows nothing of
compliance): reconciliation breaks, segregation shortfalls and large withdrawals."""

from __future__ import annotations

from core import clock
from oversight.alerts import raise_alert


def on_reconciliation_break(
    sender,
    *,
    break_id,
    custodian,
    wallet,
    asset,
    amount,
    statement_amount,
    ledger_amount,
    as_of,
    **kwargs,
) -> None:
    raise_alert(
        key=f"custody.reconciliation.{wallet}.{asset}",
        kind="reconciliation_break",
        severity="critical",
        title=f"reconciliation break {amount} {asset} at {custodian}/{wallet}",
        detail={
            "break_id": str(break_id),
            "custodian": custodian,
            "wallet": wallet,
            "asset": asset,
            "amount": str(amount),
            "statement": str(statement_amount),
            "ledger": str(ledger_amount),
            "as_of": str(as_of),
        },
        now=clock.now(),
    )


def on_segregation_shortfall(sender, *, asset, excess, transfer_ids, **kwargs) -> None:
    raise_alert(
        key=f"custody.segregation.{asset}",
        kind="segregation_shortfall",
        severity="critical",
        title=f"segregated {asset} short of client claims by {str(excess).lstrip('-')}",
        detail={
            "asset": asset,
            "excess": str(excess),
            "transfers": [str(t) for t in transfer_ids][:50],
        },
        now=clock.now(),
    )


def on_large_withdrawal(
    sender, *, transfer_id, account_id, asset, amount, wallet, pending, **kwargs
) -> None:
    raise_alert(
        key=f"custody.withdrawal.{transfer_id}",
        kind="large_withdrawal",
        severity="warning",
        title=f"large withdrawal {amount} {asset} by {account_id}",
        detail={
            "transfer_id": str(transfer_id),
            "account_id": account_id,
            "asset": asset,
            "amount": str(amount),
            "wallet": wallet,
            "pending": bool(pending),
        },
        now=clock.now(),
    )


def connect() -> None:
    from custody import signals

    signals.reconciliation_break.connect(on_reconciliation_break, dispatch_uid="alerts-recon")
    signals.segregation_shortfall.connect(
        on_segregation_shortfall, dispatch_uid="alerts-segregation"
    )
    signals.large_withdrawal.connect(on_large_withdrawal, dispatch_uid="alerts-withdrawal")
