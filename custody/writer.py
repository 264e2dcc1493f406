"""The ledger writer: transfers applied to the database exactly as ``custody.posting`` says.

The rules are not re-implemented here. For each batch the writer loads the few rows the
batch can touch (its accounts, locked; the transfers its ids and ``pending_id`` s name; the
pending transfers that are due), builds a small :class:`~custody.book.Ledger` from them, and
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
writers; bench/bench_ledger.py measures both.

**Time.** The ledger's clock never runs backwards (TigerBeetle's cluster time): a batch is
booked at ``max(now, created_at of the chain head)``. Pending transfers that are due lapse
at the start of every batch, before anything else, and each lapse is recorded in the chain
as ``"<pending id>#expiry"`` (a void of the full amount), so balances are derivable from the
transfer rows alone and ``verify_ledger`` can replay them.

**Refusals.** The specification does not record a refused transfer; the contract does
(API.md: the same id and body get the first answer). A refusal is stored with its message
and the request; a later request under that id is answered from the record: the same
refusal when the request is identical, ``exists_with_different_fields`` when it is not.
``linked_event_failed`` and ``linked_event_chain_open`` are answers about the batch, not the
transfer, and are not recorded, so a chain can be retried after fixing its failing member.
"""

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import transaction

from core import clock, locks
from core.errors import ValidationFailed
from custody import checkpoints, store
from custody.announcements import announce
from custody.book import Ledger, PendingState
from custody.chain import GENESIS_HASH, chain_hash
from custody.ledger import REQUIRED_FLAGS, Account, AccountFlags, AccountKind, Balance, TransferCode
from custody.models import LedgerAccount, OpenPending, TransferRefusal
from custody.money import ASSETS
from custody.posting import apply_transfers, expire_pending
from custody.refs import is_client_id, is_expiry_id, parse_ref
from custody.refusals import explain
from custody.rows import (
    expiry_record,
    hashed_fields,
    inherits_of,
    pending_state_of,
    record_of,
    request_from_json,
    request_json,
)
from custody.store import StoredTransfer
from custody.transfers import SUCCESSFUL, TransferFlags, TransferResult, contract_code
from custody.transfers import Transfer as Request

_R = TransferResult
_LINKED = TransferFlags.LINKED
_LINKED_BITS = _LINKED.value
_PENDING = TransferFlags.PENDING.value
_UNRECORDED = frozenset(
    {_R.LINKED_EVENT_FAILED, _R.LINKED_EVENT_CHAIN_OPEN, _R.EXISTS_WITH_DIFFERENT_FIELDS}
)


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """The answer for one transfer of a batch; ``row`` is the stored transfer when accepted
    (a :data:`custody.store.StoredTransfer`, read like a model instance)."""

    transfer_id: str
    result: TransferResult
    row: StoredTransfer | None = None
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
    transfers: Sequence[Request],
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
    transfers: Sequence[Request],
    requested: datetime,
    open_accounts: set[str],
    before_commit: Callable[[list[TransferOutcome]], None] | None,
) -> tuple[list[TransferOutcome], int]:
    for transfer in transfers:
        _check_ids(transfer)
    with transaction.atomic(durable=True):
        with store.cursor() as cursor:
            store.lock_chain(cursor, locks.lock_id(checkpoints.CHAIN_LOCK))
            batch = _Batch(transfers, requested, cursor)
            batch.load(open_accounts)
            expired = expire_pending(batch.ledger, batch.moment)
            results = batch.apply()
            rows = batch.write(expired)
        announce(batch.ledger.accounts, batch.changed, rows.values())
        outcomes = batch.outcomes(results, rows)
        if before_commit is not None:
            before_commit(outcomes)
    return outcomes, len(expired)


def _check_ids(transfer: Request) -> None:
    """Ids the ledger makes itself contain ``#``; a client may not forge one."""
    if transfer.id and not is_client_id(transfer.id):
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
class _Refusal:
    request: Request
    result: TransferResult
    message: str


