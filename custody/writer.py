"""The ledger writer: transfers applied to the database exactly as ``custody.posting`` says.

The rules are not re-implemented here. For each batch the writer loads the few rows the
batch can touch (its accounts, locked; the transfers its ids and ``pending_id`` s name; the
pending transfers that are due), builds a small :class:`~custody.ledger_state.Ledger` from them, and
runs the executable specification, :func:`custody.posting.apply_transfers`, on it. What the
specification changed (new records, counters, pending states) is then written back in the
same transaction, hash-chained. So the database gives the specification's results and
balances by construction, and the hypothesis tests check that it does.

**Concurrency: one serialised writer.** Every write (transfers, expiry, checkpoints) runs in
``transaction.atomic(durable=True)`` and first takes the ``ledger-chain`` lock
(``core.locks.serialise``: a PostgreSQL advisory transaction lock; SQLite serialises writers
with ``BEGIN IMMEDIATE``). The chain needs a total order anyway (each row hashes the previous
row's hash), so writers queue on it instead of racing; inside it the account rows are still
read ``SELECT ... FOR UPDATE`` in ascending id order, so a writer that ever bypassed the lock
would block on the rows rather than lose an update, and no two writers can deadlock (one
lock, then rows in one global order). The CHECK constraints on the account table are the
last line: an overdraft cannot be stored even by a buggy caller. Throughput comes from
batching (one lock, a handful of statements and one commit per batch), not from parallel
writers; bench/bench_ledger.py measures both. The batch's write is overlapped with the
Python that follows it (announcements, answers: ``custody.sql`` ``overlapped``), so the
database and the writer work at the same time for that stretch.

**Time.** The ledger's clock never runs backwards (TigerBeetle's cluster time): a batch is
booked at ``max(now, created_at of the chain head)``. Pending transfers that are due lapse
at the start of every batch, before anything else, and each lapse is recorded in the chain
as ``"<pending id>#expiry"`` (a void of the full amount), so balances are derivable from the
transfer rows alone and ``verify_ledger`` can replay them.

**Refusals.** The specification does not record a refused transfer; the contract does
(API.md: the same id and body get the first answer). The writer reads the record of earlier
refusals with the batch and stores the new ones in the same transaction; what a refusal is
answered with is :class:`custody.refusals.RefusalRecord`'s rule.

**SQL.** The statements are the backend's (:mod:`custody.sql`), chosen once per process.
"""

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from core import clock, locks
from core.errors import ValidationFailed
from custody import checkpoints, sql
from custody.announcements import announce
from custody.chain import GENESIS_HASH
from custody.identifiers import is_client_id, is_expiry_id, is_hold_decision_id, parse_ref
from custody.ledger import REQUIRED_FLAGS, Account, AccountFlags, AccountKind, Balance, TransferCode
from custody.ledger_state import Ledger, PendingState
from custody.models import LedgerAccount, OpenPending, TransferRefusal
from custody.money import ASSETS
from custody.posting import apply_transfers, expire_pending
from custody.refusals import RefusalRecord
from custody.sql.common import BatchSnapshot
from custody.transfer_rows import (
    TransferRow,
    chained_row,
    expiry_record,
    pending_state_of,
    record_of,
    request_json,
)
from custody.transfers import (
    SUCCESSFUL,
    Transfer,
    TransferFlags,
    TransferResult,
    contract_code,
    linked_chains,
)

_PENDING = PendingState.PENDING
_ACCOUNT_FLAGS = {
    (dmnec, cmned): (AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS if dmnec else AccountFlags.NONE)
    | (AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS if cmned else AccountFlags.NONE)
    for dmnec in (False, True)
    for cmned in (False, True)
}
"""The flags of a stored account's two boolean columns (built once: Flag arithmetic allocates)."""
_PENDING_BIT = TransferFlags.PENDING.value  # a plain int: Flag arithmetic allocates


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """The answer for one transfer of a batch; ``row`` is the stored transfer when accepted
    (a :data:`custody.transfer_rows.TransferRow`, read like a model instance)."""

    transfer_id: str
    result: TransferResult
    row: TransferRow | None = None
    message: str = ""
    replayed: bool = False
    """The answer repeats an earlier one: ``exists``, or a refusal read from its record."""

    @property
    def accepted(self) -> bool:
        return self.result in SUCCESSFUL

    @property
    def code(self) -> str:
        """The contract's error code of a refusal (``INSUFFICIENT_FUNDS``, ...)."""
        return contract_code(self.result)


