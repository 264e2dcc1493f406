"""The ledger writer's SQL on PostgreSQL: a batch in four statements after ``BEGIN``.

The writer holds the ``ledger-chain`` lock while it runs these, so their latency is the
ledger's throughput: the lock (:func:`lock_chain`), one read of everything the batch can
touch (:func:`read_batch`: the chain head, the due and swept pending transfers, the rows
the batch names, the recorded refusals and the accounts locked ``FOR UPDATE`` in ascending
id order, as a tagged ``UNION ALL`` of CTEs read from one snapshot taken after the lock), one
write (:func:`write_batch`: the new rows, the open-pending index and the counters as
data-modifying CTEs, sent without waiting: :func:`overlapped`), and ``COMMIT``. Every
variable list is one array parameter, so each statement's text is fixed and is prepared
once per connection (a plain psycopg cursor with ``prepare=True``: server-side binding and a
cached plan, where Django's defaults would re-render the text and re-plan it every time;
behind a transaction-pooling PgBouncer older than 1.21 that needs
``max_prepared_statements``). Table and column names come from the models, never from input
(S608).
"""

import contextlib
import functools

import psycopg
from django.db import connection

from custody.models import LedgerAccount, OpenPending, Transfer, TransferRefusal
from custody.sql.common import (
    ACCOUNT_COLUMNS,
    COUNTER_COLUMNS,
    OPEN_PENDING_COLUMNS,
    PENDING_BIT,
    BatchSnapshot,
    columns,
    json_value,
    quote,
    table,
)
from custody.transfer_rows import TRANSFER_COLUMNS, TransferRow

_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1

_LOCK_AND_PLANNER_SQL = (
    "SELECT pg_advisory_xact_lock(%s), set_config('plan_cache_mode', "
    "'force_generic_plan', true), set_config('enable_seqscan', 'off', true)"
)


def cursor() -> psycopg.Cursor:
    """A plain psycopg cursor on Django's connection (server-side binding, prepared
    statements).

    Django leaves psycopg's preparation off (a ``prepare_threshold`` of None disables it even
    for an explicit ``prepare=True``). A threshold no query reaches lets the writer's
    statements, which ask, be prepared, and nothing else: Django's own cursors bind on the
    client and are never prepared, whatever they run. It stays set on the connection so that
    psycopg keeps watching what Django runs there (a ``DROP`` or ``ROLLBACK`` drops the cached
    statements); it changes no setting of the server session.
    """
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    return psycopg.Cursor(raw)


def lock_chain(cursor, lock: int) -> None:
    """Take the chain lock for the rest of the transaction (one round trip), with the
    writer's planner settings local to the same transaction.

    The writer's statements are prepared once per connection and keep one generic plan
    (``plan_cache_mode``), planned with sequential scans off: a plan made while the tables
    are new and small would otherwise scan them whole for ever after, as they grow (seen:
    a fresh database fell from thousands of transfers per second to hundreds as its first
    100,000 rows arrived). Every lookup here has an index. ``set_config(..., true)`` is SET
    LOCAL: both settings end with the writer's transaction, so nothing leaks into the later
    queries of Django's connection (tests/custody/test_sql.py).
    """
    cursor.execute(_LOCK_AND_PLANNER_SQL, (lock,), prepare=True)
    cursor.fetchall()


_PG_TYPES = {
    "seq": "bigint",
    "amount": "bigint",
    "timeout": "bigint",
    "flags": "integer",
    "inherits": "integer",
    "expires_at": "timestamptz",
    "created_at": "timestamptz",
}


