"""A small standard book of accounts, and terse constructors for transfers, for the tests."""

from dataclasses import replace
from datetime import UTC, datetime

from custody.ledger import Account, AccountKind, TransferCode
from custody.ledger_state import Ledger
from custody.transfers import Transfer, TransferFlags

NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)

ACCOUNTS = {
    "alice": AccountKind.CLIENT_LIABILITY,
    "bob": AccountKind.CLIENT_LIABILITY,
    "clearing": AccountKind.CLEARING,
    "wallet-a": AccountKind.CUSTODY_WALLET,
    "wallet-b": AccountKind.CUSTODY_WALLET,
    "suspense": AccountKind.SUSPENSE,
    "fees": AccountKind.HOUSE_REVENUE,
    "insurance": AccountKind.INSURANCE_FUND,
    "house-wallet": AccountKind.HOUSE_WALLET,
}
"""One account of each kind (two clients, two custody wallets) in each asset of :func:`book`."""


def account_id(name: str, asset: str = "USDC") -> str:
    return name if asset == "USDC" else f"{name}:{asset}"


def book(assets: tuple[str, ...] = ("USDC",)) -> Ledger:
    ledger = Ledger()
    for asset in assets:
        for name, kind in ACCOUNTS.items():
            ledger.open(Account.open(account_id(name, asset), asset, kind))
    return ledger


def single(
    id: str,
    debit: str,
    credit: str,
    amount: int,
    code: TransferCode,
    *,
    asset: str = "USDC",
    flags: TransferFlags = TransferFlags.NONE,
    timeout: int = 0,
) -> Transfer:
    return Transfer(
        id=id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        asset=asset,
        code=code,
        flags=flags,
        timeout=timeout,
    )


def pending(
    id: str,
    debit: str,
    credit: str,
    amount: int,
    code: TransferCode,
    *,
    timeout: int = 0,
    asset: str = "USDC",
) -> Transfer:
    return single(
        id, debit, credit, amount, code, asset=asset, flags=TransferFlags.PENDING, timeout=timeout
    )


def linked(transfer: Transfer) -> Transfer:
    return replace(transfer, flags=transfer.flags | TransferFlags.LINKED)
