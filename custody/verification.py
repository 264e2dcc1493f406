"""``verify_ledger``: the stored ledger must be exactly what the specification makes of its
transfers.

Three independent checks, each naming the first thing that does not fit:

1. **The chain.** Rows are read in ``seq`` order; each must be the next number, link to the
   previous row's hash and hash to its own stored hash (custody/chain.py). An edited,
   deleted, inserted or reordered row breaks here.
2. **The replay.** Starting from empty accounts, every row is re-applied through
   :func:`custody.posting.apply_transfers` at its own ``created_at``, linked chains together,
   and must be accepted: a row that breaks a balance flag, crosses the wall without an allowed
   code, posts a pending transfer twice, or was booked while a lapse went unrecorded is named.
   Then the account counters and the open pending transfers the replay ends with must equal
   the stored ones, account by account. A forged row appended with a correct hash, or a
   balance edited in place, fails here.
3. **The signatures.** Every checkpoint must sign the stored hash of its row with a trusted
   Ed25519 key. A chain rewritten and re-hashed end to end, or re-signed with another key,
   fails here. Only a tail after the last checkpoint can be cut unseen (the schedule bounds
   it).
"""

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core import signing
from custody.chain import GENESIS_HASH, chain_hash
from custody.checkpoints import verify_checkpoint
from custody.identifiers import account_ref, expiry_id, is_expiry_id
from custody.ledger import Account as SpecAccount
from custody.ledger import AccountFlags, AccountKind, Balance, TransferCode
from custody.ledger_state import Ledger, PendingState
from custody.models import Asset, LedgerAccount, LedgerCheckpoint, OpenPending
from custody.models import Transfer as TransferTable
from custody.money import ASSETS
from custody.posting import apply_transfers, expire_pending
from custody.transfer_rows import hashed_fields
from custody.transfers import Transfer, TransferFlags, TransferResult, linked_chains