@functools.cache
def _pg_read_sql() -> str:
    transfer, account, pending = table(Transfer), table(LedgerAccount), table(OpenPending)
    t_cols = columns(Transfer, TRANSFER_COLUMNS)
    a_cols = columns(LedgerAccount, ACCOUNT_COLUMNS)
    r_cols = columns(TransferRefusal, ("request", "result", "message"))
    seq, tid, pid = quote("seq"), quote("transfer_id"), quote("pending_id")
    expires, created, asset = quote("expires_at"), quote("created_at"), quote("asset")
    debit, credit, flags = (
        quote(Transfer._meta.get_field(name).column)
        for name in ("debit_account_id", "credit_account_id", "flags")
    )

    t_null = ["NULL"] * len(TRANSFER_COLUMNS)
    r_null = ["NULL::jsonb", "NULL::text", "NULL::text"]
    a_null = ["NULL::text"] * 3 + ["NULL::boolean"] * 2 + ["NULL::bigint"] * 4

    def select(tag: str, transfer=None, refusal=None, account=None):
        # PostgreSQL resolves the column types of ``a UNION ALL b UNION ALL c`` left to right,
        # so the first branch (the head: a transfer row) types its NULLs and the others'
        # NULLs take those types. Plain NULLs keep the text under psycopg's 4 KB limit for
        # caching a query's conversion (above it, psycopg parses the text on every call).
        parts = [f"'{tag}'"]
        parts += transfer or t_null
        parts += refusal or (r_null if tag == "h" else ["NULL"] * len(r_null))
        parts += account or (a_null if tag == "h" else ["NULL"] * len(a_null))
        return "SELECT " + ", ".join(parts)

    def slot(values: dict[str, str]) -> list[str]:
        return [values.get(name, "NULL") for name in TRANSFER_COLUMNS]

    # UNION ALL where a list only feeds ``= ANY(...)``: a duplicate changes nothing there, and
    # UNION would hash the lists first.
    return f"""
WITH head AS (
    SELECT {", ".join(t_cols)} FROM {transfer} ORDER BY {seq} DESC LIMIT 1
), due AS (
    SELECT {pid}, {expires} FROM {pending}
    WHERE {expires} <= GREATEST(%(now)s::timestamptz, (SELECT {created} FROM head))
), swept AS (
    SELECT {pid} FROM {pending} WHERE {asset} = ANY(%(assets)s::text[])
), wanted AS (
    SELECT unnest(%(ids)s::text[]) AS id
    UNION ALL SELECT {pid} FROM due UNION ALL SELECT {pid} FROM swept
), found AS (
    SELECT {", ".join(t_cols)} FROM {transfer} WHERE {tid} = ANY(ARRAY(SELECT id FROM wanted))
    UNION ALL
    SELECT {", ".join(t_cols)} FROM {transfer} WHERE {pid} = ANY(%(pending_ids)s::text[])
), lock_ids AS (
    SELECT unnest(%(refs)s::text[]) AS id
    UNION ALL SELECT {debit} FROM found WHERE {flags} & {PENDING_BIT} <> 0
    UNION ALL SELECT {credit} FROM found WHERE {flags} & {PENDING_BIT} <> 0
    UNION ALL SELECT {quote("id")} FROM {account} WHERE {asset} = ANY(%(assets)s::text[])
), locked AS (
    SELECT {", ".join(a_cols)} FROM {account}
    WHERE {quote("id")} = ANY(ARRAY(SELECT id FROM lock_ids))
    ORDER BY {quote("id")} FOR UPDATE
)
{select("h", transfer=list(t_cols))} FROM head
UNION ALL {select("d", transfer=slot({"transfer_id": pid, "expires_at": expires}))} FROM due
UNION ALL {select("o", transfer=slot({"transfer_id": pid}))} FROM swept
UNION ALL {select("t", transfer=list(t_cols))} FROM found
UNION ALL {select("r", transfer=slot({"transfer_id": tid}), refusal=list(r_cols))}
    FROM {table(TransferRefusal)} WHERE {tid} = ANY(%(ids)s::text[])
UNION ALL {select("a", account=list(a_cols))} FROM locked
"""  # noqa: S608 (names from the models)


def read_batch(cursor, requested, ids, pending_ids, refs, sweep_assets):
    cursor.execute(
        _pg_read_sql(),
        {
            "now": requested,
            "ids": sorted(set(ids) | set(pending_ids)),
            "pending_ids": pending_ids,
            "refs": refs,
            "assets": sweep_assets,
        },
        prepare=True,
        # Binary results: psycopg's C loaders. Text would go through Django's timestamptz
        # loader, written in Python (~10 µs a value here).
        binary=True,
    )
    snapshot = BatchSnapshot()
    width_t = len(TRANSFER_COLUMNS)
    tid = 1 + TRANSFER_COLUMNS.index("transfer_id")
    expires = 1 + TRANSFER_COLUMNS.index("expires_at")
    for row in cursor.fetchall():
        tag = row[0]
        if tag == "a":
            snapshot.accounts.append(row[width_t + 4 :])
        elif tag == "t":
            snapshot.rows.append(TransferRow(*row[1 : width_t + 1]))
        elif tag == "d":
            snapshot.due[row[tid]] = row[expires]
        elif tag == "o":
            snapshot.swept.add(row[tid])
        elif tag == "r":
            request, result, message = row[width_t + 1 : width_t + 4]
            snapshot.refusals.append((row[tid], json_value(request), result, message))
        elif tag == "h":
            snapshot.head = TransferRow(*row[1 : width_t + 1])
    head = snapshot.head  # the ledger's clock never runs backwards (custody.writer)
    return (max(requested, head.created_at) if head else requested), snapshot


_FEW = 8
"""Up to this many rows a part of the write passes its values as scalar parameters in a
``VALUES`` list (one prepared statement per shape; a single deposit writes one row and two
counters); beyond, one array parameter per column, whatever the count. psycopg dumps each
list element by element in Python (~3 µs an array even for one element, and the write has
up to 26 columns) and PostgreSQL unnests them, where a scalar is dumped in C: measured,
a deposit ~70 µs less of this process's CPU and ~40 µs less of the server's."""

