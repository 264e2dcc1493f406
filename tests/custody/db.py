"""The database ledger next to the pure specification, for tests that compare the two.

:class:`Twin` applies every batch through ``custody.writer.create_transfers`` (SQL) and
through ``custody.posting.apply_transfers`` (the executable specification) and asserts that
both give the same results and the same four counters on every account.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from custody.identifiers import SYSTEM_KINDS, VENUE, account_ref, venue_ref
from custody.ledger import REQUIRED_FLAGS, Account, AccountFlags, AccountKind, Balance
from custody.ledger_state import Ledger
from custody.models import (
    Asset,
    LedgerAccount,
    LedgerCheckpoint,
    OpenPending,
    Transfer,
    TransferRefusal,
)
from custody.money import ASSETS
from custody.posting import apply_transfers
from custody.transfers import Transfer as Request
from custody.transfers import TransferResult
from custody.writer import create_transfers

BOOK_NAMES = {
    "alice": (AccountKind.CLIENT_LIABILITY, "alice"),
    "bob": (AccountKind.CLIENT_LIABILITY, "bob"),
    "carol": (AccountKind.CLIENT_LIABILITY, "carol"),
    "clearing": (AccountKind.CLEARING, VENUE),
    "wallet-a": (AccountKind.CUSTODY_WALLET, "wallet-a"),
    "wallet-b": (AccountKind.CUSTODY_WALLET, "wallet-b"),
    "wallet-z": (AccountKind.CUSTODY_WALLET, "wallet-z"),
    "suspense": (AccountKind.SUSPENSE, VENUE),
    "fees": (AccountKind.HOUSE_REVENUE, VENUE),
    "insurance": (AccountKind.INSURANCE_FUND, VENUE),
    "house-wallet": (AccountKind.HOUSE_WALLET, "house-wallet"),
}
"""tests/custody/books.py's account names → the database's accounts (carol and wallet-z
are never opened: they exist to be not found)."""

OPENED = ("alice", "bob", "wallet-a", "wallet-b", "house-wallet")


def db_ref(name: str | None) -> str | None:
    """``"alice"`` → ``"client_liability:alice:USDC"``; ``"wallet-a:BTC"`` → its BTC wallet."""
    if name is None:
        return None
    base, _, asset = name.partition(":")
    kind, owner = BOOK_NAMES[base]
    return account_ref(kind, owner, asset or "USDC")


def to_db(transfer: Request) -> Request:
    return replace(
        transfer,
        debit_account_id=db_ref(transfer.debit_account_id),
        credit_account_id=db_ref(transfer.credit_account_id),
    )


def ensure_seeded() -> None:
    """The rows migration 0002 seeds (a transactional test's flush removes them)."""
    for code, asset in ASSETS.items():
        Asset.objects.get_or_create(code=code, defaults={"scale": asset.scale})
        for kind in SYSTEM_KINDS:
            _account_row(venue_ref(kind, code))


def _account_row(ref: str) -> None:
    kind_text, owner, asset = ref.split(":")
    kind = AccountKind(kind_text)
    flags = REQUIRED_FLAGS[kind]
    LedgerAccount.objects.get_or_create(
        id=ref,
        defaults={
            "kind": kind.value,
            "owner": owner,
            "asset_id": asset,
            "debits_must_not_exceed_credits": bool(
                flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            ),
            "credits_must_not_exceed_debits": bool(
                flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            ),
            "opened_at": datetime(2026, 1, 1).astimezone(),
        },
    )


def reset_ledger() -> None:
    """Empty the ledger inside the current test transaction (one hypothesis example each)."""
    for model in (OpenPending, TransferRefusal, LedgerCheckpoint, Transfer):
        model.objects.all().delete()
    LedgerAccount.objects.exclude(owner=VENUE).delete()
    LedgerAccount.objects.update(
        debits_pending=0, debits_posted=0, credits_pending=0, credits_posted=0
    )
    ensure_seeded()


def db_balances() -> dict[str, Balance]:
    return {
        ref: Balance(*counters)
        for ref, *counters in LedgerAccount.objects.values_list(
            "id", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
        )
    }


class Twin:
    """The database ledger and the specification, fed the same batches at the same times."""

    def __init__(self, assets: tuple[str, ...] = ("USDC", "BTC"), opened=OPENED) -> None:
        self.spec = Ledger()
        for ref in LedgerAccount.objects.values_list("id", flat=True):
            self._open_spec(ref)
        self.refs = [db_ref(f"{name}:{asset}") for asset in assets for name in opened]

    def _open_spec(self, ref: str) -> None:
        kind_text, _, asset = ref.split(":")
        self.spec.open(Account.open(ref, asset, AccountKind(kind_text)))

    def open(self, now: datetime) -> None:
        create_transfers(transfers=[], now=now, open_accounts=self.refs)
        for ref in self.refs:
            self._open_spec(ref)

    def apply(self, batch: list[Request], now: datetime) -> list[TransferResult]:
        outcomes = create_transfers(transfers=batch, now=now)
        db_results = [outcome.result for outcome in outcomes]
        spec_results = apply_transfers(self.spec, batch, now)
        assert db_results == spec_results, (batch, db_results, spec_results)
        self.assert_same_balances()
        return db_results

    def assert_same_balances(self) -> None:
        stored = db_balances()
        assert stored == {ref: self.spec.balances[ref] for ref in stored}
