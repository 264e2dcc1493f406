"""The ledger writer's SQL: what one batch reads and writes, in as few round trips as possible.

The writer holds the ``ledger-chain`` lock while it runs these, so their latency is the
ledger's throughput. On PostgreSQL a batch costs four statements after ``BEGIN``: the lock,
one read of everything the batch can touch (:func:`read_batch`: the chain head, the pending
transfers that are due, the rows its ids name, recorded refusals, and the accounts, locked
``FOR UPDATE`` in ascending id order, all from one snapshot taken after the lock), one write
(:func:`write_batch`: the rows appended, the counters, the open-pending index, as
data-modifying CTEs), and ``COMMIT``. Every variable list is one array parameter, so each
statement's text is fixed and is prepared once per connection (a plain psycopg cursor with
``prepare=True``: server-side binding and a cached plan, where Django's defaults would
re-render the text and re-plan it every time; behind a transaction-pooling PgBouncer older
than 1.21 that needs ``max_prepared_statements``). On SQLite (in process, no round trips)
the same reads and writes are a few short statements, ``executemany`` for rows.

Results come back as :data:`StoredTransfer` tuples with the model's attribute names, so
callers read them like model instances. The SQL names the models' own tables and columns.
The PostgreSQL statements are in custody/store_postgres.py; the SQLite ones are here.
"""

import functools
import json
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from custody.ledger import Balance
from custody.models import LedgerAccount, OpenPending, Transfer, TransferRefusal
from custody.transfers import TransferFlags

TRANSFER_FIELDS = (
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
StoredTransfer = namedtuple("StoredTransfer", TRANSFER_FIELDS)
"""A stored transfer row (the columns of :class:`custody.models.Transfer` by attribute)."""

ACCOUNT_FIELDS = (
    "id",
    "kind",
    "asset_id",
    "debits_must_not_exceed_credits",
    "credits_must_not_exceed_debits",
    "debits_pending",
    "debits_posted",
    "credits_pending",
    "credits_posted",
)
OPEN_FIELDS = (
    "pending_id",
    "debit_account_id",
    "credit_account_id",
    "asset_id",
    "amount",
    "expires_at",
)
_COUNTERS = ACCOUNT_FIELDS[5:]
_TIMES = (TRANSFER_FIELDS.index("expires_at"), TRANSFER_FIELDS.index("created_at"))
_PENDING = TransferFlags.PENDING.value


@dataclass(slots=True)
class BatchWorld:
    """Everything a batch can touch, read under the chain lock from one snapshot."""

    head: StoredTransfer | None = None
    due: dict[str, datetime] = field(default_factory=dict)
    """Open pending transfers whose deadline has come (``pending_id -> expires_at``)."""
    swept: set[str] = field(default_factory=set)
    """Open pending transfers of the assets the batch sweeps."""
    rows: list[StoredTransfer] = field(default_factory=list)
    refusals: list[tuple[str, dict, str, str]] = field(default_factory=list)
    accounts: list[tuple] = field(default_factory=list)


def cursor():
    """The writer's cursor: on PostgreSQL a plain psycopg cursor on Django's connection
    (server-side binding, prepared statements), on SQLite Django's own."""
    if _postgres():
        import psycopg

        raw = connection.connection
        if raw.prepare_threshold is None:
            # Django leaves psycopg's preparation off (None disables it even for an explicit
            # ``prepare=True``). Only the writer's statements ask to be prepared; everything
            # else on the connection still is not, whatever it runs.
            raw.prepare_threshold = 2**31 - 1
        return psycopg.Cursor(raw)
    return connection.cursor()


def lock_chain(cursor, lock: int) -> None:
    """Take the chain lock for the rest of the transaction (one round trip on PostgreSQL),
    with the writer's planner settings local to the same transaction.

    The writer's statements are prepared once per connection and keep one generic plan
    (``plan_cache_mode``), planned with sequential scans off: a plan made while the tables
    are new and small would otherwise scan them whole for ever after, as they grow (seen:
    a fresh database fell from thousands of transfers per second to hundreds as its first
    100,000 rows arrived). Every lookup here has an index. ``set_config(..., true)`` is SET
    LOCAL: nothing leaks into the other queries of Django's connection.
    """
    if _postgres():
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s), set_config('plan_cache_mode', "
            "'force_generic_plan', true), set_config('enable_seqscan', 'off', true)",
            (lock,),
            prepare=True,
        )
        cursor.fetchall()


