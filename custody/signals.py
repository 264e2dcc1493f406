"""What the ledger announces, for parts it must not import (risk, compliance).

Every signal is sent after the commit that caused it (``transaction.on_commit``, robust: a
failing receiver is logged and cannot undo a posted transfer), so a receiver never sees a
change that was rolled back. Receivers connect in their own ``AppConfig.ready``; custody
never knows who listens. Amounts are decimal strings in the asset's scale.

- ``balances_changed(balances)``: once per committed batch, the new balance of every client
  account the batch changed (deposit, withdrawal, reservation, post, void, expiry,
  settlement...), as ``ClientBalanceChange(account_id, asset, available)`` in minor units.
  The writer already holds the new counters, so a receiver needs no query to learn them;
  risk mirrors available collateral into Redis in one pipeline per batch.
- ``large_withdrawal(transfer_id, account_id, asset, amount, wallet, pending)``: a withdrawal
  at or above ``LARGE_WITHDRAWAL_THRESHOLD`` for its asset was booked (single or pending).
- ``deposit_flagged(transfer_id, account_id, asset, amount, effect, reasons, decision_id)``:
  a deposit was booked that the gates would ``deny`` or ``review`` (custody.withdrawals);
  ``reasons`` are the gate's contract reasons, naming the rule. Sent after the booking.
- ``reconciliation_break(break_id, custodian, wallet, asset, amount, statement_amount,
  ledger_amount, as_of)``: a custodian statement disagrees with the ledger.
- ``segregation_shortfall(asset, excess, transfer_ids)``: a batch of transfers left segregated
  assets below client claims (``excess`` is negative) and made it worse.
"""

from typing import NamedTuple

from django.dispatch import Signal


class ClientBalanceChange(NamedTuple):
    account_id: str
    asset: str
    available: int
    """Minor units: posted credits less posted and pending debits."""
    reserved: int
    """Minor units: the pending debits (margin holds among them)."""


balances_changed = Signal()
deposit_flagged = Signal()
large_withdrawal = Signal()
reconciliation_break = Signal()
segregation_shortfall = Signal()