def create_transfers(
    *,
    transfers: Sequence[Transfer],
    now: datetime | None = None,
    open_accounts: Iterable[str] = (),
    before_commit: Callable[[list[TransferOutcome]], None] | None = None,
) -> list[TransferOutcome]:
    """Apply ``transfers`` in order, linked chains all-or-nothing; one outcome per transfer.

    ``open_accounts`` are ledger account ids to open (with their kind's flags) if they do not
    exist yet, in the same transaction: a deposit opens the client's account this way.
    ``before_commit(outcomes)`` runs inside the transaction (an audit entry that must commit
    with the transfers, or not at all).
    """
    outcomes, _ = _write_batch(transfers, now or clock.now(), set(open_accounts), before_commit)
    return outcomes


def expire_pending_transfers(*, now: datetime | None = None) -> int:
    """Let every pending transfer that is due lapse; how many did (the sweep task).

    The look without the lock keeps the frequent sweep from queueing on the chain lock when
    nothing is due; whatever it misses, the next batch or sweep expires first.
    """
    moment = now or clock.now()
    if not OpenPending.objects.filter(expires_at__lte=moment).exists():
        return 0
    _, expired = _write_batch([], moment, set(), None)
    return expired


def _write_batch(
    transfers: Sequence[Transfer],
    requested: datetime,
    open_accounts: set[str],
    before_commit: Callable[[list[TransferOutcome]], None] | None,
) -> tuple[list[TransferOutcome], int]:
    for transfer in transfers:
        _check_ids(transfer)
    backend = sql.backend()
    with transaction.atomic(durable=True):
        with backend.cursor() as cursor:
            backend.lock_chain(cursor, locks.lock_id(checkpoints.CHAIN_LOCK))
            batch = _Batch(transfers, requested, cursor, backend)
            batch.load(open_accounts)
            expired = expire_pending(batch.ledger, batch.moment)
            results = batch.apply()
            rows = batch.chain(expired)
            changes = batch.changes(rows)
            with backend.overlapped(cursor, changes):
                # The write is sent and not waited for: the announcements and the answers are
                # worked out while the database stores the batch. The block's end waits for
                # it (and raises its error, if any) before anything else runs.
                backend.write_batch(cursor, *changes)
                announce(batch.ledger.accounts, batch.changed, rows.values())
                outcomes = batch.outcomes(results, rows)
        if before_commit is not None:
            before_commit(outcomes)
    return outcomes, len(expired)


def _check_ids(transfer: Transfer) -> None:
    """Ids the ledger makes itself contain ``#``; a client may not forge one (the API's
    serializers refuse ``#``; an officer's release or refusal of a held withdrawal is the one
    ``#`` id a service asks for, custody.withdrawals)."""
    if transfer.id and not (is_client_id(transfer.id) or is_hold_decision_id(transfer.id)):
        raise ValidationFailed(
            f"transfer id {transfer.id!r}: at most 100 letters, digits and . _ : @ + -",
            fields={"id": ["Letters, digits and . _ : @ + - only (at most 100)."]},
        )
    if transfer.pending_id and not is_client_id(transfer.pending_id):
        raise ValidationFailed(
            f"pending_id {transfer.pending_id!r} is not a transfer id",
            fields={"pending_id": ["Not a transfer id."]},
        )