def read_batch(
    cursor,
    *,
    requested: datetime,
    ids: list[str],
    pending_ids: list[str],
    refs: list[str],
    sweep_assets: list[str],
) -> tuple[datetime, BatchWorld]:
    """The batch's time (never before the chain head's) and its world.

    Rows read: those whose id is in ``ids`` or ``pending_ids``, the resolutions of
    ``pending_ids``, and the rows of the due and swept pending transfers. Accounts locked:
    ``refs``, the accounts of every pending transfer read, and every account of
    ``sweep_assets``.
    """
    if _postgres():
        from custody import store_postgres

        return store_postgres.read(cursor, requested, ids, pending_ids, refs, sweep_assets)
    return _read_sqlite(cursor, requested, ids, pending_ids, refs, sweep_assets)


def more_resolutions(cursor, pending_ids: list[str]) -> list[StoredTransfer]:
    """Rows resolving ``pending_ids`` (for pending transfers a batch only replays)."""
    where, params = _in(_q("pending_id"), pending_ids)
    cursor.execute(
        f"SELECT {', '.join(_columns(Transfer, TRANSFER_FIELDS))} FROM {_table(Transfer)} "  # noqa: S608
        f"WHERE {where}",
        params,
    )
    return [_transfer(row) for row in cursor.fetchall()]


def write_batch(
    cursor,
    *,
    rows: list[StoredTransfer],
    changed: dict[str, Balance],
    opened: list[tuple],
    closed: list[str],
) -> None:
    """Append ``rows``, store the ``changed`` counters (the CHECK constraints apply), add
    ``opened`` (:data:`OPEN_FIELDS` tuples) to the open-pending index, drop ``closed``."""
    if not (rows or changed or opened or closed):
        return
    if _postgres():
        from custody import store_postgres

        store_postgres.write(cursor, rows, changed, opened, closed)
    else:
        _write_sqlite(cursor, rows, changed, opened, closed)


# --- SQLite ----------------------------------------------------------------------------


