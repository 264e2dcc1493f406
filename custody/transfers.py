"""What a transfer is, and every way it can be refused.

A :class:`Transfer` is a request, immutable once accepted (TigerBeetle,
docs/reference/transfer.md): a client-supplied id (the idempotency key), a debit and a credit
account, an amount in minor units, the asset, a :class:`~custody.ledger.TransferCode`, and
flags for the two-phase and linked forms. A post or void names its ``pending_id`` and may
leave the accounts, asset and code empty (``None``) to mean "as the pending transfer", or
repeat them, in which case they must match. A post or void with ``amount == 0`` resolves the
full pending amount (TigerBeetle before 0.16; we keep zero rather than ``AMOUNT_MAX`` because
it reads plainly in JSON).
"""

import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from custody.errors import CustodyError
from custody.ledger import TransferCode

TIMEOUT_MAX = 2**32 - 1
"""Largest pending timeout in seconds (TigerBeetle's u32 ``timeout``), about 136 years."""


class TransferFlags(enum.Flag):
    """TigerBeetle's ``Transfer.flags`` that this ledger uses."""

    NONE = 0
    LINKED = enum.auto()
    """This transfer and the next succeed or fail together; the last of a chain is unset."""
    PENDING = enum.auto()
    """Reserve the amount in ``debits_pending``/``credits_pending`` (first phase)."""
    POST_PENDING_TRANSFER = enum.auto()
    """Move all or part of ``pending_id``'s reserved amount to posted; release the rest."""
    VOID_PENDING_TRANSFER = enum.auto()
    """Release ``pending_id``'s reserved amount."""


@functools.cache
def flags_text(flags: TransferFlags | int) -> str:
    """A stable text form of the flags (or of their stored ``int``), e.g. ``"linked,pending"``
    (for storage and hashing).

    Cached: there are sixteen combinations, and every hashed transfer asks for one.
    """
    flags = TransferFlags(flags)
    return ",".join(sorted(member.name.lower() for member in TransferFlags if member & flags))


_RESOLVING = TransferFlags.POST_PENDING_TRANSFER | TransferFlags.VOID_PENDING_TRANSFER
_RESOLVING_BITS = _RESOLVING.value  # plain ints on the hot path: Flag arithmetic allocates


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    """A transfer request; equality of two requests is what idempotency compares."""

    id: str
    debit_account_id: str | None
    credit_account_id: str | None
    amount: int
    asset: str | None
    code: TransferCode | None
    flags: TransferFlags = TransferFlags.NONE
    pending_id: str | None = None
    timeout: int = 0
    """Seconds a pending transfer may stay open; 0 means no timeout."""

    @classmethod
    def post(cls, *, id: str, pending_id: str, amount: int = 0, linked: bool = False) -> "Transfer":
        """Post ``amount`` (0: all) of a pending transfer, inheriting its accounts and code."""
        return cls._resolving(id, pending_id, amount, TransferFlags.POST_PENDING_TRANSFER, linked)

    @classmethod
    def void(cls, *, id: str, pending_id: str, linked: bool = False) -> "Transfer":
        """Void a pending transfer, releasing its whole amount."""
        return cls._resolving(id, pending_id, 0, TransferFlags.VOID_PENDING_TRANSFER, linked)

    @classmethod
    def _resolving(
        cls, id: str, pending_id: str, amount: int, flag: TransferFlags, linked: bool
    ) -> "Transfer":
        flags = flag | TransferFlags.LINKED if linked else flag
        return cls(
            id=id,
            debit_account_id=None,
            credit_account_id=None,
            amount=amount,
            asset=None,
            code=None,
            flags=flags,
            pending_id=pending_id,
        )

    @property
    def resolves_pending(self) -> bool:
        """A post or a void: the second phase of a two-phase transfer."""
        return bool(self.flags.value & _RESOLVING_BITS)


_LINKED_BITS = TransferFlags.LINKED.value
_Item = TypeVar("_Item")


def linked_chains(
    items: Iterable[_Item], transfer: Callable[[_Item], Transfer] | None = None
) -> Iterator[tuple[list[_Item], bool]]:
    """``items`` split into linked chains, in order: ``(chain, closed)`` for each.

    A chain is a run of transfers with ``flags.linked`` set closed by the first one without
    it; a transfer without the flag is a chain of one. Only the last chain can be open (its
    last member linked: the batch ended first), and ``closed`` says so. ``transfer`` reads
    an item's transfer when the items are not transfers themselves. Lazy: a chain is yielded
    as soon as its closing item is read, so a stream of stored rows is split as it is read.
    """
    chain: list[_Item] = []
    for item in items:
        chain.append(item)
        if not (item if transfer is None else transfer(item)).flags.value & _LINKED_BITS:
            yield chain, True
            chain = []
    if chain:
        yield chain, False


