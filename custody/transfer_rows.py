"""The transfer table's rows in the pure core's vocabulary, and back.

A stored transfer is a row of :class:`custody.models.Transfer` (the Django model, named for
its table); the writer reads and writes the same columns as a :data:`TransferRow` tuple.
The writer, ``verify_ledger`` and the selectors all read these rows; this is the one place
that says which columns are hashed (in ``custody.chain.TRANSFER_FIELDS`` order and types),
how a row becomes the :class:`~custody.ledger_state.AcceptedTransfer` the specification works
on and back (:func:`chained_row`), and how the request a client sent is recovered from the
row for idempotency.
"""

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from custody.chain import chain_hash_of_values
from custody.identifiers import expiry_id, is_expiry_id
from custody.ledger import TransferCode
from custody.ledger_state import AcceptedTransfer, PendingState
from custody.transfers import Transfer, TransferFlags, flags_text

TRANSFER_COLUMNS = (
    "seq",
    "transfer_id",
    "debit_account_id",
    "credit_account_id",
    "asset_id",
    "code",
    "amount",
    "flags",
    "pending_id",
    "timeout",
    "expires_at",
    "created_at",
    "inherits",
    "prev_hash",
    "hash",
)
"""The columns of the transfer table by the model's attribute names, in the writer's order."""

TransferRow = namedtuple("TransferRow", TRANSFER_COLUMNS)
"""A stored transfer row as the writer reads and writes it (read like a model instance)."""

POSTING_FLAG_VALUES = tuple(
    value
    for value in range(16)
    if not TransferFlags(value) & (TransferFlags.PENDING | TransferFlags.VOID_PENDING_TRANSFER)
)
"""``flags`` values of rows that change posted balances: single-phase transfers and posts
(linked or not). Pending rows, voids and expiries move only pending counters."""

INHERITS_DEBIT, INHERITS_CREDIT, INHERITS_ASSET, INHERITS_CODE, INHERITS_AMOUNT = 1, 2, 4, 8, 16


def hashed_fields(
    *,
    seq: int,
    transfer_id: str,
    debit_account_id: str,
    credit_account_id: str,
    asset: str,
    code: str,
    amount: int,
    flags: int,
    pending_id: str | None,
    timeout: int,
    created_at: datetime,
) -> dict[str, object]:
    """The fields ``custody.chain.chain_hash`` covers, from column values."""
    return {
        "sequence": seq,
        "id": transfer_id,
        "debit_account_id": debit_account_id,
        "credit_account_id": credit_account_id,
        "asset": asset,
        "code": code,
        "amount": amount,
        "flags": flags_text(TransferFlags(flags)),
        "pending_id": pending_id,
        "timeout": timeout,
        "created_at": created_at,
    }


def row_fields(row: Any) -> dict[str, object]:
    """:func:`hashed_fields` of a stored :class:`custody.models.Transfer`."""
    return hashed_fields(
        seq=row.seq,
        transfer_id=row.transfer_id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        asset=row.asset_id,
        code=row.code,
        amount=row.amount,
        flags=row.flags,
        pending_id=row.pending_id,
        timeout=row.timeout,
        created_at=row.created_at,
    )


def inherits_of(request: Transfer) -> int:
    """Which of the resolved fields a post or void request left empty."""
    if not request.resolves_pending:
        return 0
    mask = 0
    if request.debit_account_id is None:
        mask |= INHERITS_DEBIT
    if request.credit_account_id is None:
        mask |= INHERITS_CREDIT
    if request.asset is None:
        mask |= INHERITS_ASSET
    if request.code is None:
        mask |= INHERITS_CODE
    if request.amount == 0:
        mask |= INHERITS_AMOUNT
    return mask


