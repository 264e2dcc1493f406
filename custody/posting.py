"""Applying transfers to balances: the executable specification of the ledger.

:func:`apply_transfers` is a pure, in-memory reference implementation of TigerBeetle's
``create_transfers`` semantics (docs/reference/requests/create_transfers.md and
docs/coding/two-phase-transfers.md) restricted to what custody needs: single transfers,
pending transfers with an optional timeout, posting (fully or partially) and voiding, and
linked chains that apply all-or-nothing. The Django/SQL implementation is tested against
it: the same transfers at the same ``now`` must give the same results and the same balances.

Time is an argument. A pending transfer created at ``now`` with ``timeout`` seconds expires
at ``now + timeout``; from that instant on it cannot be posted or voided
(``pending_transfer_expired``) and its amount is released. Every call first expires what is
due (:func:`expire_pending`), so balances never show a reservation that has lapsed; the
ledger's clock, like TigerBeetle's cluster time, never runs backwards.

"Pure" here means no I/O and no hidden inputs: the only effect is on the
:class:`~custody.ledger_state.Ledger` passed in. A refused transfer changes nothing, and a refused
chain member undoes the members before it.
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from custody.ledger import AccountFlags, Balance, TransferCode, is_allowed
from custody.ledger_state import AcceptedTransfer, Ledger, PendingState, sweepable
from custody.money import AMOUNT_MAX
from custody.transfers import (
    SUCCESSFUL,
    TIMEOUT_MAX,
    Transfer,
    TransferFlags,
    TransferResult,
    linked_chains,
)

_R = TransferResult
_PHASES = (
    TransferFlags.PENDING
    | TransferFlags.POST_PENDING_TRANSFER
    | TransferFlags.VOID_PENDING_TRANSFER
)
# Flags as plain ints on the hot path: every ``&`` of two Flag members builds a new member.
_PHASE_BITS = _PHASES.value
_PENDING_BITS = TransferFlags.PENDING.value
_VOID_BITS = TransferFlags.VOID_PENDING_TRANSFER.value
_DEBITS_MUST_NOT_EXCEED_CREDITS = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS.value
_CREDITS_MUST_NOT_EXCEED_DEBITS = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS.value


@dataclass(slots=True)
class _Journal:
    """What a chain changed so far, to undo it when a later member fails."""

    balances: dict[str, Balance] = field(default_factory=dict)
    pending_states: dict[str, PendingState | None] = field(default_factory=dict)
    record_ids: list[str] = field(default_factory=list)

    def rollback(self, ledger: Ledger) -> None:
        ledger.balances.update(self.balances)
        for pending_id, state in self.pending_states.items():
            if state is None:
                del ledger.pending_states[pending_id]
            else:
                ledger.pending_states[pending_id] = state
        for record_id in reversed(self.record_ids):
            del ledger.records[record_id]


def apply_transfers(
    ledger: Ledger, transfers: Sequence[Transfer], now: datetime
) -> list[TransferResult]:
    """Apply ``transfers`` in order at ``now``; one result per transfer, in the same order.

    A run of transfers with ``flags.linked`` set, closed by the first one without it, is a
    chain: if any member is refused, the members before it are undone, the refused member
    reports its own result and every other member ``linked_event_failed``. A chain left open
    at the end of the batch fails entirely, its last member with ``linked_event_chain_open``.
    """
    expire_pending(ledger, now)
    results: list[TransferResult] = [_R.LINKED_EVENT_FAILED] * len(transfers)
    start = 0
    for chain, closed in linked_chains(transfers):
        if not closed:
            results[-1] = _R.LINKED_EVENT_CHAIN_OPEN
            break
        journal = _Journal()
        for offset, transfer in enumerate(chain):
            result = _apply_one(ledger, transfer, now, journal)
            if result not in SUCCESSFUL:
                journal.rollback(ledger)
                results[start : start + len(chain)] = [_R.LINKED_EVENT_FAILED] * len(chain)
                results[start + offset] = result
                break
            results[start + offset] = result
        start += len(chain)
    return results


def expire_pending(ledger: Ledger, now: datetime) -> list[str]:
    """Release every pending transfer whose deadline is at or before ``now``; their ids.

    TigerBeetle expires in the background; here expiry happens when time is observed, which
    gives the same balances at every instant a caller can look at.
    """
    _advance_clock(ledger, now)
    expired = []
    while ledger.expiries and ledger.expiries[0][0] <= now:
        expires_at, pending_id = heapq.heappop(ledger.expiries)
        record = ledger.records.get(pending_id)
        if record is None or record.expires_at != expires_at:
            continue
        if ledger.pending_states.get(pending_id) != PendingState.PENDING:
            continue
        _release(ledger, None, record)
        ledger.pending_states[pending_id] = PendingState.EXPIRED
        expired.append(pending_id)
    return expired


def _advance_clock(ledger: Ledger, now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("now must be an aware UTC datetime")
    if ledger.clock is not None and now < ledger.clock:
        raise ValueError(f"the ledger clock must not run backwards ({now} < {ledger.clock})")
    ledger.clock = now


def _apply_one(
    ledger: Ledger, transfer: Transfer, now: datetime, journal: _Journal
) -> TransferResult:
    existing = ledger.records.get(transfer.id)
    if existing is not None:
        same = existing.transfer == transfer
        return _R.EXISTS if same else _R.EXISTS_WITH_DIFFERENT_FIELDS
    refusal = _validate(transfer)
    if refusal is not None:
        return refusal
    if transfer.resolves_pending:
        return _resolve_pending(ledger, transfer, now, journal)
    return _create(ledger, transfer, now, journal)


def _validate(transfer: Transfer) -> TransferResult | None:
    """The checks that need nothing but the request itself, in precedence order."""
    if not transfer.id:
        return _R.ID_MUST_NOT_BE_EMPTY
    phases = transfer.flags.value & _PHASE_BITS
    if phases & (phases - 1):
        return _R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    same_accounts = transfer.debit_account_id == transfer.credit_account_id
    if not transfer.resolves_pending and transfer.debit_account_id and same_accounts:
        return _R.ACCOUNTS_MUST_BE_DIFFERENT
    pending = bool(transfer.flags.value & _PENDING_BITS)
    if transfer.resolves_pending:
        if not transfer.pending_id:
            return _R.PENDING_ID_MUST_NOT_BE_EMPTY
        if transfer.pending_id == transfer.id:
            return _R.PENDING_ID_MUST_BE_DIFFERENT
    elif transfer.pending_id:
        return _R.PENDING_ID_MUST_BE_EMPTY
    if transfer.timeout and not pending:
        return _R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
    if transfer.timeout < 0:
        return _R.TIMEOUT_MUST_NOT_BE_NEGATIVE
    if transfer.timeout > TIMEOUT_MAX:
        return _R.OVERFLOWS_TIMEOUT
    if transfer.amount < 0:
        return _R.AMOUNT_MUST_NOT_BE_NEGATIVE
    if transfer.amount > AMOUNT_MAX:
        return _R.AMOUNT_MUST_NOT_EXCEED_MAX
    if transfer.resolves_pending:
        return None
    if transfer.amount == 0:
        return _R.AMOUNT_MUST_NOT_BE_ZERO
    if not transfer.asset:
        return _R.ASSET_MUST_NOT_BE_EMPTY
    if not transfer.code:
        return _R.CODE_MUST_NOT_BE_EMPTY
    return None


def _create(ledger: Ledger, transfer: Transfer, now: datetime, journal: _Journal) -> TransferResult:
    """A single-phase or a pending transfer: check against the accounts, then book it."""
    debit = ledger.accounts.get(transfer.debit_account_id or "")
    if debit is None:
        return _R.DEBIT_ACCOUNT_NOT_FOUND
    credit = ledger.accounts.get(transfer.credit_account_id or "")
    if credit is None:
        return _R.CREDIT_ACCOUNT_NOT_FOUND
    if debit.asset != credit.asset:
        return _R.ACCOUNTS_MUST_HAVE_THE_SAME_ASSET
    if transfer.asset != debit.asset:
        return _R.TRANSFER_MUST_HAVE_THE_SAME_ASSET_AS_ACCOUNTS
    code = transfer.code
    assert code is not None
    if not is_allowed(debit.kind, credit.kind, code):
        return _R.SEGREGATION_VIOLATION
    amount = transfer.amount
    dr = ledger.balances[debit.id]
    cr = ledger.balances[credit.id]
    debits = dr.debits_pending + dr.debits_posted + amount
    credits = cr.credits_pending + cr.credits_posted + amount
    if debits > AMOUNT_MAX:
        return _R.OVERFLOWS_DEBITS
    if credits > AMOUNT_MAX:
        return _R.OVERFLOWS_CREDITS
    if debit.flags.value & _DEBITS_MUST_NOT_EXCEED_CREDITS and debits > dr.credits_posted:
        return _R.EXCEEDS_CREDITS
    if credit.flags.value & _CREDITS_MUST_NOT_EXCEED_DEBITS and credits > cr.debits_posted:
        return _R.EXCEEDS_DEBITS
    if code is TransferCode.SWEEP and amount > sweepable(ledger, debit.asset):
        return _R.EXCEEDS_SEGREGATION_EXCESS

    pending = bool(transfer.flags.value & _PENDING_BITS)
    expires_at = now + timedelta(seconds=transfer.timeout) if transfer.timeout else None
    journal.balances.setdefault(debit.id, dr)
    journal.balances.setdefault(credit.id, cr)
    if pending:
        ledger.balances[debit.id] = _add(dr, debits_pending=amount)
        ledger.balances[credit.id] = _add(cr, credits_pending=amount)
        journal.pending_states[transfer.id] = None
        ledger.pending_states[transfer.id] = PendingState.PENDING
        if expires_at is not None:
            heapq.heappush(ledger.expiries, (expires_at, transfer.id))
    else:
        ledger.balances[debit.id] = _add(dr, debits_posted=amount)
        ledger.balances[credit.id] = _add(cr, credits_posted=amount)
    _record(ledger, journal, transfer, debit.id, credit.id, code, amount, now, expires_at)
    return _R.OK


def _resolve_pending(
    ledger: Ledger, transfer: Transfer, now: datetime, journal: _Journal
) -> TransferResult:
    """A post or a void: the second phase (docs/coding/two-phase-transfers.md)."""
    pending = ledger.records.get(transfer.pending_id or "")
    if pending is None:
        return _R.PENDING_TRANSFER_NOT_FOUND
    if not pending.transfer.flags.value & _PENDING_BITS:
        return _R.PENDING_TRANSFER_NOT_PENDING
    if transfer.debit_account_id not in (None, pending.debit_account_id):
        return _R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID
    if transfer.credit_account_id not in (None, pending.credit_account_id):
        return _R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID
    if transfer.asset not in (None, pending.asset):
        return _R.PENDING_TRANSFER_HAS_DIFFERENT_ASSET
    if transfer.code not in (None, pending.code):
        return _R.PENDING_TRANSFER_HAS_DIFFERENT_CODE
    amount = transfer.amount or pending.amount
    if amount > pending.amount:
        return _R.EXCEEDS_PENDING_TRANSFER_AMOUNT
    voiding = bool(transfer.flags.value & _VOID_BITS)
    if voiding and amount != pending.amount:
        return _R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT
    state = ledger.pending_states[pending.transfer.id]
    if state == PendingState.POSTED:
        return _R.PENDING_TRANSFER_ALREADY_POSTED
    if state == PendingState.VOIDED:
        return _R.PENDING_TRANSFER_ALREADY_VOIDED
    if state == PendingState.EXPIRED:
        return _R.PENDING_TRANSFER_EXPIRED

    _release(ledger, journal, pending)
    if not voiding:
        debit_id, credit_id = pending.debit_account_id, pending.credit_account_id
        ledger.balances[debit_id] = _add(ledger.balances[debit_id], debits_posted=amount)
        ledger.balances[credit_id] = _add(ledger.balances[credit_id], credits_posted=amount)
    journal.pending_states.setdefault(pending.transfer.id, state)
    ledger.pending_states[pending.transfer.id] = (
        PendingState.VOIDED if voiding else PendingState.POSTED
    )
    _record(
        ledger,
        journal,
        transfer,
        pending.debit_account_id,
        pending.credit_account_id,
        pending.code,
        amount,
        now,
        None,
    )
    return _R.OK


def _release(ledger: Ledger, journal: _Journal | None, pending: AcceptedTransfer) -> None:
    """Take a pending transfer's full amount out of both accounts' pending counters."""
    debit_id, credit_id, amount = (
        pending.debit_account_id,
        pending.credit_account_id,
        pending.amount,
    )
    dr, cr = ledger.balances[debit_id], ledger.balances[credit_id]
    if journal is not None:
        journal.balances.setdefault(debit_id, dr)
        journal.balances.setdefault(credit_id, cr)
    ledger.balances[debit_id] = _add(dr, debits_pending=-amount)
    ledger.balances[credit_id] = _add(cr, credits_pending=-amount)


def _add(
    balance: Balance,
    *,
    debits_pending: int = 0,
    debits_posted: int = 0,
    credits_pending: int = 0,
    credits_posted: int = 0,
) -> Balance:
    return Balance(
        balance.debits_pending + debits_pending,
        balance.debits_posted + debits_posted,
        balance.credits_pending + credits_pending,
        balance.credits_posted + credits_posted,
    )


def _record(
    ledger: Ledger,
    journal: _Journal,
    transfer: Transfer,
    debit_id: str,
    credit_id: str,
    code: TransferCode,
    amount: int,
    now: datetime,
    expires_at: datetime | None,
) -> None:
    ledger.records[transfer.id] = AcceptedTransfer(
        transfer=transfer,
        sequence=len(ledger.records) + 1,
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        asset=ledger.accounts[debit_id].asset,
        code=code,
        amount=amount,
        created_at=now,
        expires_at=expires_at,
    )
    journal.record_ids.append(transfer.id)
