"""Every write to the ledger's transfers: one keyword-only function per use case.

All of them go through :func:`custody.writer.create_transfers` (one serialised, durable
transaction per call; see its docstring for the concurrency design). Single-transfer use
cases (deposit, withdrawal, one transfer, a manual adjustment) raise :class:`TransferRefused`
with the contract code when the ledger refuses; batch use cases (margin reservations and
their posts and voids, ``create_transfers``) return one :class:`TransferOutcome` per item
and never raise for a refusal, so a caller mirroring thousands of reservations handles each
answer on its own.

Statements and reconciliation are in custody/reconciliation.py, proof-of-reserves
publication in custody/publication.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core import audit
from core.errors import GatehouseError
from custody.identifiers import account_ref, client_ref, venue_ref, wallet_ref
from custody.ledger import AccountKind, TransferCode
from custody.transfers import Transfer, TransferFlags, TransferResult
from custody.writer import TransferOutcome, create_transfers, expire_pending_transfers

__all__ = [
    "FourEyesRequired",
    "MarginPost",
    "MarginReservation",
    "MarginVoid",
    "TransferOutcome",
    "TransferRefused",
    "create_transfers",
    "deposit",
    "expire_pending_transfers",
    "manual_adjustment",
    "open_account",
    "post_margin",
    "reserve_margin",
    "transfer",
    "void_margin",
    "withdraw",
]

_STATUS = {
    "VALIDATION_ERROR": 400,
    "NOT_FOUND": 404,
    "IDEMPOTENCY_CONFLICT": 409,
    "PENDING_TRANSFER_CLOSED": 422,
    "INSUFFICIENT_FUNDS": 422,
    "SEGREGATION_VIOLATION": 422,
}
_R = TransferResult
_FIELD = {
    _R.EXISTS_WITH_DIFFERENT_FIELDS: "id",
    _R.ID_MUST_NOT_BE_EMPTY: "id",
    _R.FLAGS_ARE_MUTUALLY_EXCLUSIVE: "flags",
    _R.ACCOUNTS_MUST_BE_DIFFERENT: "credit_account",
    _R.PENDING_ID_MUST_BE_EMPTY: "pending_id",
    _R.PENDING_ID_MUST_NOT_BE_EMPTY: "pending_id",
    _R.PENDING_ID_MUST_BE_DIFFERENT: "pending_id",
    _R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER: "timeout",
    _R.TIMEOUT_MUST_NOT_BE_NEGATIVE: "timeout",
    _R.OVERFLOWS_TIMEOUT: "timeout",
    _R.AMOUNT_MUST_NOT_BE_NEGATIVE: "amount",
    _R.AMOUNT_MUST_NOT_EXCEED_MAX: "amount",
    _R.AMOUNT_MUST_NOT_BE_ZERO: "amount",
    _R.ASSET_MUST_NOT_BE_EMPTY: "asset",
    _R.CODE_MUST_NOT_BE_EMPTY: "code",
    _R.DEBIT_ACCOUNT_NOT_FOUND: "debit_account",
    _R.CREDIT_ACCOUNT_NOT_FOUND: "credit_account",
    _R.ACCOUNTS_MUST_HAVE_THE_SAME_ASSET: "credit_account",
    _R.TRANSFER_MUST_HAVE_THE_SAME_ASSET_AS_ACCOUNTS: "asset",
    _R.SEGREGATION_VIOLATION: "code",
    _R.EXCEEDS_SEGREGATION_EXCESS: "amount",
    _R.OVERFLOWS_DEBITS: "amount",
    _R.OVERFLOWS_CREDITS: "amount",
    _R.EXCEEDS_CREDITS: "amount",
    _R.EXCEEDS_DEBITS: "amount",
    _R.EXCEEDS_PENDING_TRANSFER_AMOUNT: "amount",
    _R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT: "amount",
    _R.PENDING_TRANSFER_HAS_DIFFERENT_ASSET: "asset",
    _R.PENDING_TRANSFER_HAS_DIFFERENT_CODE: "code",
    _R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID: "debit_account",
    _R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID: "credit_account",
    _R.PENDING_TRANSFER_NOT_FOUND: "pending_id",
    _R.PENDING_TRANSFER_NOT_PENDING: "pending_id",
    _R.PENDING_TRANSFER_ALREADY_POSTED: "pending_id",
    _R.PENDING_TRANSFER_ALREADY_VOIDED: "pending_id",
    _R.PENDING_TRANSFER_EXPIRED: "pending_id",
    _R.LINKED_EVENT_CHAIN_OPEN: "flags",
}


class TransferRefused(GatehouseError):
    """The ledger refused a transfer; ``code`` is the contract code, ``result`` the precise
    ledger result (``exceeds_credits``, ``segregation_violation``, ...)."""

    def __init__(self, outcome: TransferOutcome, *, field_names: dict[str, str] | None = None):
        field = _FIELD.get(outcome.result, "non_field_errors")
        field = (field_names or {}).get(field, field)
        super().__init__(
            outcome.message or f"transfer {outcome.transfer_id} refused: {outcome.result}",
            code=outcome.code,
            fields={field: [outcome.message or str(outcome.result)]},
            status=_STATUS.get(outcome.code, 422),
        )
        self.outcome = outcome
        self.result = outcome.result


class FourEyesRequired(GatehouseError):
    """A manual adjustment needs a second person to approve it (DESIGN.md, Console)."""

    status = 403
    code = "FOUR_EYES_REQUIRED"


def _one(outcome: TransferOutcome, field_names: dict[str, str] | None = None) -> TransferOutcome:
    if not outcome.accepted:
        raise TransferRefused(outcome, field_names=field_names)
    return outcome


_DEPOSIT_FIELDS = {"debit_account": "custody_wallet", "credit_account": "account_id"}
_WITHDRAWAL_FIELDS = {"debit_account": "account_id", "credit_account": "custody_wallet"}


def deposit(
    *,
    id: str,
    account_id: str,
    asset: str,
    amount: int,
    custody_wallet: str,
    now: datetime | None = None,
) -> TransferOutcome:
    """Assets arrived in a segregated custody wallet for a client: wallet → client liability.

    Opens the client's account and the wallet on first use.
    """
    wallet, client = wallet_ref(custody_wallet, asset), client_ref(account_id, asset)
    request = Transfer(
        id=id,
        debit_account_id=wallet,
        credit_account_id=client,
        amount=amount,
        asset=asset,
        code=TransferCode.DEPOSIT,
    )
    outcome = create_transfers(transfers=[request], now=now, open_accounts=(wallet, client))[0]
    return _one(outcome, _DEPOSIT_FIELDS)


def withdraw(
    *,
    id: str,
    account_id: str,
    asset: str,
    amount: int,
    custody_wallet: str,
    now: datetime | None = None,
) -> TransferOutcome:
    """A client takes assets out: client liability → custody wallet.

    Refused with ``INSUFFICIENT_FUNDS`` when the amount is more than the client owns free of
    reservations (the account's balance flag; custody.posting) or more than the wallet holds.
    """
    client = client_ref(account_id, asset)
    request = Transfer(
        id=id,
        debit_account_id=client,
        credit_account_id=wallet_ref(custody_wallet, asset),
        amount=amount,
        asset=asset,
        code=TransferCode.WITHDRAWAL,
    )
    outcome = create_transfers(transfers=[request], now=now, open_accounts=(client,))[0]
    return _one(outcome, _WITHDRAWAL_FIELDS)


def transfer(*, request: Transfer, now: datetime | None = None) -> TransferOutcome:
    """One transfer between existing ledger accounts (the transfers endpoint)."""
    return _one(create_transfers(transfers=[request], now=now)[0])


def open_account(*, kind: AccountKind, owner: str, asset: str, now: datetime | None = None) -> str:
    """Open a ledger account (a house wallet, a custody wallet...) if it does not exist."""
    ref = account_ref(kind, owner, asset)
    create_transfers(transfers=[], now=now, open_accounts=(ref,))
    return ref


# --- Margin reservations (called by the pre-trade part, in batches) ----------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginReservation:
    """Reserve ``amount`` (minor units) of a client's ``asset`` for an order.

    ``id`` is the reservation's transfer id (idempotent: mirror the same reservation twice
    and the second is ``exists``). ``timeout`` seconds after booking an unfilled reservation
    lapses on its own (0: never).
    """

    id: str
    account_id: str
    asset: str
    amount: int
    timeout: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginPost:
    """A fill: post ``amount`` of reservation ``reservation_id`` (0: all of it) to clearing;
    the rest is released."""

    id: str
    reservation_id: str
    amount: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginVoid:
    """A cancel: release all of reservation ``reservation_id``."""

    id: str
    reservation_id: str


def reserve_margin(
    *, reservations: Sequence[MarginReservation], now: datetime | None = None
) -> list[TransferOutcome]:
    """Pending ``margin_reservation`` transfers client → the asset's clearing account.

    The pending debit is the client's ``reserved`` amount, so ``available`` falls at once and
    a withdrawal can never take reserved margin. One outcome per reservation, in order;
    ``exceeds_credits`` (``INSUFFICIENT_FUNDS``) when the client lacks the free balance.
    """
    return create_transfers(
        transfers=[
            Transfer(
                id=item.id,
                debit_account_id=client_ref(item.account_id, item.asset),
                credit_account_id=venue_ref(AccountKind.CLEARING, item.asset),
                amount=item.amount,
                asset=item.asset,
                code=TransferCode.MARGIN_RESERVATION,
                flags=TransferFlags.PENDING,
                timeout=item.timeout,
            )
            for item in reservations
        ],
        now=now,
    )


def post_margin(
    *, posts: Sequence[MarginPost], now: datetime | None = None
) -> list[TransferOutcome]:
    """Post fills of reservations; the code is pinned, so only a margin reservation can be
    posted this way (anything else is ``pending_transfer_has_different_code``)."""
    return create_transfers(
        transfers=[
            Transfer(
                id=item.id,
                debit_account_id=None,
                credit_account_id=None,
                amount=item.amount,
                asset=None,
                code=TransferCode.MARGIN_RESERVATION,
                flags=TransferFlags.POST_PENDING_TRANSFER,
                pending_id=item.reservation_id,
            )
            for item in posts
        ],
        now=now,
    )


def void_margin(
    *, voids: Sequence[MarginVoid], now: datetime | None = None
) -> list[TransferOutcome]:
    """Release cancelled reservations in full."""
    return create_transfers(
        transfers=[
            Transfer(
                id=item.id,
                debit_account_id=None,
                credit_account_id=None,
                amount=0,
                asset=None,
                code=TransferCode.MARGIN_RESERVATION,
                flags=TransferFlags.VOID_PENDING_TRANSFER,
                pending_id=item.reservation_id,
            )
            for item in voids
        ],
        now=now,
    )


# --- Manual adjustments (officers, four eyes, audited) ------------------------------------


def manual_adjustment(
    *,
    id: str,
    debit_account_id: str,
    credit_account_id: str,
    asset: str,
    amount: int,
    reason: str,
    actor: str,
    approved_by: str,
    now: datetime | None = None,
) -> TransferOutcome:
    """An officer's ``adjustment`` transfer, approved by a second person, audited with the
    transfer in one transaction (refusals are audited too: an attempt is a fact).

    The wall decides where an adjustment may go (custody.ledger.WALL): between a client and
    suspense, a custody wallet and suspense, or inside the house; never out of client money.
    """
    if not reason.strip():
        raise GatehouseError("a manual adjustment needs a reason", fields={"reason": ["Required."]})
    if approved_by == actor:
        raise FourEyesRequired(f"{actor} cannot approve their own adjustment")
    request = Transfer(
        id=id,
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        asset=asset,
        code=TransferCode.ADJUSTMENT,
    )

    def record(outcomes: list[TransferOutcome]) -> None:
        outcome = outcomes[0]
        if outcome.replayed:
            return
        audit.record(
            actor=actor,
            action="custody.adjustment" if outcome.accepted else "custody.adjustment_refused",
            object_type="transfer",
            object_id=id,
            after={
                "debit_account": debit_account_id,
                "credit_account": credit_account_id,
                "asset": asset,
                "amount": str(amount),
                "reason": reason,
                "approved_by": approved_by,
                "result": str(outcome.result),
                "seq": getattr(outcome.row, "seq", None),
            },
        )

    outcome = create_transfers(transfers=[request], now=now, before_commit=record)[0]
    return _one(outcome)
