"""Refusals in words: the message stored with a refused transfer and shown to the client.

The numbers that decided a refusal (what was available, what the wall allows) are read from
the batch's ledger at the moment of the refusal and stored with it, so a repeated request
gets exactly the first answer even after the balances have moved on.
"""

from custody.book import Ledger
from custody.errors import SegregationViolation
from custody.ledger import (
    DEBIT_NORMAL,
    Account,
    AccountKind,
    TransferCode,
    balance_view,
    check_segregation,
)
from custody.money import ASSETS, from_minor
from custody.refs import parse_ref
from custody.transfers import Transfer, TransferResult

_R = TransferResult


def explain(ledger: Ledger, transfer: Transfer, result: TransferResult) -> str:
    """A refusal in words, with the numbers that decided it (stored with the refusal)."""
    asset = transfer.asset if transfer.asset in ASSETS else None
    amount = from_minor(asset, transfer.amount) if asset and transfer.amount >= 0 else None
    if result is _R.EXCEEDS_CREDITS:
        account = ledger.accounts[transfer.debit_account_id]
        view = balance_view(account, ledger.balances[account.id])
        return (
            f"{_name(account)} has {from_minor(account.asset, view.available)} {account.asset} "
            f"available ({from_minor(account.asset, view.total)} total, "
            f"{from_minor(account.asset, view.reserved)} reserved); {amount} requested"
        )
    if result is _R.EXCEEDS_DEBITS:
        account = ledger.accounts[transfer.credit_account_id]
        view = balance_view(account, ledger.balances[account.id])
        return (
            f"{_name(account)} holds {from_minor(account.asset, view.available)} "
            f"{account.asset} free of pending transfers; {amount} requested"
        )
    if result is _R.SEGREGATION_VIOLATION:
        debit = ledger.accounts[transfer.debit_account_id]
        credit = ledger.accounts[transfer.credit_account_id]
        try:
            check_segregation(debit.kind, credit.kind, TransferCode(transfer.code))
        except SegregationViolation as refusal:  # the wall's own words (custody.ledger)
            return str(refusal)
    if result is _R.EXCEEDS_SEGREGATION_EXCESS:
        return (
            "a sweep may take only the segregation excess that survives every open pending "
            f"transfer; {amount} requested"
        )
    if result is _R.EXISTS_WITH_DIFFERENT_FIELDS:
        return f"transfer id {transfer.id!r} was already used with a different request"
    if result in (_R.DEBIT_ACCOUNT_NOT_FOUND, _R.CREDIT_ACCOUNT_NOT_FOUND):
        ref = (
            transfer.debit_account_id
            if result is _R.DEBIT_ACCOUNT_NOT_FOUND
            else transfer.credit_account_id
        )
        return f"no ledger account {ref}"
    if result is _R.PENDING_TRANSFER_NOT_FOUND:
        return f"no pending transfer {transfer.pending_id}"
    return f"transfer {transfer.id or '(no id)'} refused: {result.value.replace('_', ' ')}"


def _name(account: Account) -> str:
    kind, owner, _ = parse_ref(account.id)
    if kind is AccountKind.CLIENT_LIABILITY:
        return f"account {owner}"
    if account.kind in DEBIT_NORMAL:
        return f"{kind.value.replace('_', ' ')} {owner}"
    return account.id