@dataclass(slots=True)
class _Batch:
    """One batch: its small ledger, the rows it loaded, and what it changed."""

    transfers: Sequence[Request]
    moment: datetime
    cursor: object
    ledger: Ledger = field(default_factory=Ledger)
    loaded_balances: dict[str, Balance] = field(default_factory=dict)
    loaded_rows: dict[str, StoredTransfer] = field(default_factory=dict)
    loaded_open: set[str] = field(default_factory=set)
    refusals: dict[str, _Refusal] = field(default_factory=dict)
    new_refusals: dict[str, _Refusal] = field(default_factory=dict)
    messages: dict[int, str] = field(default_factory=dict)
    replayed: set[int] = field(default_factory=set)
    changed: dict[str, Balance] = field(default_factory=dict)
    head: StoredTransfer | None = None

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
        self.moment, world = store.read_batch(
            self.cursor,
            requested=self.moment,
            ids=sorted(ids),
            pending_ids=sorted(pending_ids),
            refs=sorted(refs | open_accounts),
            sweep_assets=sorted(sweep_assets),
        )
        self.head = world.head
        known_open = set(world.due) | world.swept
        wanted = ids | pending_ids | known_open
        rows = world.rows
        resolutions = {row.pending_id: row for row in rows if row.pending_id}
        pendings = [row for row in rows if row.flags & _PENDING and row.transfer_id in wanted]
        unknown = [
            row.transfer_id
            for row in pendings
            if row.transfer_id not in pending_ids and row.transfer_id not in known_open
        ]
        if unknown:
            for row in store.more_resolutions(self.cursor, unknown):
                resolutions[row.pending_id] = row
        for transfer_id, request, result, message in world.refusals:
            self.refusals[transfer_id] = _Refusal(request_from_json(request), _R(result), message)
        for ref, kind, asset, dmnec, cmned, *counters in world.accounts:
            flags = AccountFlags.NONE
            if dmnec:
                flags |= AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            if cmned:
                flags |= AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
            self._add_account(Account(ref, asset, AccountKind(kind), flags), Balance(*counters))
        to_open = sorted(open_accounts - set(self.ledger.accounts))
        if to_open:
            opened = [_new_account(ref, self.moment) for ref in to_open]
            LedgerAccount.objects.bulk_create(opened)
            for row in opened:
                self._add_account(
                    Account.open(row.id, row.asset_id, AccountKind(row.kind)), Balance()
                )
        for row in rows:
            if row.transfer_id in wanted and not is_expiry_id(row.transfer_id):
                self.ledger.records[row.transfer_id] = record_of(row)
                self.loaded_rows[row.transfer_id] = row
        for row in pendings:
            state = pending_state_of(resolutions.get(row.transfer_id))
            self.ledger.pending_states[row.transfer_id] = state
            if state is PendingState.PENDING:
                self.loaded_open.add(row.transfer_id)
        for pending_id, expires_at in world.due.items():
            heapq.heappush(self.ledger.expiries, (expires_at, pending_id))

    def _add_account(self, account: Account, balance: Balance) -> None:
        self.ledger.accounts[account.id] = account
        self.ledger.balances[account.id] = balance
        self.loaded_balances[account.id] = balance

    # --- applying --------------------------------------------------------------------

    def apply(self) -> list[TransferResult]:
        """The specification over each chain, with recorded refusals answered first."""
        transfers = self.transfers
        results: list[TransferResult] = [_R.LINKED_EVENT_FAILED] * len(transfers)
        start = 0
        while start < len(transfers):
            end = start
            while end < len(transfers) - 1 and transfers[end].flags.value & _LINKED_BITS:
                end += 1
            chain = transfers[start : end + 1]
            chain_open = bool(chain[-1].flags.value & _LINKED_BITS)
            replay = None if chain_open else self._recorded_refusal(chain)
            if replay is None:
                chain_results = apply_transfers(self.ledger, chain, self.moment)
            else:
                chain_results = self._replay(chain, *replay)
            results[start : end + 1] = chain_results
            self._remember(start, chain, chain_results, replay)
            start = end + 1
        return results

    def _recorded_refusal(self, chain: list[Request]) -> tuple[int, TransferResult] | None:
        for index, transfer in enumerate(chain):
            refusal = self.refusals.get(transfer.id)
            if refusal is not None:
                same = refusal.request == transfer
                return index, refusal.result if same else _R.EXISTS_WITH_DIFFERENT_FIELDS
        return None

    def _replay(self, chain: list[Request], index: int, result: TransferResult) -> list:
        """Answer a chain whose member ``index`` was refused before: members ahead of it
        still take precedence, so they are tried on a copy of the ledger first."""
        results = [_R.LINKED_EVENT_FAILED] * len(chain)
        if index:
            trial = _copy(self.ledger)
            prefix = list(chain[:index])
            prefix[-1] = replace(prefix[-1], flags=prefix[-1].flags & ~_LINKED)
            for position, outcome in enumerate(apply_transfers(trial, prefix, self.moment)):
                if outcome not in SUCCESSFUL:
                    results[position] = outcome
                    return results
        results[index] = result
        return results

    def _remember(self, start: int, chain, chain_results, replay) -> None:
        failed = next(
            (
                (i, r)
                for i, r in enumerate(chain_results)
                if r not in SUCCESSFUL and r is not _R.LINKED_EVENT_FAILED
            ),
            None,
        )
        for offset, (transfer, result) in enumerate(zip(chain, chain_results, strict=True)):
            position = start + offset
            if result is _R.EXISTS:
                self.replayed.add(position)
                continue
            if result in SUCCESSFUL:
                continue
            recorded = self.refusals.get(transfer.id)
            if replay is not None and offset == replay[0] and recorded is not None:
                if result is recorded.result and recorded.request == transfer:
                    self.messages[position] = recorded.message
                    self.replayed.add(position)
                    continue
            if result is _R.LINKED_EVENT_FAILED and failed is not None:
                culprit = chain[failed[0]].id or "(no id)"
                message = (
                    f"transfer {transfer.id or '(no id)'} was not applied: transfer {culprit} "
                    f"of its linked chain was refused ({failed[1]})"
                )
            else:
                message = explain(self.ledger, transfer, result)
            self.messages[position] = message
            if result not in _UNRECORDED and transfer.id and transfer.id not in self.refusals:
                refusal = _Refusal(transfer, result, message)
                self.refusals[transfer.id] = refusal
                self.new_refusals[transfer.id] = refusal

    # --- writing ---------------------------------------------------------------------

    def write(self, expired: list[str]) -> dict[str, StoredTransfer]:
        """Append the new rows to the chain; store counters, open pendings and refusals."""
        ledger, moment, cursor = self.ledger, self.moment, self.cursor
        records = [expiry_record(ledger.records[pending_id], moment) for pending_id in expired]
        records += [record for tid, record in ledger.records.items() if tid not in self.loaded_rows]
        head = self.head
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH.hex())
        first_seq = seq + 1
        rows: dict[str, StoredTransfer] = {}
        for record in records:
            seq += 1
            request = record.transfer
            code = str(record.code)
            link = chain_hash(
                hashed_fields(
                    seq=seq,
                    transfer_id=request.id,
                    debit_account_id=record.debit_account_id,
                    credit_account_id=record.credit_account_id,
                    asset=record.asset,
                    code=code,
                    amount=record.amount,
                    flags=request.flags.value,
                    pending_id=request.pending_id,
                    timeout=request.timeout,
                    created_at=moment,
                ),
                bytes.fromhex(prev),
            ).hex()
            rows[request.id] = StoredTransfer(
                seq=seq,
                transfer_id=request.id,
                debit_account_id=record.debit_account_id,
                credit_account_id=record.credit_account_id,
                asset_id=record.asset,
                code=code,
                amount=record.amount,
                flags=request.flags.value,
                pending_id=request.pending_id,
                timeout=request.timeout,
                expires_at=record.expires_at,
                created_at=moment,
                inherits=inherits_of(request),
                prev_hash=prev,
                hash=link,
            )
            prev = link
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
            if row.flags & _PENDING
            and ledger.pending_states.get(row.transfer_id) is PendingState.PENDING
        ]
        closed = [
            pending_id
            for pending_id in sorted(self.loaded_open)
            if ledger.pending_states.get(pending_id) is not PendingState.PENDING
        ]
        store.write_batch(
            cursor, rows=list(rows.values()), changed=self.changed, opened=opened, closed=closed
        )
        if self.new_refusals:
            _store_refusals(self.new_refusals, moment)
        if rows and checkpoints.crosses_boundary(first_seq, seq):
            checkpoints.sign_head(seq=seq, head_hash=prev, signed_at=moment)
        return rows

    def outcomes(
        self, results: list[TransferResult], rows: dict[str, StoredTransfer]
    ) -> list[TransferOutcome]:
        answers = []
        for position, (transfer, result) in enumerate(zip(self.transfers, results, strict=True)):
            row = None
            if result in SUCCESSFUL:
                row = rows.get(transfer.id) or self.loaded_rows.get(transfer.id)
            answers.append(
                TransferOutcome(
                    transfer_id=transfer.id,
                    result=result,
                    row=row,
                    message=self.messages.get(position, ""),
                    replayed=position in self.replayed,
                )
            )
        return answers


def _store_refusals(refusals: dict[str, _Refusal], moment: datetime) -> None:
    TransferRefusal.objects.bulk_create(
        TransferRefusal(
            transfer_id=transfer_id,
            request=request_json(refusal.request),
            result=refusal.result.value,
            message=refusal.message,
            refused_at=moment,
        )
        for transfer_id, refusal in refusals.items()
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


def _copy(ledger: Ledger) -> Ledger:
    return Ledger(
        accounts=dict(ledger.accounts),
        balances=dict(ledger.balances),
        records=dict(ledger.records),
        pending_states=dict(ledger.pending_states),
        clock=ledger.clock,
        expiries=list(ledger.expiries),
    )
