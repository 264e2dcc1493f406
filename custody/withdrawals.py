"""The gate's verdict binds custody (API.md, "Custody"; issue 14 §4).

A withdrawal asks the gates first (``custody.gating``, action ``withdraw``):

- ``deny`` → :class:`WithdrawalBlocked` (422 ``JURISDICTION_BLOCKED``, or
  ``DEGRADED_FAIL_CLOSED`` when the gate cannot decide) and nothing moves;
- ``review`` → the amount is reserved by a *pending* ``withdrawal`` transfer with the
  withdrawal's id (TigerBeetle's two-phase transfer: the client's ``available`` falls at
  once, nothing leaves) and a :class:`custody.models.HeldWithdrawal` row says why, in the
  same transaction; an officer releases it (the pending transfer is posted) or refuses it
  (voided: the money is available again) under maker-checker;
- ``allow`` (or ``close_only``, which lets a customer withdraw) → booked as before.

A product ban never traps a customer's own money: only rules that name ``withdraw`` reach
it (``compliance.rulebook``), so a CN resident's withdrawal completes.

Deposits are always booked (the money has arrived and is the client's); one the gates
would deny or review announces ``deposit_flagged`` so oversight raises an alert naming the
rule. One from a sanctioned address (a ``SANCTIONS_MATCH`` reason) is also frozen: a
pending transfer to the client's blocked-property account holds the whole amount.
Counterparty addresses are screened by the sanctions gate, which registers like the access
gate (``compliance.movements.screen_movement``).

Idempotency: the withdrawal's id is the pending transfer's id. A retry of a held
withdrawal answers from its row without asking the gate again; a retry of a booked or
refused one goes straight to the ledger, which replays its first answer. A denied
withdrawal moved nothing and used no id: asked again, it is judged again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from core import audit, clock
from core.errors import Conflict, GatehouseError, IdempotencyConflict, NotFound
from custody import gating, signals
from custody.identifiers import (
    blocked_ref,
    client_ref,
    frozen_deposit_id,
    hold_decision_id,
    wallet_ref,
)
from custody.ledger import TransferCode
from custody.models import HeldWithdrawal, TransferRefusal
from custody.models import Transfer as TransferRow
from custody.money import from_minor
from custody.services import FourEyesRequired, TransferRefused, deposit, withdraw
from custody.transfers import Transfer, TransferFlags
from custody.writer import TransferOutcome, create_transfers

logger = logging.getLogger("gatehouse.custody")

COMPLETED = "completed"
SANCTIONS_MATCH = "SANCTIONS_MATCH"
_BLOCKING_CODES = frozenset({gating.DEGRADED_FAIL_CLOSED, SANCTIONS_MATCH})


class WithdrawalBlocked(GatehouseError):
    """The gate denies the withdrawal; nothing moved. The code is ``JURISDICTION_BLOCKED``
    for a rule's deny, or the deciding reason's own code when that is a failure to decide
    (``DEGRADED_FAIL_CLOSED``) or a sanctions match."""

    status = 422
    code = "JURISDICTION_BLOCKED"

    def __init__(self, verdict) -> None:
        first = verdict.reasons[0] if verdict.reasons else {}
        code = first.get("code") if first.get("code") in _BLOCKING_CODES else self.code
        super().__init__(
            first.get("message") or "The gate denies this withdrawal.",
            code=code,
            fields={"account_id": [first.get("message") or "Denied by the gate."]},
        )
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class WithdrawalAnswer:
    """Either a booked withdrawal (``outcome``) or a held one (``hold``)."""

    status: str
    outcome: TransferOutcome | None = None
    hold: HeldWithdrawal | None = None
    replayed: bool = False


def _same_body(hold: HeldWithdrawal, account_id, asset, amount, custody_wallet) -> bool:
    return (hold.account_id, hold.asset_id, hold.amount, hold.custody_wallet) == (
        account_id,
        asset,
        amount,
        custody_wallet,
    )


def request_withdrawal(
    *,
    id: str,
    account_id: str,
    asset: str,
    amount: int,
    custody_wallet: str,
    client_ip: str | None,
    requested_by: str,
    now: datetime | None = None,
    address: str | None = None,
) -> WithdrawalAnswer:
    """A client's withdrawal, judged by the gates before anything moves."""
    now = now or clock.now()
    hold = HeldWithdrawal.objects.filter(pk=id).first()
    if hold is not None:
        if not _same_body(hold, account_id, asset, amount, custody_wallet):
            raise IdempotencyConflict(
                f"withdrawal {id} was already requested with a different body",
                fields={"id": ["Already used with a different body."]},
            )
        return WithdrawalAnswer(status=hold.status, hold=hold, replayed=True)
    booking = dict(
        id=id, account_id=account_id, asset=asset, amount=amount, custody_wallet=custody_wallet
    )
    refusal = TransferRefusal.objects.filter(transfer_id=id).only("request").first()
    if refusal is not None and refusal.request.get("flags") == TransferFlags.PENDING.value:
        # a hold the ledger refused (INSUFFICIENT_FUNDS): the same request replays its answer
        return _hold(
            **booking, client_ip=client_ip, requested_by=requested_by, verdict=None, now=now
        )
    if refusal is not None or TransferRow.objects.filter(transfer_id=id).exists():
        return WithdrawalAnswer(status=COMPLETED, outcome=withdraw(**booking, now=now))
    verdict = gating.consult(
        account_id=account_id,
        asset=asset,
        action="withdraw",
        client_ip=client_ip,
        requested_by=requested_by,
        now=now,
        address=address,
    )
    if verdict.effect == gating.DENY:
        raise WithdrawalBlocked(verdict)
    if verdict.effect == gating.REVIEW:
        return _hold(
            **booking, client_ip=client_ip, requested_by=requested_by, verdict=verdict, now=now
        )
    return WithdrawalAnswer(status=COMPLETED, outcome=withdraw(**booking, now=now))


