"""Custody's events become officers' alerts (custody sends signals and knows nothing of
compliance): reconciliation breaks, segregation shortfalls, large withdrawals and deposits
the gate would deny or review; and the one custody monitor, withdrawals held for review
longer than ``HELD_WITHDRAWAL_ALERT_MINUTES``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from core import clock
from custody import selectors
from custody.money import from_minor
from oversight.alerts import raise_alert
from oversight.models import Alert


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
        cause=f"custodian.{custodian}",
        cause_title=f"Reconciliation breaks at {custodian}",
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


def _rules(reasons) -> list[str]:
    """The rules the reasons name, each once, deciding first (the code when none is named)."""
    named = (
        (reason.get("detail") or {}).get("rule") or reason.get("code", "")
        for reason in reasons
        if isinstance(reason, dict)
    )
    return list(dict.fromkeys(named))


def on_deposit_flagged(
    sender,
    *,
    transfer_id,
    account_id,
    asset,
    amount,
    effect,
    reasons,
    decision_id,
    frozen_by=None,
    **kwargs,
) -> None:
    """A deposit is always booked; one the gate would deny or review is an officer's to look
    at, with the rule that said so (or ``DEGRADED_FAIL_CLOSED`` when no gate could decide)."""
    rules = _rules(reasons)
    raise_alert(
        key=f"custody.deposit.{transfer_id}",
        kind="flagged_deposit",
        severity="critical" if effect == "deny" else "warning",
        title=(
            f"deposit {amount} {asset} by {account_id} booked"
            f"{', frozen as blocked property' if frozen_by else ''}; the gate says {effect}"
            f" ({', '.join(rules) or 'no reason given'})"
        ),
        detail={
            "transfer_id": str(transfer_id),
            "account_id": account_id,
            "asset": asset,
            "amount": str(amount),
            "effect": effect,
            "rules": rules,
            "reasons": list(reasons),
            "gate_decision_id": decision_id,
            "frozen_by": frozen_by,
        },
        now=clock.now(),
    )


def run_held_withdrawal_monitor(*, now: datetime) -> int:
    """One alert per withdrawal held longer than ``HELD_WITHDRAWAL_ALERT_MINUTES``: raised
    once, however often the monitor runs (its key names the withdrawal; a withdrawal already
    alerted is skipped). How many it raised."""
    after = timedelta(minutes=settings.HELD_WITHDRAWAL_ALERT_MINUTES)
    raised = 0
    for hold in selectors.held_withdrawals(older_than=now - after):
        key = f"custody.held-withdrawal.{hold.id}"
        if Alert.objects.filter(dedup_key=key).exists():
            continue
        waited = int((now - hold.held_at).total_seconds() // 60)
        raise_alert(
            key=key,
            kind="held_withdrawal_overdue",
            severity="warning",
            title=(
                f"withdrawal {hold.id} of {hold.account_id} held for review {waited} min "
                f"(over {settings.HELD_WITHDRAWAL_ALERT_MINUTES})"
            ),
            detail={
                "withdrawal_id": hold.id,
                "account_id": hold.account_id,
                "asset": hold.asset_id,
                "amount": from_minor(hold.asset_id, hold.amount),
                "held_at": clock.isoformat_z(hold.held_at),
                "minutes_held": waited,
                "rules": _rules(hold.reasons),
            },
            now=now,
            cause="overdue",
            cause_title="Withdrawals held for review past their time",
        )
        raised += 1
    return raised


def connect() -> None:
    from custody import signals

    signals.reconciliation_break.connect(on_reconciliation_break, dispatch_uid="alerts-recon")
    signals.segregation_shortfall.connect(
        on_segregation_shortfall, dispatch_uid="alerts-segregation"
    )
    signals.large_withdrawal.connect(on_large_withdrawal, dispatch_uid="alerts-withdrawal")
    signals.deposit_flagged.connect(on_deposit_flagged, dispatch_uid="alerts-flagged-deposit")