class TransferResult(enum.StrEnum):
    """Outcome of one transfer, listed in order of precedence (the first that applies wins).

    Modelled on TigerBeetle's ``create_transfers`` results with two deliberate differences.
    Idempotency is answered first: any reuse of an id is ``exists`` (identical request) or
    ``exists_with_different_fields`` before any other check, so every conflicting reuse is
    the contract's ``IDEMPOTENCY_CONFLICT`` (API.md) rather than whichever validation error
    the new body trips. TigerBeetle, too, checks existence before anything that depends on
    balances or pending status, so a retried post is ``exists``, not
    ``pending_transfer_already_posted``. Second, ``exists`` does not fail a linked chain: an
    identical replay is a no-op success, so a retried chain answers ``exists`` throughout.

    After the request's own fields, single and pending transfers go through the account
    checks (``debit_account_not_found`` ... ``exceeds_segregation_excess``) and posts and
    voids through the ``pending_transfer_*`` checks. The wall comes before the balance checks
    because it does not depend on balances: a forbidden move is refused as forbidden,
    whatever the funds. A refused transfer is not recorded (as in TigerBeetle), so its id
    may be retried; replaying a refusal's first answer, as API.md asks, is the service's
    idempotency record's job.
    """

    OK = "ok"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    EXISTS = "exists"
    ID_MUST_NOT_BE_EMPTY = "id_must_not_be_empty"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    PENDING_ID_MUST_BE_EMPTY = "pending_id_must_be_empty"
    PENDING_ID_MUST_NOT_BE_EMPTY = "pending_id_must_not_be_empty"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    TIMEOUT_MUST_NOT_BE_NEGATIVE = "timeout_must_not_be_negative"
    OVERFLOWS_TIMEOUT = "overflows_timeout"
    AMOUNT_MUST_NOT_BE_NEGATIVE = "amount_must_not_be_negative"
    AMOUNT_MUST_NOT_EXCEED_MAX = "amount_must_not_exceed_max"
    AMOUNT_MUST_NOT_BE_ZERO = "amount_must_not_be_zero"
    ASSET_MUST_NOT_BE_EMPTY = "asset_must_not_be_empty"
    CODE_MUST_NOT_BE_EMPTY = "code_must_not_be_empty"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_THE_SAME_ASSET = "accounts_must_have_the_same_asset"
    TRANSFER_MUST_HAVE_THE_SAME_ASSET_AS_ACCOUNTS = "transfer_must_have_the_same_asset_as_accounts"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_ASSET = "pending_transfer_has_different_asset"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    SEGREGATION_VIOLATION = "segregation_violation"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    EXCEEDS_SEGREGATION_EXCESS = "exceeds_segregation_excess"


SUCCESSFUL = frozenset({TransferResult.OK, TransferResult.EXISTS})
"""Results a client treats as success (TigerBeetle: handle ``exists`` exactly as ``ok``)."""

_CONTRACT_CODES: Mapping[TransferResult, str] = MappingProxyType(
    {
        TransferResult.EXISTS_WITH_DIFFERENT_FIELDS: "IDEMPOTENCY_CONFLICT",
        TransferResult.DEBIT_ACCOUNT_NOT_FOUND: "NOT_FOUND",
        TransferResult.CREDIT_ACCOUNT_NOT_FOUND: "NOT_FOUND",
        TransferResult.PENDING_TRANSFER_NOT_FOUND: "NOT_FOUND",
        TransferResult.PENDING_TRANSFER_ALREADY_POSTED: "PENDING_TRANSFER_CLOSED",
        TransferResult.PENDING_TRANSFER_ALREADY_VOIDED: "PENDING_TRANSFER_CLOSED",
        TransferResult.PENDING_TRANSFER_EXPIRED: "PENDING_TRANSFER_CLOSED",
        TransferResult.SEGREGATION_VIOLATION: "SEGREGATION_VIOLATION",
        TransferResult.EXCEEDS_SEGREGATION_EXCESS: "SEGREGATION_VIOLATION",
        TransferResult.EXCEEDS_CREDITS: "INSUFFICIENT_FUNDS",
        TransferResult.EXCEEDS_DEBITS: "INSUFFICIENT_FUNDS",
    }
)


def contract_code(result: TransferResult) -> str:
    """The API error code for a refused transfer; every result not listed is a bad request."""
    if result in SUCCESSFUL:
        raise ValueError(f"{result} is not a refusal")
    return _CONTRACT_CODES.get(result, "VALIDATION_ERROR")


class TransferRejected(CustodyError):
    """A transfer the ledger refused; ``result`` is the precise :class:`TransferResult`."""

    def __init__(self, result: TransferResult, *, transfer_id: str) -> None:
        super().__init__(f"transfer {transfer_id}: {result}")
        self.result = result
        self.transfer_id = transfer_id
        self.code = contract_code(result)