_COLUMNS = (
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
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class LedgerReport:
    ok: bool
    transfers_checked: int
    accounts_checked: int
    checkpoints_checked: int
    head_seq: int
    problem: str | None = None
    first_bad_seq: int | None = None
    first_bad_account: str | None = None


class _Broken(Exception):
    def __init__(self, problem: str, *, seq: int | None = None, account: str | None = None):
        super().__init__(problem)
        self.problem, self.seq, self.account = problem, seq, account


@dataclass(slots=True)
class _Walk:
    ledger: Ledger = field(default_factory=Ledger)
    stored: dict[str, Balance] = field(default_factory=dict)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH.hex()
    checked: int = 0
    hashes_at: dict[int, str] = field(default_factory=dict)
    lapsed: set[str] = field(default_factory=set)


def verify_ledger(*, public_keys: list[Ed25519PublicKey] | None = None) -> LedgerReport:
    """Check chain, balances and checkpoints; ``public_keys`` default to the service's own."""
    trusted = {
        signing.key_id_for(key): key for key in (public_keys or [signing.get_signer().public_key])
    }
    walk = _Walk()
    checkpoints = list(LedgerCheckpoint.objects.order_by("seq"))
    signed = {checkpoint.seq for checkpoint in checkpoints}
    try:
        _load_accounts(walk)
        rows = (
            TransferTable.objects.order_by("seq").values_list(*_COLUMNS).iterator(chunk_size=5000)
        )
        for chain, closed in linked_chains(_checked(walk, rows, signed), transfer=_transfer_of):
            if not closed:
                last = chain[-1][0]
                raise _Broken(f"transfer #{last[0]} leaves a linked chain open", seq=last[0])
            _replay_chain(walk, chain)
        if walk.lapsed:
            raise _Broken(
                f"pending transfer {sorted(walk.lapsed)[0]} lapsed but no expiry row follows"
            )
        checked = _check_checkpoints(walk, checkpoints, trusted)
        _compare_balances(walk)
        _compare_open_pending(walk)
    except _Broken as broken:
        return LedgerReport(
            ok=False,
            transfers_checked=walk.checked,
            accounts_checked=len(walk.stored),
            checkpoints_checked=0,
            head_seq=walk.head_seq,
            problem=broken.problem,
            first_bad_seq=broken.seq,
            first_bad_account=broken.account,
        )
    return LedgerReport(
        ok=True,
        transfers_checked=walk.checked,
        accounts_checked=len(walk.stored),
        checkpoints_checked=checked,
        head_seq=walk.head_seq,
    )


def _load_accounts(walk: _Walk) -> None:
    scales = dict(Asset.objects.values_list("code", "scale"))
    for code, asset in ASSETS.items():
        if scales.get(code) != asset.scale:
            raise _Broken(
                f"asset {code} is stored with scale {scales.get(code)}, not {asset.scale}"
            )
    for account in LedgerAccount.objects.order_by("id").iterator(chunk_size=5000):
        ref = account.id
        try:
            kind = AccountKind(account.kind)
            expected = account_ref(kind, account.owner, account.asset_id)
            if ref != expected:
                raise ValueError(f"its kind, owner and asset say {expected}")
            flags = AccountFlags.NONE
            if account.debits_must_not_exceed_credits:
                flags |= AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            if account.credits_must_not_exceed_debits:
                flags |= AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            walk.ledger.open(SpecAccount(ref, account.asset_id, kind, flags))
        except ValueError as error:
            raise _Broken(f"account {ref} is malformed: {error}", account=ref) from None
        walk.stored[ref] = Balance(
            account.debits_pending,
            account.debits_posted,
            account.credits_pending,
            account.credits_posted,
        )


def _check_link(walk: _Walk, row: tuple) -> None:
    seq, prev_hash, stored_hash = row[0], row[-2], row[-1]
    if seq != walk.head_seq + 1:
        raise _Broken(
            f"transfer #{seq} follows #{walk.head_seq}: transfer #{walk.head_seq + 1} is missing "
            "or the chain was reordered",
            seq=seq,
        )
    if prev_hash != walk.head_hash:
        raise _Broken(f"transfer #{seq} does not link to transfer #{walk.head_seq}", seq=seq)
    (
        _,
        transfer_id,
        debit,
        credit,
        asset,
        code,
        amount,
        flags,
        pending_id,
        timeout,
        _expires_at,
        created_at,
        _,
        _,
    ) = row
    fields = hashed_fields(
        seq=seq,
        transfer_id=transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        asset=asset,
        code=code,
        amount=amount,
        flags=flags,
        pending_id=pending_id,
        timeout=timeout,
        created_at=created_at,
    )
    try:
        link = chain_hash(fields, bytes.fromhex(prev_hash)).hex()
    except (TypeError, ValueError) as error:
        raise _Broken(f"transfer #{seq} cannot be encoded: {error}", seq=seq) from None
    if link != stored_hash:
        raise _Broken(f"transfer #{seq} was altered: its fields do not match its hash", seq=seq)
    walk.head_seq, walk.head_hash = seq, stored_hash
    walk.checked += 1


def _checked(walk: _Walk, rows, signed: set[int]):
    """Each row checked against the chain as it is read; an expiry row is replayed where it
    stands, every other row is yielded with its request, for the linked chains to gather."""
    for row in rows:
        _check_link(walk, row)
        seq = row[0]
        if seq in signed:
            walk.hashes_at[seq] = row[-1]
        try:
            if is_expiry_id(row[1]):
                _replay_expiry(walk, row)
                continue
            request = _request(row)
        except ValueError as error:  # the ledger clock ran backwards, or a malformed row
            raise _Broken(f"transfer #{seq}: {error}", seq=seq) from None
        yield row, request


def _transfer_of(item: tuple[tuple, Transfer]) -> Transfer:
    return item[1]


def _replay_chain(walk: _Walk, chain: list[tuple[tuple, Transfer]]) -> None:
    """Apply a closed chain at its last row's time: every member must be accepted."""
    ledger = walk.ledger
    seq, created_at = chain[-1][0][0], chain[-1][0][11]
    try:
        lapsed = expire_pending(ledger, created_at)
        if lapsed or walk.lapsed:
            missed = sorted(set(lapsed) | walk.lapsed)[0]
            raise _Broken(
                f"pending transfer {missed} had lapsed when transfer #{seq} was booked, but "
                "its expiry was not recorded before it",
                seq=seq,
            )
        results = apply_transfers(ledger, [request for _, request in chain], created_at)
    except ValueError as error:  # the ledger clock ran backwards
        raise _Broken(f"transfer #{seq}: {error}", seq=seq) from None
    refused = [
        (member, result)
        for (member, _), result in zip(chain, results, strict=True)
        if result is not TransferResult.OK
    ]
    if refused:
        member, result = next(
            (item for item in refused if item[1] is not TransferResult.LINKED_EVENT_FAILED),
            refused[0],
        )
        raise _Broken(
            f"transfer #{member[0]} ({member[1]}) does not follow the ledger rules: {result}",
            seq=member[0],
        )
    for member, _ in chain:
        record = ledger.records[member[1]]
        if record.expires_at != member[10]:
            raise _Broken(f"transfer #{member[0]} has a wrong expiry time", seq=member[0])
    _forget_settled(ledger, [member for member, _ in chain])


def _replay_expiry(walk: _Walk, row: tuple) -> None:
    seq, transfer_id, pending_id, created_at = row[0], row[1], row[8], row[11]
    walk.lapsed.update(expire_pending(walk.ledger, created_at))
    pending = walk.ledger.records.get(pending_id or "")
    if (
        pending_id not in walk.lapsed
        or transfer_id != expiry_id(pending_id)
        or pending is None
        or (row[2], row[3], row[4], row[5], row[6], row[7])
        != (
            pending.debit_account_id,
            pending.credit_account_id,
            pending.asset,
            str(pending.code),
            pending.amount,
            TransferFlags.VOID_PENDING_TRANSFER.value,
        )
    ):
        raise _Broken(
            f"transfer #{seq} records the expiry of {pending_id}, which had not lapsed then "
            "or does not match it",
            seq=seq,
        )
    walk.lapsed.discard(pending_id)
    _forget_settled(walk.ledger, [row])


def _request(row: tuple) -> Transfer:
    """The row as a fully spelled-out request: a post or void repeats the pending transfer's
    accounts, asset, code and amount, so the specification checks that they match."""
    return Transfer(
        id=row[1],
        debit_account_id=row[2],
        credit_account_id=row[3],
        amount=row[6],
        asset=row[4],
        code=TransferCode(row[5]),
        flags=TransferFlags(row[7]),
        pending_id=row[8],
        timeout=row[9],
    )


def _forget_settled(ledger: Ledger, rows: list[tuple]) -> None:
    """Keep only what later rows can refer to (open pending transfers), so memory stays
    proportional to the open pendings, not to the whole history."""
    for row in rows:
        transfer_id, pending_id = row[1], row[8]
        if pending_id:
            ledger.records.pop(pending_id, None)
            ledger.pending_states.pop(pending_id, None)
        if ledger.pending_states.get(transfer_id) is not PendingState.PENDING:
            ledger.records.pop(transfer_id, None)


def _compare_balances(walk: _Walk) -> None:
    for ref in sorted(walk.stored):
        stored, replayed = walk.stored[ref], walk.ledger.balances[ref]
        if stored != replayed:
            differences = ", ".join(
                f"{name} stored {getattr(stored, name)} "
                f"but the transfers give {getattr(replayed, name)}"
                for name in ("debits_pending", "debits_posted", "credits_pending", "credits_posted")
                if getattr(stored, name) != getattr(replayed, name)
            )
            raise _Broken(f"account {ref}: {differences}", account=ref)


def _compare_open_pending(walk: _Walk) -> None:
    ledger = walk.ledger
    expected = {
        pending_id: ledger.records[pending_id]
        for pending_id, state in ledger.pending_states.items()
        if state is PendingState.PENDING
    }
    stored = {row.pending_id: row for row in OpenPending.objects.all()}
    for pending_id in sorted(set(expected) | set(stored)):
        record, row = expected.get(pending_id), stored.get(pending_id)
        if record is None or row is None:
            where = "is listed as open but is not" if record is None else "is open but not listed"
            raise _Broken(f"pending transfer {pending_id} {where} in the open-pending index")
        if (row.debit_account_id, row.credit_account_id, row.amount, row.expires_at) != (
            record.debit_account_id,
            record.credit_account_id,
            record.amount,
            record.expires_at,
        ):
            raise _Broken(f"the open-pending index disagrees with transfer {pending_id}")


def _check_checkpoints(walk: _Walk, checkpoints: list[LedgerCheckpoint], trusted: dict) -> int:
    checked = 0
    for checkpoint in checkpoints:
        if checkpoint.seq > walk.head_seq:
            raise _Broken(
                f"checkpoint #{checkpoint.seq} signs a transfer that no longer exists (the chain "
                f"ends at #{walk.head_seq}): transfers were deleted",
                seq=walk.head_seq + 1,
            )
        if walk.hashes_at.get(checkpoint.seq) != checkpoint.head_hash:
            raise _Broken(
                f"checkpoint #{checkpoint.seq} signed a different head: the chain was rewritten",
                seq=checkpoint.seq,
            )
        if not verify_checkpoint(checkpoint, trusted):
            raise _Broken(
                f"checkpoint #{checkpoint.seq} is not signed by a trusted key "
                f"(key id {checkpoint.key_id})",
                seq=checkpoint.seq,
            )
        checked += 1
    return checked
