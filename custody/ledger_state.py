"""The ledger's state, and what can be derived from it without applying anything.

:class:`Ledger` is the in-memory book that :func:`custody.posting.apply_transfers` reads and
writes: accounts, each account's four counters, the accepted transfers in acceptance order,
and the state of every pending transfer. It is the one mutable object of the custody core;
values inside it are frozen. The derivations here are the specification of three things the
database side must reproduce: balances recomputed from transfers (``verify_ledger``), the
segregation position (the segregation statement), and the most a sweep may take.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime

from custody.ledger import Account, AccountKind, Balance, TransferCode
from custody.transfers import Transfer, TransferFlags

_CLAIM_KINDS = frozenset({AccountKind.CLIENT_LIABILITY, AccountKind.CLEARING, AccountKind.SUSPENSE})


class PendingState(enum.StrEnum):
    """Where a pending transfer stands; a pending transfer is resolved at most once."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class AcceptedTransfer:
    """An accepted transfer: the request as submitted, and what it resolved to.

    For a post or void the accounts, asset and code are the pending transfer's and
    ``amount`` is the amount posted (a void: the amount released), as TigerBeetle stores it.
    ``sequence`` is the acceptance order, the order of the hash chain.
    """

    transfer: Transfer
    sequence: int
    debit_account_id: str
    credit_account_id: str
    asset: str
    code: TransferCode
    amount: int
    created_at: datetime
    expires_at: datetime | None


@dataclass(slots=True)
class Ledger:
    """The in-memory book that :func:`apply_transfers` reads and writes."""

    accounts: dict[str, Account] = field(default_factory=dict)
    balances: dict[str, Balance] = field(default_factory=dict)
    records: dict[str, AcceptedTransfer] = field(default_factory=dict)
    pending_states: dict[str, PendingState] = field(default_factory=dict)
    clock: datetime | None = None
    expiries: list[tuple[datetime, str]] = field(default_factory=list)

    def open(self, account: Account) -> None:
        """Add an account with zero balances; reopening an identical account is a no-op."""
        existing = self.accounts.get(account.id)
        if existing is not None and existing != account:
            raise ValueError(f"account {account.id} exists with different fields")
        if existing is None:
            self.accounts[account.id] = account
            self.balances[account.id] = Balance()

    def copy(self) -> "Ledger":
        """A copy to try transfers on (the values inside are frozen, so a shallow one)."""
        return Ledger(
            accounts=dict(self.accounts),
            balances=dict(self.balances),
            records=dict(self.records),
            pending_states=dict(self.pending_states),
            clock=self.clock,
            expiries=list(self.expiries),
        )


def recompute_balances(ledger: Ledger) -> dict[str, Balance]:
    """Every account's counters recomputed from the accepted transfers alone.

    This is what ``verify_ledger`` does against the stored balances: replay singles and
    pendings, let each post or void release its pending transfer, release what expired.
    """
    counters = {account_id: [0, 0, 0, 0] for account_id in ledger.accounts}
    for record in ledger.records.values():
        debit, credit = counters[record.debit_account_id], counters[record.credit_account_id]
        flags = record.transfer.flags
        if flags & TransferFlags.PENDING:
            debit[0] += record.amount
            credit[2] += record.amount
            continue
        if record.transfer.resolves_pending:
            released = ledger.records[record.transfer.pending_id or ""].amount
            debit[0] -= released
            credit[2] -= released
            if flags & TransferFlags.VOID_PENDING_TRANSFER:
                continue
        debit[1] += record.amount
        credit[3] += record.amount
    for pending_id, state in ledger.pending_states.items():
        if state == PendingState.EXPIRED:
            record = ledger.records[pending_id]
            counters[record.debit_account_id][0] -= record.amount
            counters[record.credit_account_id][2] -= record.amount
    return {account_id: Balance(*values) for account_id, values in counters.items()}


@dataclass(frozen=True, slots=True)
class SegregationPosition:
    """Client claims against segregated holdings in one asset, in minor units.

    ``excess`` is negative when there is a shortfall. ``sweepable`` is the excess that
    survives every open pending transfer (:func:`sweepable`).
    """

    asset: str
    client_liabilities: int
    segregated_assets: int
    excess: int
    sweepable: int


def segregation_position(ledger: Ledger, asset: str) -> SegregationPosition:
    """The segregation statement as of the ledger's state (posted amounts)."""
    liabilities = holdings = 0
    for account in ledger.accounts.values():
        if account.asset != asset:
            continue
        balance = ledger.balances[account.id]
        signed = balance.credits_posted - balance.debits_posted
        if account.kind is AccountKind.CUSTODY_WALLET:
            holdings -= signed
        elif account.kind is AccountKind.SUSPENSE:
            liabilities += max(0, signed)
        elif account.kind in _CLAIM_KINDS:
            liabilities += signed
    excess = holdings - liabilities
    at_risk = 0
    for pending_id, state in ledger.pending_states.items():
        record = ledger.records[pending_id]
        if state == PendingState.PENDING and record.asset == asset:
            at_risk += min(0, _excess_change(ledger, record))
    return SegregationPosition(
        asset=asset,
        client_liabilities=liabilities,
        segregated_assets=holdings,
        excess=excess,
        sweepable=excess + at_risk,
    )


def sweepable(ledger: Ledger, asset: str) -> int:
    """Segregation excess that survives every open pending transfer: the most a sweep may take.

    Posted excess is segregated holdings (custody wallets) minus client claims (client
    liabilities, clearing, and suspense where it holds unattributed money). Each pending
    transfer could still post; those that would lower the excess if posted (a pending payout
    to a client, a pending sweep) are deducted as if posted, those that would raise it are
    ignored. A pending withdrawal moves holdings and claims together and so counts as zero.
    """
    return segregation_position(ledger, asset).sweepable


def _excess_change(ledger: Ledger, record: AcceptedTransfer) -> int:
    """How posting ``record`` would change holdings minus claims."""
    debit_kind = ledger.accounts[record.debit_account_id].kind
    credit_kind = ledger.accounts[record.credit_account_id].kind
    change = 0
    if debit_kind is AccountKind.CUSTODY_WALLET:
        change += record.amount
    if credit_kind is AccountKind.CUSTODY_WALLET:
        change -= record.amount
    if debit_kind in _CLAIM_KINDS:
        change += record.amount
    if credit_kind in _CLAIM_KINDS:
        change -= record.amount
    return change