def _hold(*, id, account_id, asset, amount, custody_wallet, client_ip, requested_by, verdict, now):
    client = client_ref(account_id, asset)
    request = Transfer(
        id=id,
        debit_account_id=client,
        credit_account_id=wallet_ref(custody_wallet, asset),
        amount=amount,
        asset=asset,
        code=TransferCode.WITHDRAWAL,
        flags=TransferFlags.PENDING,
    )

    def record(outcomes: list[TransferOutcome]) -> None:
        outcome = outcomes[0]
        if verdict is None or not outcome.accepted or HeldWithdrawal.objects.filter(pk=id).exists():
            return
        HeldWithdrawal.objects.create(
            id=id,
            account_id=account_id,
            asset_id=asset,
            amount=amount,
            custody_wallet=custody_wallet,
            client_ip=client_ip,
            reasons=list(verdict.reasons),
            gate_decision_id=verdict.decision_id or "",
            policy_version=verdict.policy_version or "",
            requested_by=requested_by,
            held_at=now,
        )
        audit.record(
            actor=requested_by,
            action="custody.withdrawal_held",
            object_type="withdrawal",
            object_id=id,
            after={
                "account_id": account_id,
                "asset": asset,
                "amount": from_minor(asset, amount),
                "custody_wallet": custody_wallet,
                "reasons": [reason.get("code") for reason in verdict.reasons],
                "gate_decision_id": verdict.decision_id,
                "seq": getattr(outcome.row, "seq", None),
            },
            at=now,
        )

    outcome = create_transfers(
        transfers=[request], now=now, open_accounts=(client,), before_commit=record
    )[0]
    if not outcome.accepted:
        raise TransferRefused(
            outcome, field_names={"debit_account": "account_id", "credit_account": "custody_wallet"}
        )
    hold = HeldWithdrawal.objects.get(pk=id)
    return WithdrawalAnswer(status=hold.status, hold=hold, replayed=outcome.replayed)


def release_withdrawal(
    *, id: str, maker: str, approver: str, note: str = "", now: datetime | None = None
) -> HeldWithdrawal:
    """An officer's release, approved by a second: the pending transfer is posted."""
    return _decide(id=id, released=True, maker=maker, approver=approver, note=note, now=now)


def refuse_withdrawal(
    *, id: str, maker: str, approver: str, note: str = "", now: datetime | None = None
) -> HeldWithdrawal:
    """An officer's refusal, approved by a second: the pending transfer is voided and the
    amount is available to the client again."""
    return _decide(id=id, released=False, maker=maker, approver=approver, note=note, now=now)