def request_of(row: Any) -> Transfer:
    """The request as the client sent it (what idempotency compares)."""
    mask = row.inherits
    return Transfer(
        id=row.transfer_id,
        debit_account_id=None if mask & INHERITS_DEBIT else row.debit_account_id,
        credit_account_id=None if mask & INHERITS_CREDIT else row.credit_account_id,
        amount=0 if mask & INHERITS_AMOUNT else row.amount,
        asset=None if mask & INHERITS_ASSET else row.asset_id,
        code=None if mask & INHERITS_CODE else TransferCode(row.code),
        flags=TransferFlags(row.flags),
        pending_id=row.pending_id,
        timeout=row.timeout,
    )


def record_of(row: Any) -> AcceptedTransfer:
    """The specification's record of a stored row."""
    return AcceptedTransfer(
        transfer=request_of(row),
        sequence=row.seq,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        asset=row.asset_id,
        code=TransferCode(row.code),
        amount=row.amount,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def request_json(transfer: Transfer) -> dict[str, object]:
    """A request as JSON for the refusal record (amounts as strings: they may not fit 64 bits)."""
    return {
        "id": transfer.id,
        "debit_account_id": transfer.debit_account_id,
        "credit_account_id": transfer.credit_account_id,
        "amount": str(transfer.amount),
        "asset": transfer.asset,
        "code": None if transfer.code is None else str(transfer.code),
        "flags": transfer.flags.value,
        "pending_id": transfer.pending_id,
        "timeout": str(transfer.timeout),
    }


def request_from_json(data: Mapping[str, Any]) -> Transfer:
    code = data["code"]
    return Transfer(
        id=data["id"],
        debit_account_id=data["debit_account_id"],
        credit_account_id=data["credit_account_id"],
        amount=int(data["amount"]),
        asset=data["asset"],
        code=None if code is None else TransferCode(code),
        flags=TransferFlags(int(data["flags"])),
        pending_id=data["pending_id"],
        timeout=int(data["timeout"]),
    )


def pending_state_of(resolution) -> PendingState:
    """A pending transfer's state from the row that resolved it (``None``: still open)."""
    if resolution is None:
        return PendingState.PENDING
    if is_expiry_id(resolution.transfer_id):
        return PendingState.EXPIRED
    if resolution.flags & TransferFlags.POST_PENDING_TRANSFER.value:
        return PendingState.POSTED
    return PendingState.VOIDED


def expiry_record(pending: AcceptedTransfer, moment: datetime) -> AcceptedTransfer:
    """The chain's record of a lapse: a void of the full amount under a ledger-made id."""
    request = Transfer(
        id=expiry_id(pending.transfer.id),
        debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount=pending.amount,
        asset=pending.asset,
        code=pending.code,
        flags=TransferFlags.VOID_PENDING_TRANSFER,
        pending_id=pending.transfer.id,
    )
    return replace(pending, transfer=request, created_at=moment, expires_at=None)


def chained_row(
    accepted: AcceptedTransfer, *, seq: int, prev_hash: str, created_at: datetime
) -> TransferRow:
    """The row that appends ``accepted`` to the chain after ``prev_hash`` as number ``seq``."""
    request = accepted.transfer
    code = str(accepted.code)
    flags = request.flags.value
    link = chain_hash_of_values(
        (  # custody.chain.TRANSFER_FIELDS, in order (hashed_fields by position)
            seq,
            request.id,
            accepted.debit_account_id,
            accepted.credit_account_id,
            accepted.asset,
            code,
            accepted.amount,
            flags_text(flags),
            request.pending_id,
            request.timeout,
            created_at,
        ),
        bytes.fromhex(prev_hash),
    ).hex()
    return TransferRow(  # TRANSFER_COLUMNS, in order
        seq,
        request.id,
        accepted.debit_account_id,
        accepted.credit_account_id,
        accepted.asset,
        code,
        accepted.amount,
        flags,
        request.pending_id,
        request.timeout,
        accepted.expires_at,
        created_at,
        inherits_of(request),
        prev_hash,
        link,
    )