def _read_sqlite(cursor, requested, ids, pending_ids, refs, sweep_assets):
    world = BatchWorld()
    t_cols = ", ".join(_columns(Transfer, TRANSFER_FIELDS))
    cursor.execute(
        f"SELECT {t_cols} FROM {_table(Transfer)} ORDER BY {_q('seq')} DESC LIMIT 1"  # noqa: S608
    )
    head = cursor.fetchone()
    world.head = None if head is None else _transfer(head)
    moment = max(requested, world.head.created_at) if world.head else requested
    cursor.execute(
        f"SELECT {_q('pending_id')}, {_q('expires_at')} FROM {_table(OpenPending)} "  # noqa: S608
        f"WHERE {_q('expires_at')} <= %s",
        [connection.ops.adapt_datetimefield_value(moment)],
    )
    world.due = {pending_id: _aware(expires_at) for pending_id, expires_at in cursor.fetchall()}
    if sweep_assets:
        where, params = _in(_q("asset"), sweep_assets)
        cursor.execute(
            f"SELECT {_q('pending_id')} FROM {_table(OpenPending)} WHERE {where}",  # noqa: S608
            params,
        )
        world.swept = {row[0] for row in cursor.fetchall()}
    wanted = sorted(set(ids) | set(pending_ids) | set(world.due) | world.swept)
    clauses, params = [], []
    for column, values in (("transfer_id", wanted), ("pending_id", pending_ids)):
        if values:
            clause, more = _in(_q(column), values)
            clauses.append(clause)
            params += more
    if clauses:
        cursor.execute(
            f"SELECT {t_cols} FROM {_table(Transfer)} WHERE {' OR '.join(clauses)}",  # noqa: S608
            params,
        )
        world.rows = [_transfer(row) for row in cursor.fetchall()]
    if ids:
        where, params = _in(_q("transfer_id"), ids)
        fields = ("transfer_id", "request", "result", "message")
        cursor.execute(
            f"SELECT {', '.join(_columns(TransferRefusal, fields))} "  # noqa: S608
            f"FROM {_table(TransferRefusal)} WHERE {where}",
            params,
        )
        world.refusals = [(tid, _json(req), res, msg) for tid, req, res, msg in cursor.fetchall()]
    locked = set(refs)
    for row in world.rows:
        if row.flags & _PENDING:
            locked.update((row.debit_account_id, row.credit_account_id))
    clauses, params = [], []
    for column, values in (("id", sorted(locked)), ("asset", sweep_assets)):
        if values:
            clause, more = _in(_q(column), values)
            clauses.append(clause)
            params += more
    if clauses:
        cursor.execute(
            f"SELECT {', '.join(_columns(LedgerAccount, ACCOUNT_FIELDS))} "  # noqa: S608
            f"FROM {_table(LedgerAccount)} WHERE {' OR '.join(clauses)} ORDER BY {_q('id')}",
            params,
        )
        world.accounts = [
            (ref, kind, asset, bool(dmnec), bool(cmned), *counters)
            for ref, kind, asset, dmnec, cmned, *counters in cursor.fetchall()
        ]
    return moment, world


def _write_sqlite(cursor, rows, changed, opened, closed) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    if rows:
        expires, created = _TIMES
        columns = ", ".join(_columns(Transfer, TRANSFER_FIELDS))
        cursor.executemany(
            f"INSERT INTO {_table(Transfer)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(TRANSFER_FIELDS))})",
            [
                (*row[:expires], adapt(row[expires]), adapt(row[created]), *row[created + 1 :])
                for row in rows
            ],
        )
    if opened:
        columns = ", ".join(_columns(OpenPending, OPEN_FIELDS))
        cursor.executemany(
            f"INSERT INTO {_table(OpenPending)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
            [(*row[:5], adapt(row[5])) for row in opened],
        )
    if closed:
        where, params = _in(_q("pending_id"), closed)
        cursor.execute(f"DELETE FROM {_table(OpenPending)} WHERE {where}", params)  # noqa: S608
    if changed:
        counters = _columns(LedgerAccount, _COUNTERS)
        assignments = ", ".join(f"{column} = %s" for column in counters)
        cursor.executemany(
            f"UPDATE {_table(LedgerAccount)} SET {assignments} WHERE {_q('id')} = %s",  # noqa: S608
            [
                (b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted, ref)
                for ref, b in changed.items()
            ],
        )


# --- helpers ---------------------------------------------------------------------------


@functools.cache
def _q(name: str) -> str:
    """A quoted identifier. SQLite and PostgreSQL both quote with double quotes, so quoted
    names and the statements built from them are cached once per process."""
    return connection.ops.quote_name(name)


@functools.cache
def _table(model) -> str:
    return _q(model._meta.db_table)


@functools.cache
def _columns(model, fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_q(model._meta.get_field(name).column) for name in fields)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _in(column: str, values: list) -> tuple[str, list]:
    """``column IN (...)``: one array parameter on PostgreSQL, placeholders on SQLite."""
    if _postgres():
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _aware(moment):
    """SQLite hands raw datetimes back naive (stored in UTC), or as text from an aggregate."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _transfer(row: tuple) -> StoredTransfer:
    values = list(row)
    for index in _TIMES:
        values[index] = _aware(values[index])
    return StoredTransfer(*values)


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value