def _decide(*, id, released, maker, approver, note, now) -> HeldWithdrawal:
    if not maker or maker == approver:
        raise FourEyesRequired(f"{approver} cannot decide a withdrawal hold they proposed")
    hold = HeldWithdrawal.objects.filter(pk=id).first()
    if hold is None:
        raise NotFound(f"no held withdrawal {id}")
    wanted = HeldWithdrawal.RELEASED if released else HeldWithdrawal.REFUSED
    if hold.status == wanted:
        return hold  # carried out already (an approval run again after a crash)
    if hold.status != HeldWithdrawal.HELD:
        raise Conflict(f"withdrawal {id} is already {hold.status}")
    now = now or clock.now()
    decision_id = hold_decision_id(id, released=released)
    request = Transfer(
        id=decision_id,
        debit_account_id=None,
        credit_account_id=None,
        amount=0,
        asset=None,
        code=TransferCode.WITHDRAWAL,
        flags=TransferFlags.POST_PENDING_TRANSFER
        if released
        else TransferFlags.VOID_PENDING_TRANSFER,
        pending_id=id,
    )

    def record(outcomes: list[TransferOutcome]) -> None:
        outcome = outcomes[0]
        row = HeldWithdrawal.objects.select_for_update().get(pk=id)
        if not outcome.accepted or row.status != HeldWithdrawal.HELD:
            return
        row.status, row.decided_by, row.proposed_by = wanted, approver, maker
        row.decided_at, row.decision_note, row.decision_transfer_id = now, note, decision_id
        row.save(
            update_fields=[
                "status",
                "decided_by",
                "proposed_by",
                "decided_at",
                "decision_note",
                "decision_transfer_id",
            ]
        )
        audit.record(
            actor=approver,
            action=f"custody.withdrawal_{wanted}",
            object_type="withdrawal",
            object_id=id,
            before={"status": HeldWithdrawal.HELD},
            after={
                "status": wanted,
                "proposed_by": maker,
                "decided_by": approver,
                "note": note,
                "transfer": decision_id,
                "seq": getattr(outcome.row, "seq", None),
            },
            at=now,
        )

    outcome = create_transfers(transfers=[request], now=now, before_commit=record)[0]
    if not outcome.accepted:
        raise TransferRefused(outcome)
    return HeldWithdrawal.objects.get(pk=id)


def book_deposit(
    *,
    id: str,
    account_id: str,
    asset: str,
    amount: int,
    custody_wallet: str,
    client_ip: str | None,
    requested_by: str,
    now: datetime | None = None,
    address: str | None = None,
) -> TransferOutcome:
    """Book the deposit whatever the gate says, then ask it: a ``deny`` or ``review``
    announces ``deposit_flagged`` (once: a replayed deposit asks nothing)."""
    now = now or clock.now()
    outcome = deposit(
        id=id,
        account_id=account_id,
        asset=asset,
        amount=amount,
        custody_wallet=custody_wallet,
        now=now,
    )
    if outcome.replayed:
        return outcome
    verdict = gating.consult(
        account_id=account_id,
        asset=asset,
        action="deposit",
        client_ip=client_ip,
        requested_by=requested_by,
        now=now,
        address=address,
    )
    frozen = None
    if any(reason.get("code") == SANCTIONS_MATCH for reason in verdict.reasons):
        try:
            frozen = _freeze(id=id, account_id=account_id, asset=asset, amount=amount, now=now)
        except Exception:  # the deposit is booked: answer it, and alert that it is not frozen
            logger.exception("deposit %s from a listed address could not be frozen", id)
    if gating.RANK[verdict.effect] > 0:
        signals.deposit_flagged.send_robust(
            sender=HeldWithdrawal,
            transfer_id=id,
            account_id=account_id,
            asset=asset,
            amount=from_minor(asset, amount),
            effect=verdict.effect,
            reasons=list(verdict.reasons),
            decision_id=verdict.decision_id,
            frozen_by=frozen,
        )
    return outcome


def _freeze(*, id, account_id, asset, amount, now) -> str | None:
    """Freeze a booked deposit from a sanctioned address: a pending ``blocking`` transfer
    of the whole amount from the client's liability to its blocked-property account, with
    no timeout. The client's ``available`` falls at once and nothing can spend or withdraw
    it; the funds stay booked as the client's (reported as blocked property). Idempotent on
    the deposit's id. Returns the pending transfer's id, or None if the ledger refused it
    (the alert then says the deposit is not frozen)."""
    client, blocked = client_ref(account_id, asset), blocked_ref(account_id, asset)
    outcome = create_transfers(
        transfers=[
            Transfer(
                id=frozen_deposit_id(id),
                debit_account_id=client,
                credit_account_id=blocked,
                amount=amount,
                asset=asset,
                code=TransferCode.BLOCKING,
                flags=TransferFlags.PENDING,
            )
        ],
        now=now,
        open_accounts=(client, blocked),
    )[0]
    if not outcome.accepted:
        return None
    if not outcome.replayed:
        audit.record(
            actor="system:screening",
            action="custody.deposit_frozen",
            object_type="deposit",
            object_id=id,
            after={
                "account_id": account_id,
                "asset": asset,
                "amount": from_minor(asset, amount),
                "pending_transfer": frozen_deposit_id(id),
            },
            at=now,
        )
    return frozen_deposit_id(id)
