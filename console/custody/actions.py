"""The custody kinds of maker-checker change: a manual ledger adjustment, the release or
refusal of a withdrawal held for review, and the closing of a reconciliation break by the
adjustment that makes the ledger agree with the custodian (booked and resolved together).

``custody.services.manual_adjustment`` names both people: the maker as ``actor`` and the
approver as ``approved_by`` (and refuses them being the same, independently of the
console's own check). The maker's name is put into the payload when the proposal is made.
The ledger commits each posting durably, so the approval commits before the adjustment runs
(``own_transaction``); the transfer id makes carrying it out again harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.change_kinds import register_action
from console.custody.forms import HeldWithdrawalForm, LedgerAdjustmentForm, ReconciliationBreakForm
from console.models import Proposal
from console.roles import COMPLIANCE_OFFICER
from core.errors import Conflict, NotFound
from custody import reconciliation, selectors, services, withdrawals
from custody.errors import CustodyError
from custody.models import ReconciliationBreak
from custody.money import from_minor

LEDGER_ADJUSTMENT = "ledger.adjustment"
WITHDRAWAL_RELEASE = "withdrawal.release"
WITHDRAWAL_REFUSAL = "withdrawal.refuse"
BREAK_ADJUSTMENT = "reconciliation_break.adjust"


def _maker(payload: Mapping[str, Any], maker: str) -> dict:
    return {"maker": maker}


def _amount(payload: Mapping[str, Any]) -> str:
    """The adjustment's amount at the asset's scale (the form takes minor units); as given
    when the asset is not one the ledger knows (the service will refuse it anyway)."""
    try:
        return from_minor(payload["asset"], int(payload["amount"]))
    except (CustodyError, TypeError, ValueError):
        return f"{payload['amount']} minor units of"


def _adjust(payload: Mapping[str, Any], approver: str) -> dict:
    outcome = services.manual_adjustment(
        id=payload["id"],
        debit_account_id=payload["debit_account_id"],
        credit_account_id=payload["credit_account_id"],
        asset=payload["asset"],
        amount=int(payload["amount"]),
        reason=payload["reason"],
        actor=payload["maker"],
        approved_by=approver,
    )
    return {"transfer": payload["id"], "result": str(outcome.result)}


register_action(
    LEDGER_ADJUSTMENT,
    roles=[COMPLIANCE_OFFICER],
    execute=_adjust,
    label="Manual ledger adjustment",
    form=LedgerAdjustmentForm,
    target=lambda payload: f"transfer:{payload['id']}",
    on_propose=_maker,
    describe=lambda payload: (
        f"Adjust {_amount(payload)} {payload['asset']}: "
        f"{payload['debit_account_id']} → {payload['credit_account_id']}"
    ),
    reason_in_payload=True,
    own_transaction=True,
)


def _held_maker(payload: Mapping[str, Any], maker: str) -> dict:
    """Only a withdrawal still held can be proposed for a decision."""
    hold = selectors.held_withdrawal(id=payload["id"])
    if hold is None:
        raise NotFound(f"no held withdrawal {payload['id']}")
    if hold.status != hold.HELD:
        raise Conflict(f"withdrawal {hold.id} is already {hold.status}")
    return {"maker": maker}


def _decide(decision):
    def execute(payload: Mapping[str, Any], approver: str) -> dict:
        hold = decision(
            id=payload["id"], maker=payload["maker"], approver=approver, note=payload["reason"]
        )
        return {"withdrawal": hold.id, "status": hold.status}

    return execute


for kind, label, decision in [
    (WITHDRAWAL_RELEASE, "Release a held withdrawal", withdrawals.release_withdrawal),
    (WITHDRAWAL_REFUSAL, "Refuse a held withdrawal", withdrawals.refuse_withdrawal),
]:
    register_action(
        kind,
        roles=[COMPLIANCE_OFFICER],
        execute=_decide(decision),
        label=label,
        form=HeldWithdrawalForm,
        target=lambda payload: f"withdrawal:{payload['id']}",
        on_propose=_held_maker,
        describe=lambda payload, label=label: f"{label}: {payload['id']}",
        reason_in_payload=True,
        own_transaction=True,
    )


def break_target(break_id: int | str) -> str:
    return f"reconciliation_break:{break_id}"


def pending_adjustment(break_id: int) -> Proposal | None:
    """A proposal to close this break by adjustment that awaits its checker."""
    return Proposal.objects.filter(
        kind=BREAK_ADJUSTMENT, target=break_target(break_id), status="proposed"
    ).first()


def _break_maker(payload: Mapping[str, Any], maker: str) -> dict:
    """Only an open break that an adjustment can close, and one proposal at a time; the
    adjustment is written into the payload so the checker approves exactly what is booked."""
    found = ReconciliationBreak.objects.select_related("line").filter(pk=payload["id"]).first()
    if found is None:
        raise NotFound(f"no reconciliation break {payload['id']}")
    if found.status != ReconciliationBreak.OPEN:
        raise Conflict(f"reconciliation break {found.pk} is already {found.status}")
    if pending_adjustment(found.pk) is not None:
        raise Conflict(f"an adjustment of reconciliation break {found.pk} awaits its checker")
    adjustment = reconciliation.closing_adjustment(found)
    if adjustment is None:
        raise Conflict(
            f"no adjustment can close reconciliation break {found.pk}: the ledger has no "
            f"custody or house wallet {found.wallet} in {found.asset_id}; resolve it with "
            "an explanation, or propose a manual ledger adjustment"
        )
    return {
        "maker": maker,
        "transfer_id": adjustment.transfer_id,
        "debit_account_id": adjustment.debit_account_id,
        "credit_account_id": adjustment.credit_account_id,
        "asset": adjustment.asset,
        "amount": str(adjustment.amount),
    }


def _close_break(payload: Mapping[str, Any], approver: str) -> dict:
    found, adjustment = reconciliation.resolve_by_adjustment(
        break_id=int(payload["id"]),
        reason=payload["reason"],
        maker=payload["maker"],
        approver=approver,
    )
    return {"break": found.pk, "status": found.status, "transfer": adjustment.transfer_id}


register_action(
    BREAK_ADJUSTMENT,
    roles=[COMPLIANCE_OFFICER],
    execute=_close_break,
    label="Close a reconciliation break by adjustment",
    form=ReconciliationBreakForm,
    target=lambda payload: break_target(payload["id"]),
    on_propose=_break_maker,
    describe=lambda payload: (
        f"Close break {payload['id']}: adjust {_amount(payload)} {payload['asset']}, "
        f"{payload['debit_account_id']} → {payload['credit_account_id']}"
    ),
    reason_in_payload=True,
    own_transaction=True,
)
