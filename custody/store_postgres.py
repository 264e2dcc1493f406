"""The ledger writer's two PostgreSQL statements (see custody/store.py for why).

:func:`read` is one statement after the chain lock: the head and the batch's clock, the due
and swept pending transfers, the rows the batch names, the recorded refusals and the accounts
locked ``FOR UPDATE`` in ascending id order, as a tagged ``UNION ALL`` of CTEs read from one
snapshot. :func:`write` is one statement: the new rows, the open-pending index and the
counters as data-modifying CTEs. Both are fixed texts with array parameters, prepared once
per connection. Table and column names come from the models, never from input (S608).
"""

import functools

from custody.models import LedgerAccount, OpenPending, Transfer, TransferRefusal
from custody.store import (
    _COUNTERS,
    _PENDING,
    ACCOUNT_FIELDS,
    OPEN_FIELDS,
    TRANSFER_FIELDS,
    BatchWorld,
    StoredTransfer,
    _columns,
    _json,
    _q,
    _table,
)

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
    transfer, account, pending = _table(Transfer), _table(LedgerAccount), _table(OpenPending)
    t_cols = _columns(Transfer, TRANSFER_FIELDS)
    a_cols = _columns(LedgerAccount, ACCOUNT_FIELDS)
    r_cols = _columns(TransferRefusal, ("request", "result", "message"))
    seq, tid, pid = _q("seq"), _q("transfer_id"), _q("pending_id")
    expires, created, asset = _q("expires_at"), _q("created_at"), _q("asset")
    debit, credit, flags = (
        _q(Transfer._meta.get_field(name).column)
        for name in ("debit_account_id", "credit_account_id", "flags")
    )

    t_null = [f"NULL::{_PG_TYPES.get(name, 'text')}" for name in TRANSFER_FIELDS]
    a_null = ["NULL::text"] * 3 + ["NULL::boolean"] * 2 + ["NULL::bigint"] * 4

    def select(tag: str, transfer=None, deadline="NULL::timestamptz", refusal=None, account=None):
        # Typed NULLs: PostgreSQL resolves UNION column types branch by branch.
        parts = [f"'{tag}'"]
        parts += transfer or t_null
        parts.append(deadline)
        parts += refusal or ["NULL::jsonb", "NULL::text", "NULL::text"]
        parts += account or a_null
        return "SELECT " + ", ".join(parts)

    def slot(values: dict[str, str]) -> list[str]:
        return [values.get(name, t_null[i]) for i, name in enumerate(TRANSFER_FIELDS)]

    return f"""
WITH head AS (
    SELECT {", ".join(t_cols)} FROM {transfer} ORDER BY {seq} DESC LIMIT 1
), clock AS (
    SELECT GREATEST(
        %(now)s::timestamptz, COALESCE((SELECT {created} FROM head), %(now)s::timestamptz)
    ) AS now
), due AS (
    SELECT {pid}, {expires} FROM {pending} WHERE {expires} <= (SELECT now FROM clock)
), swept AS (
    SELECT {pid} FROM {pending} WHERE {asset} = ANY(%(assets)s::text[])
), wanted AS (
    SELECT unnest(%(ids)s::text[]) AS id UNION SELECT {pid} FROM due UNION SELECT {pid} FROM swept
), found AS (
    SELECT {", ".join(t_cols)} FROM {transfer} WHERE {tid} = ANY(ARRAY(SELECT id FROM wanted))
    UNION ALL
    SELECT {", ".join(t_cols)} FROM {transfer} WHERE {pid} = ANY(%(pending_ids)s::text[])
), lock_ids AS (
    SELECT unnest(%(refs)s::text[]) AS id
    UNION SELECT {debit} FROM found WHERE {flags} & {_PENDING} <> 0
    UNION SELECT {credit} FROM found WHERE {flags} & {_PENDING} <> 0
    UNION SELECT {_q("id")} FROM {account} WHERE {asset} = ANY(%(assets)s::text[])
), locked AS (
    SELECT {", ".join(a_cols)} FROM {account}
    WHERE {_q("id")} = ANY(ARRAY(SELECT id FROM lock_ids))
    ORDER BY {_q("id")} FOR UPDATE
)
{select("h", transfer=list(t_cols), deadline="(SELECT now FROM clock)")} FROM head
UNION ALL {select("c", deadline="(SELECT now FROM clock)")}
UNION ALL {select("d", transfer=slot({"transfer_id": pid, "expires_at": expires}))} FROM due
UNION ALL {select("o", transfer=slot({"transfer_id": pid}))} FROM swept
UNION ALL {select("t", transfer=list(t_cols))} FROM found
UNION ALL {select("r", transfer=slot({"transfer_id": tid}), refusal=list(r_cols))}
    FROM {_table(TransferRefusal)} WHERE {tid} = ANY(%(ids)s::text[])
UNION ALL {select("a", account=list(a_cols))} FROM locked
"""  # noqa: S608 (names from the models)


