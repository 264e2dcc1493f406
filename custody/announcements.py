"""What a committed batch announces (custody/signals.py), decided inside its transaction and
sent after the commit.

- the new balance of every client account whose counters changed → ``balances_changed``,
  once per batch;
- every withdrawal from a client (single or pending) at or above its asset's
  ``LARGE_WITHDRAWAL_THRESHOLD`` → ``large_withdrawal``;
- a batch that posted value across the wall (or through suspense) and left segregated
  holdings below client claims, lowering the excess → ``segregation_shortfall``. The excess
  comes from the venue's few accounts (``selectors.excess_from_house_side``), so noticing a
  shortfall never sums the client accounts.
"""

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction

from custody import signals
from custody.identifiers import parse_ref
from custody.ledger import SIDE, Account, AccountKind, Balance, Side, TransferCode, balance_view
from custody.models import Transfer
from custody.money import ASSETS, from_minor, to_minor
from custody.selectors import excess_from_house_side
from custody.transfers import TransferFlags

DEFAULT_LARGE_WITHDRAWAL = {
    "USDC": "100000",
    "USDT": "100000",
    "USD": "100000",
    "USTB": "100000",
    "BTC": "2",
    "ETH": "30",
}
"""About USD 100,000 per asset: the level at which a withdrawal is worth an officer's look."""

# A row's flags are a plain int: tested as ints (Flag arithmetic builds a member each time).
_RESOLVING = (TransferFlags.POST_PENDING_TRANSFER | TransferFlags.VOID_PENDING_TRANSFER).value
_NOT_POSTING = (TransferFlags.PENDING | TransferFlags.VOID_PENDING_TRANSFER).value
_PENDING = TransferFlags.PENDING.value


def large_withdrawal_thresholds() -> dict[str, int]:
    """``LARGE_WITHDRAWAL_THRESHOLD``: ``{asset: "decimal"}`` in each asset's own units."""
    configured = getattr(settings, "LARGE_WITHDRAWAL_THRESHOLD", None) or DEFAULT_LARGE_WITHDRAWAL
    return {
        asset: to_minor(asset, str(amount))
        for asset, amount in configured.items()
        if asset in ASSETS
    }


def announce(
    accounts: Mapping[str, Account], changed: Mapping[str, Balance], rows: Iterable
) -> None:
    """Queue the batch's signals for after its commit."""
    balances = []
    for ref, balance in changed.items():
        account = accounts[ref]
        if account.kind is AccountKind.CLIENT_LIABILITY:
            view = balance_view(account, balance)
            change = signals.ClientBalanceChange(
                parse_ref(ref)[1], account.asset, view.available, view.reserved
            )
            balances.append(change)
    if balances:
        _after_commit(signals.balances_changed, balances=balances)
    thresholds = None  # read from the settings at the first withdrawal from a client
    crossing: dict[str, list] = {}
    for row in rows:
        debit, credit = accounts[row.debit_account_id], accounts[row.credit_account_id]
        flags = row.flags
        if (
            row.code == TransferCode.WITHDRAWAL
            and debit.kind is AccountKind.CLIENT_LIABILITY
            and not flags & _RESOLVING
        ):
            if thresholds is None:
                thresholds = large_withdrawal_thresholds()
            if row.amount >= thresholds.get(row.asset_id, row.amount + 1):
                _after_commit(
                    signals.large_withdrawal,
                    transfer_id=row.transfer_id,
                    account_id=parse_ref(debit.id)[1],
                    asset=row.asset_id,
                    amount=from_minor(row.asset_id, row.amount),
                    wallet=parse_ref(credit.id)[1],
                    pending=bool(flags & _PENDING),
                )
        through_suspense = AccountKind.SUSPENSE in (debit.kind, credit.kind)
        if not flags & _NOT_POSTING and (
            SIDE[debit.kind] is not SIDE[credit.kind] or through_suspense
        ):
            crossing.setdefault(row.asset_id, []).append((row, debit, credit))
    for asset, moved in crossing.items():
        change = sum(_excess_change(row, debit, credit) for row, debit, credit in moved)
        excess = excess_from_house_side(asset)
        if excess < 0 and change < 0:
            _after_commit(
                signals.segregation_shortfall,
                asset=asset,
                excess=from_minor(asset, excess),
                transfer_ids=[row.transfer_id for row, _, _ in moved],
            )


def _excess_change(row, debit: Account, credit: Account) -> int:
    """How a posted row moved holdings minus claims (custody.ledger_state's rule: debiting a
    client-side account raises the excess, crediting one lowers it)."""
    change = 0
    if SIDE[debit.kind] is Side.CLIENT:
        change += row.amount
    if SIDE[credit.kind] is Side.CLIENT:
        change -= row.amount
    return change


def _after_commit(signal, **kwargs) -> None:
    transaction.on_commit(lambda: signal.send(sender=Transfer, **kwargs), robust=True)