@dataclass(slots=True)
class _Batch:
    """One batch: its small ledger, the rows it loaded, and what it changed."""

    transfers: Sequence[Transfer]
    moment: datetime
    cursor: object
    backend: object
    ledger: Ledger = field(default_factory=Ledger)
    loaded_balances: dict[str, Balance] = field(default_factory=dict)
    loaded_rows: dict[str, TransferRow] = field(default_factory=dict)
    loaded_open: set[str] = field(default_factory=set)
    refusals: RefusalRecord = field(default_factory=RefusalRecord)
    answers: list[tuple[str, bool]] = field(default_factory=list)
    """``(message, replayed)`` per transfer, in order."""
    changed: dict[str, Balance] = field(default_factory=dict)
    head: TransferRow | None = None

    # --- loading ---------------------------------------------------------------------

    def load(self, open_accounts: set[str]) -> None:
        """Read and lock what the batch can touch; build the specification's ledger of it."""
        transfers = self.transfers
        ids = {t.id for t in transfers if t.id}
        pending_ids = {t.pending_id for t in transfers if t.pending_id}
        refs = {ref for t in transfers for ref in (t.debit_account_id, t.credit_account_id) if ref}
        sweep_assets = {
            t.asset
            for t in transfers
            if t.code == TransferCode.SWEEP and not t.resolves_pending and t.asset in ASSETS
        }
        self.moment, snapshot = self.backend.read_batch(
            self.cursor,
            self.moment,
            sorted(ids),
            sorted(pending_ids),
            sorted(refs | open_accounts),
            sorted(sweep_assets),
        )
        self.head = snapshot.head
        self._load_transfers(snapshot, ids | pending_ids, pending_ids)
        self.refusals = RefusalRecord.of_rows(snapshot.refusals)
        self._load_accounts(snapshot.accounts, open_accounts)

    def _load_accounts(self, accounts: list[tuple], open_accounts: set[str]) -> None:
        """The locked accounts, and those ``open_accounts`` that do not exist yet, opened."""
        for ref, kind, asset, dmnec, cmned, *counters in accounts:
            flags = _ACCOUNT_FLAGS[bool(dmnec), bool(cmned)]
            self._add_account(Account(ref, asset, AccountKind(kind), flags), Balance(*counters))
        to_open = sorted(open_accounts - set(self.ledger.accounts))
        if to_open:
            opened = [_new_account(ref, self.moment) for ref in to_open]
            LedgerAccount.objects.bulk_create(opened)
            for row in opened:
                self._add_account(
                    Account.open(row.id, row.asset_id, AccountKind(row.kind)), Balance()
                )

    def _add_account(self, account: Account, balance: Balance) -> None:
        self.ledger.accounts[account.id] = account
        self.ledger.balances[account.id] = balance
        self.loaded_balances[account.id] = balance

    def _load_transfers(self, snapshot: BatchSnapshot, named: set[str], pending_ids) -> None:
        """The rows the batch names or that are due or swept, as the specification's records,
        with each pending transfer's state (from the row that resolved it, if any)."""
        known_open = set(snapshot.due) | snapshot.swept
        wanted = named | known_open
        rows = snapshot.rows
        resolutions = {row.pending_id: row for row in rows if row.pending_id}
        pendings = [row for row in rows if row.flags & _PENDING_BIT and row.transfer_id in wanted]
        unknown = [
            row.transfer_id
            for row in pendings
            if row.transfer_id not in pending_ids and row.transfer_id not in known_open
        ]
        if unknown:
            for row in self.backend.more_resolutions(self.cursor, unknown):
                resolutions[row.pending_id] = row
        ledger = self.ledger
        for row in rows:
            if row.transfer_id in wanted and not is_expiry_id(row.transfer_id):
                ledger.records[row.transfer_id] = record_of(row)
                self.loaded_rows[row.transfer_id] = row
        for row in pendings:
            state = pending_state_of(resolutions.get(row.transfer_id))
            ledger.pending_states[row.transfer_id] = state
            if state is _PENDING:
                self.loaded_open.add(row.transfer_id)
        for pending_id, expires_at in snapshot.due.items():
            heapq.heappush(ledger.expiries, (expires_at, pending_id))

    # --- applying --------------------------------------------------------------------

    def apply(self) -> list[TransferResult]:
        """The specification over each chain, with recorded refusals answered first."""
        results: list[TransferResult] = []
        for chain, closed in linked_chains(self.transfers):
            replay = self.refusals.earlier_refusal(chain) if closed else None
            if replay is None:
                chain_results = apply_transfers(self.ledger, chain, self.moment)
            else:
                chain_results = self.refusals.replay(self.ledger, chain, *replay, self.moment)
            results += chain_results
            self.answers += self.refusals.answer(self.ledger, chain, chain_results, replay)
        return results

    # --- writing ---------------------------------------------------------------------

    def chain(self, expired: list[str]) -> dict[str, TransferRow]:
        """The batch's new rows (its lapses first), hash-chained after the head; the new
        refusals and, when the chain passes a checkpoint, the signed head are stored now."""
        ledger, moment = self.ledger, self.moment
        records = [expiry_record(ledger.records[pending_id], moment) for pending_id in expired]
        records += [record for tid, record in ledger.records.items() if tid not in self.loaded_rows]
        head = self.head
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH.hex())
        first_seq = seq + 1
        rows: dict[str, TransferRow] = {}
        for record in records:
            seq += 1
            row = chained_row(record, seq=seq, prev_hash=prev, created_at=moment)
            rows[row.transfer_id] = row
            prev = row.hash
        if self.refusals.added:
            _store_refusals(self.refusals, moment)
        if rows and checkpoints.crosses_boundary(first_seq, seq):
            checkpoints.sign_head(seq=seq, head_hash=prev, signed_at=moment)
        return rows

    def changes(self, rows: dict[str, TransferRow]) -> tuple[list, dict, list, list]:
        """What the batch writes: ``write_batch``'s ``rows, changed, opened, closed``."""
        ledger = self.ledger
        self.changed = {
            ref: balance
            for ref, balance in ledger.balances.items()
            if balance != self.loaded_balances.get(ref)
        }
        opened = [
            (
                row.transfer_id,
                row.debit_account_id,
                row.credit_account_id,
                row.asset_id,
                row.amount,
                row.expires_at,
            )
            for row in rows.values()
            if row.flags & _PENDING_BIT and ledger.pending_states.get(row.transfer_id) is _PENDING
        ]
        closed = [
            pending_id
            for pending_id in sorted(self.loaded_open)
            if ledger.pending_states.get(pending_id) is not _PENDING
        ]
        return list(rows.values()), self.changed, opened, closed

    def outcomes(
        self, results: list[TransferResult], rows: dict[str, TransferRow]
    ) -> list[TransferOutcome]:
        answers = []
        for transfer, result, (message, replayed) in zip(
            self.transfers, results, self.answers, strict=True
        ):
            row = None
            if result in SUCCESSFUL:
                row = rows.get(transfer.id) or self.loaded_rows.get(transfer.id)
            answers.append(
                TransferOutcome(
                    transfer_id=transfer.id,
                    result=result,
                    row=row,
                    message=message,
                    replayed=replayed,
                )
            )
        return answers


def _store_refusals(record: RefusalRecord, moment: datetime) -> None:
    TransferRefusal.objects.bulk_create(
        TransferRefusal(
            transfer_id=transfer_id,
            request=request_json(refusal.request),
            result=refusal.result.value,
            message=refusal.message,
            refused_at=moment,
        )
        for transfer_id, refusal in record.added.items()
    )


def _new_account(ref: str, moment: datetime) -> LedgerAccount:
    kind, owner, asset = parse_ref(ref)
    flags = REQUIRED_FLAGS[kind]
    return LedgerAccount(
        id=ref,
        kind=kind.value,
        owner=owner,
        asset_id=asset,
        debits_must_not_exceed_credits=bool(flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
        credits_must_not_exceed_debits=bool(flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
        opened_at=moment,
    )