def read(cursor, requested, ids, pending_ids, refs, sweep_assets):
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
    )
    world = BatchWorld()
    moment = requested
    width_t = len(TRANSFER_FIELDS)
    tid = 1 + TRANSFER_FIELDS.index("transfer_id")
    expires = 1 + TRANSFER_FIELDS.index("expires_at")
    for row in cursor.fetchall():
        tag = row[0]
        if tag == "a":
            ref, kind, asset, dmnec, cmned, *counters = row[width_t + 5 :]
            world.accounts.append((ref, kind, asset, dmnec, cmned, *counters))
        elif tag == "t":
            world.rows.append(StoredTransfer(*row[1 : width_t + 1]))
        elif tag == "d":
            world.due[row[tid]] = row[expires]
        elif tag == "o":
            world.swept.add(row[tid])
        elif tag == "r":
            request, result, message = row[width_t + 2 : width_t + 5]
            world.refusals.append((row[tid], _json(request), result, message))
        elif tag == "h":
            world.head = StoredTransfer(*row[1 : width_t + 1])
        elif tag == "c":
            moment = row[width_t + 1]
    return moment, world


@functools.cache
def _pg_write_sql(rows: bool, changed: bool, opened: bool, closed: bool) -> str:
    """One statement: the last part plain, the others as data-modifying CTEs. Parameters go
    in binary (``%b``): the arrays are dumped by psycopg's C code instead of as text."""
    # Table and column names come from the models, never from input: S608 does not apply.
    statements = []
    if rows:
        columns = ", ".join(_columns(Transfer, TRANSFER_FIELDS))
        arrays = ", ".join(
            f"%(t{i})b::{_PG_TYPES.get(name, 'text')}[]" for i, name in enumerate(TRANSFER_FIELDS)
        )
        statements.append(
            f"INSERT INTO {_table(Transfer)} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
        )
    if opened:
        columns = ", ".join(_columns(OpenPending, OPEN_FIELDS))
        statements.append(
            f"INSERT INTO {_table(OpenPending)} ({columns}) SELECT * FROM unnest("  # noqa: S608
            "%(o0)b::text[], %(o1)b::text[], %(o2)b::text[], %(o3)b::text[], "
            "%(o4)b::bigint[], %(o5)b::timestamptz[])"
        )
    if closed:
        pending_id = _q("pending_id")
        statements.append(
            f"DELETE FROM {_table(OpenPending)} "  # noqa: S608
            f"WHERE {pending_id} = ANY(%(closed)b::text[])"
        )
    if changed:
        counters = _columns(LedgerAccount, _COUNTERS)
        assignments = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(counters))
        statements.append(
            f"UPDATE {_table(LedgerAccount)} AS a SET {assignments} FROM unnest("  # noqa: S608
            "%(ids)b::text[], %(c0)b::bigint[], %(c1)b::bigint[], %(c2)b::bigint[], "
            f"%(c3)b::bigint[]) AS v(id, c0, c1, c2, c3) WHERE a.{_q('id')} = v.id"
        )
    *first, last = statements
    if not first:
        return last
    ctes = ", ".join(f"w{i} AS ({statement})" for i, statement in enumerate(first))
    return f"WITH {ctes} {last}"


def write(cursor, rows, changed, opened, closed) -> None:
    params: dict[str, object] = {}
    for i, column in enumerate(zip(*rows, strict=True) if rows else ()):
        params[f"t{i}"] = list(column)
    for i, column in enumerate(zip(*opened, strict=True) if opened else ()):
        params[f"o{i}"] = list(column)
    if closed:
        params["closed"] = closed
    if changed:
        params["ids"] = list(changed)
        balances = list(changed.values())
        for i, name in enumerate(_COUNTERS):
            params[f"c{i}"] = [getattr(balance, name) for balance in balances]
    cursor.execute(
        _pg_write_sql(bool(rows), bool(changed), bool(opened), bool(closed)), params, prepare=True
    )