_MANY = -1
_TRANSFER_TYPES = tuple(_PG_TYPES.get(name, "text") for name in TRANSFER_COLUMNS)
_OPEN_PENDING_TYPES = ("text", "text", "text", "text", "bigint", "timestamptz")
_ID_TYPES = ("text",)
_COUNTER_TYPES = ("text", "bigint", "bigint", "bigint", "bigint")


def _rows_sql(types: tuple[str, ...], count: int) -> str:
    """``count`` rows of columns of ``types`` as a query: a ``VALUES`` list of parameters, or
    (``_MANY``) one array parameter per column, unnested."""
    if count == _MANY:
        arrays = ", ".join(f"%b::{kind}[]" for kind in types)
        return f"SELECT * FROM unnest({arrays})"  # noqa: S608 (types from this module)
    row = "(" + ", ".join(f"%s::{kind}" for kind in types) + ")"
    return "VALUES " + ", ".join([row] * count)


def _rows_params(rows: list[tuple], count: int) -> list:
    if count == _MANY:
        return [list(column) for column in zip(*rows, strict=True)]
    return [value for row in rows for value in row]


@functools.cache
def _pg_write_sql(*, rows: int, opened: int, closed: int, changed: int) -> str:
    """One statement: the last part plain, the others as data-modifying CTEs. Each count is
    the part's number of rows (0: no such part) or ``_MANY``."""
    # Table and column names come from the models, never from input: S608 does not apply.
    statements = []
    if rows:
        names = ", ".join(columns(Transfer, TRANSFER_COLUMNS))
        statements.append(
            f"INSERT INTO {table(Transfer)} ({names}) {_rows_sql(_TRANSFER_TYPES, rows)}"
        )
    if opened:
        names = ", ".join(columns(OpenPending, OPEN_PENDING_COLUMNS))
        statements.append(
            f"INSERT INTO {table(OpenPending)} ({names}) {_rows_sql(_OPEN_PENDING_TYPES, opened)}"
        )
    if closed:
        statements.append(
            f"DELETE FROM {table(OpenPending)} "  # noqa: S608
            f"WHERE {quote('pending_id')} IN ({_rows_sql(_ID_TYPES, closed)})"
        )
    if changed:
        counters = columns(LedgerAccount, COUNTER_COLUMNS)
        assignments = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(counters))
        statements.append(
            f"UPDATE {table(LedgerAccount)} AS a SET {assignments} "  # noqa: S608
            f"FROM ({_rows_sql(_COUNTER_TYPES, changed)}) AS v(id, c0, c1, c2, c3) "
            f"WHERE a.{quote('id')} = v.id"
        )
    *first, last = statements
    if not first:
        return last
    ctes = ", ".join(f"w{i} AS ({statement})" for i, statement in enumerate(first))
    return f"WITH {ctes} {last}"


def write_batch(cursor, rows, changed, opened, closed) -> None:
    if not (rows or changed or opened or closed):
        return
    parts = {  # in the statement's order
        "rows": rows,
        "opened": opened,
        "closed": [(pending_id,) for pending_id in closed],
        "changed": [
            (ref, b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted)
            for ref, b in changed.items()
        ],
    }
    counts = {name: len(part) if len(part) <= _FEW else _MANY for name, part in parts.items()}
    params = []
    for name, part in parts.items():
        if part:
            params += _rows_params(part, counts[name])
    cursor.execute(_pg_write_sql(**counts), params, prepare=True)


def overlapped(cursor, changes) -> contextlib.AbstractContextManager:
    """psycopg's pipeline mode: the write is sent at once and its result read when the block
    ends (one round trip, as before), so PostgreSQL stores a batch while the writer works
    out its announcements and answers. A query the writer runs meanwhile (the segregation
    excess, for a batch that crosses the wall) is queued after the write, on the same
    connection and transaction. With nothing to write (a replay) there is nothing to overlap,
    and a pipeline's end would cost a round trip of its own.

    Measured (interleaved runs of the ledger benchmark): a batch of 100 ~0.5 ms sooner, one
    deposit unchanged. Only the write rides it: psycopg waits for ``BEGIN`` and for a
    pipeline's end each on its own, so pipelining the lock with the read saved no round trip
    (and cost ~60 µs of CPU a deposit in psycopg's pipeline machinery).
    """
    if not any(changes):
        return contextlib.nullcontext()
    return cursor.connection.pipeline()


def more_resolutions(cursor, pending_ids: list[str]) -> list[TransferRow]:
    cursor.execute(
        f"SELECT {', '.join(columns(Transfer, TRANSFER_COLUMNS))} FROM {table(Transfer)} "  # noqa: S608
        f"WHERE {quote('pending_id')} = ANY(%s)",
        [list(pending_ids)],
    )
    return [TransferRow(*row) for row in cursor.fetchall()]
