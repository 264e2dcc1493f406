"""What the ledger announces, for parts it must not import (risk, compliance).

Every signal is sent after the commit that caused it (``transaction.on_commit``, robust: a
failing receiver is logged and cannot undo a posted transfer), so a receiver never sees a
change that was rolled back. Receivers connect in their own ``AppConfig.ready``; custody
never knows who listens. Amounts are decimal strings in the asset's scale.

- ``balance_changed(account_id, asset)``: a client's balance in ``asset`` changed (deposit,
  withdrawal, reservation, post, void, expiry, settlement...). Risk re-reads
  ``custody.selectors.client_balances`` to mirror available collateral into Redis.
- ``large_withdrawal(transfer_id, account_id, asset, amount, wallet, pending)``: a withdrawal
  at or above ``LARGE_WITHDRAWAL_THRESHOLD`` for its asset was booked (single or pending).
- ``reconciliation_break(break_id, custodian, wallet, asset, amount, statement_amount,
  ledger_amount, as_of)``: a custodian statement disagrees with the ledger.
- ``segregation_shortfall(asset, excess, transfer_ids)``: a batch of transfers left segregated
  assets below client claims (``excess`` is negative) and made it worse.
"""

from django.dispatch import Signal

balance_changed = Signal()
large_withdrawal = Signal()
reconciliation_break = Signal()
segregation_shortfall = Signal()
