"""The custody kind of maker-checker change: a manual ledger adjustment.

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
from console.custody.forms import LedgerAdjustmentForm
from console.roles import COMPLIANCE_OFFICER
from custody import services

LEDGER_ADJUSTMENT = "ledger.adjustment"


def _maker(payload: Mapping[str, Any], maker: str) -> dict:
    return {"maker": maker}


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
        f"Adjust {payload['amount']} {payload['asset']}: "
        f"{payload['debit_account_id']} → {payload['credit_account_id']}"
    ),
    reason_in_payload=True,
    own_transaction=True,
)
