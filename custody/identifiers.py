"""How the ledger names its accounts, and which ids a client may choose.

A ledger account is one owner's position of one kind in one asset, so its id is the triple
written out: ``"client_liability:acc-1:USDC"``, ``"custody_wallet:wallet-a:USDC"``,
``"clearing:venue:USDC"``. The id is the same in the database, in the pure core
(:class:`custody.ledger.Account`) and in the hash chain, so a stored transfer names its
accounts exactly as the specification does, and changing an account's kind behind the
application's back changes its id and breaks every hash that names it. Over HTTP the asset
travels in its own field and accounts are named without it (``"client_liability:acc-1"``).

Owners and client ids are plain ASCII words. An owner may not contain ``:`` (the separator);
a client id may not contain ``#``, which is reserved for ids the ledger makes itself: the
expiry of pending transfer ``X`` is recorded in the chain as ``"X#expiry"``.
"""

import re

from custody.ledger import AccountKind
from custody.money import ASSETS

VENUE = "venue"
"""The owner of each asset's system accounts: clearing, suspense, revenue, insurance fund."""

SYSTEM_KINDS = (
    AccountKind.CLEARING,
    AccountKind.SUSPENSE,
    AccountKind.HOUSE_REVENUE,
    AccountKind.INSURANCE_FUND,
)
"""The kinds opened once per asset for the venue (seeded by a data migration)."""

EXPIRY_SUFFIX = "#expiry"
RELEASE_SUFFIX = "#release"
REFUSAL_SUFFIX = "#refusal"
BLOCKED_SUFFIX = "#blocked"
"""The freeze of a deposit from a listed address (``custody.withdrawals``)."""
_HOLD_DECISION_SUFFIXES = (RELEASE_SUFFIX, REFUSAL_SUFFIX, BLOCKED_SUFFIX)

_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}", re.ASCII)
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}", re.ASCII)
_KINDS = {kind.value: kind for kind in AccountKind}


def account_ref(kind: AccountKind | str, owner: str, asset: str) -> str:
    """The ledger account id of ``owner``'s ``kind`` account in ``asset``."""
    return f"{AccountKind(kind).value}:{owner}:{asset}"


def client_ref(account_id: str, asset: str) -> str:
    return account_ref(AccountKind.CLIENT_LIABILITY, account_id, asset)


def blocked_ref(account_id: str, asset: str) -> str:
    return account_ref(AccountKind.BLOCKED_PROPERTY, account_id, asset)


def wallet_ref(wallet: str, asset: str) -> str:
    return account_ref(AccountKind.CUSTODY_WALLET, wallet, asset)


def venue_ref(kind: AccountKind, asset: str) -> str:
    return account_ref(kind, VENUE, asset)


def parse_ref(ref: str) -> tuple[AccountKind, str, str]:
    """``(kind, owner, asset)`` of a ledger account id; ``ValueError`` when malformed."""
    parts = ref.split(":") if isinstance(ref, str) else []
    if len(parts) != 3 or parts[0] not in _KINDS or parts[2] not in ASSETS:
        raise ValueError(
            f"{ref!r} is not a ledger account id such as 'client_liability:acc-1:USDC'"
        )
    if not is_owner(parts[1]):
        raise ValueError(f"{ref!r} has a malformed owner")
    return _KINDS[parts[0]], parts[1], parts[2]


def parse_short_ref(text: str, asset: str) -> str:
    """The API's ``"kind:owner"`` form plus the transfer's asset → the ledger account id."""
    kind, _, owner = text.partition(":") if isinstance(text, str) else ("", "", "")
    if kind not in _KINDS or not is_owner(owner):
        kinds = ", ".join(_KINDS)
        raise ValueError(
            f"{text!r} is not an account such as 'client_liability:acc-1' (kinds: {kinds})"
        )
    return account_ref(kind, owner, asset)


def short_ref(ref: str) -> str:
    """The API's form of a ledger account id: without the asset."""
    return ref.rsplit(":", 1)[0]


def is_owner(text: object) -> bool:
    return isinstance(text, str) and _OWNER.fullmatch(text) is not None


def is_client_id(text: object) -> bool:
    """Whether a client may use ``text`` as a transfer id (deposit, withdrawal, transfer)."""
    return isinstance(text, str) and _CLIENT_ID.fullmatch(text) is not None


def expiry_id(pending_id: str) -> str:
    """The chain id of the record that a pending transfer lapsed (made by the ledger only)."""
    return pending_id + EXPIRY_SUFFIX


def is_expiry_id(transfer_id: str) -> bool:
    return transfer_id.endswith(EXPIRY_SUFFIX)


def frozen_deposit_id(deposit_id: str) -> str:
    """The id of the pending transfer that freezes a deposit from a listed address: made by
    the ledger's own service, like a hold's decision, so no client can take it first."""
    return deposit_id + BLOCKED_SUFFIX


def hold_decision_id(withdrawal_id: str, *, released: bool) -> str:
    """The id of the post (release) or void (refusal) of a held withdrawal: made by the
    ledger's own service, so no client can take it first with a transfer of their own."""
    return withdrawal_id + (RELEASE_SUFFIX if released else REFUSAL_SUFFIX)


def is_hold_decision_id(transfer_id: object) -> bool:
    if not isinstance(transfer_id, str):
        return False
    for suffix in _HOLD_DECISION_SUFFIXES:
        if transfer_id.endswith(suffix):
            return is_client_id(transfer_id[: -len(suffix)])
    return False
