"""The ledger writer's SQL on SQLite: in process, so a few short statements, no round trips.

SQLite serialises writers with ``BEGIN IMMEDIATE`` (settings/base.py), so the chain lock
costs nothing here and the batch's reads need no ``FOR UPDATE``; rows go in with
``executemany``. SQLite hands datetimes back naive (stored in UTC): they are made aware.
"""

import contextlib
from datetime import UTC, datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from custody.ledger import Balance
from custody.models import LedgerAccount, OpenPending, Transfer, TransferRefusal
from custody.sql.common import (
    ACCOUNT_COLUMNS,
    COUNTER_COLUMNS,
    OPEN_PENDING_COLUMNS,
    PENDING_BIT,
    TIME_POSITIONS,
    BatchSnapshot,
    columns,
    json_value,
    quote,
    table,
)
from custody.transfer_rows import TRANSFER_COLUMNS, TransferRow


def cursor():
    """Django's own cursor."""
    return connection.cursor()


def lock_chain(cursor, lock: int) -> None:
    """Nothing to do: the transaction's ``BEGIN IMMEDIATE`` already holds the write lock."""


def read_batch(cursor, requested, ids, pending_ids, refs, sweep_assets):
    snapshot = BatchSnapshot()
    t_cols = ", ".join(columns(Transfer, TRANSFER_COLUMNS))
    cursor.execute(
        f"SELECT {t_cols} FROM {table(Transfer)} ORDER BY {quote('seq')} DESC LIMIT 1"  # noqa: S608
    )
    head = cursor.fetchone()
    snapshot.head = None if head is None else _transfer_row(head)
    moment = max(requested, snapshot.head.created_at) if snapshot.head else requested
    cursor.execute(
        f"SELECT {quote('pending_id')}, {quote('expires_at')} FROM {table(OpenPending)} "  # noqa: S608
        f"WHERE {quote('expires_at')} <= %s",
        [connection.ops.adapt_datetimefield_value(moment)],
    )
    snapshot.due = {pending_id: _aware(expires_at) for pending_id, expires_at in cursor.fetchall()}
    if sweep_assets:
        where, params = _in(quote("asset"), sweep_assets)
        cursor.execute(
            f"SELECT {quote('pending_id')} FROM {table(OpenPending)} WHERE {where}",  # noqa: S608
            params,
        )
        snapshot.swept = {row[0] for row in cursor.fetchall()}
    wanted = sorted(set(ids) | set(pending_ids) | set(snapshot.due) | snapshot.swept)
    where, params = _any_of((("transfer_id", wanted), ("pending_id", pending_ids)))
    if where:
        cursor.execute(f"SELECT {t_cols} FROM {table(Transfer)} WHERE {where}", params)  # noqa: S608
        snapshot.rows = [_transfer_row(row) for row in cursor.fetchall()]
    if ids:
        where, params = _in(quote("transfer_id"), ids)
        fields = ("transfer_id", "request", "result", "message")
        cursor.execute(
            f"SELECT {', '.join(columns(TransferRefusal, fields))} "  # noqa: S608
            f"FROM {table(TransferRefusal)} WHERE {where}",
            params,
        )
        snapshot.refusals = [
            (tid, json_value(req), res, msg) for tid, req, res, msg in cursor.fetchall()
        ]
    snapshot.accounts = _locked_accounts(cursor, snapshot.rows, refs, sweep_assets)
    return moment, snapshot


def _locked_accounts(cursor, rows, refs, sweep_assets) -> list[tuple]:
    """``refs``, the accounts of every pending transfer read, every account of the swept
    assets, in ascending id order."""
    locked = set(refs)
    for row in rows:
        if row.flags & PENDING_BIT:
            locked.update((row.debit_account_id, row.credit_account_id))
    where, params = _any_of((("id", sorted(locked)), ("asset", sweep_assets)))
    if not where:
        return []
    cursor.execute(
        f"SELECT {', '.join(columns(LedgerAccount, ACCOUNT_COLUMNS))} "  # noqa: S608
        f"FROM {table(LedgerAccount)} WHERE {where} ORDER BY {quote('id')}",
        params,
    )
    return [
        (ref, kind, asset, bool(dmnec), bool(cmned), *counters)
        for ref, kind, asset, dmnec, cmned, *counters in cursor.fetchall()
    ]


def overlapped(cursor, changes) -> contextlib.nullcontext:
    """In process: every statement has run when it returns."""
    return contextlib.nullcontext()


def more_resolutions(cursor, pending_ids: list[str]) -> list[TransferRow]:
    where, params = _in(quote("pending_id"), pending_ids)
    cursor.execute(
        f"SELECT {', '.join(columns(Transfer, TRANSFER_COLUMNS))} FROM {table(Transfer)} "  # noqa: S608
        f"WHERE {where}",
        params,
    )
    return [_transfer_row(row) for row in cursor.fetchall()]


def write_batch(cursor, rows, changed: dict[str, Balance], opened, closed) -> None:
    if not (rows or changed or opened or closed):
        return
    adapt = connection.ops.adapt_datetimefield_value
    if rows:
        expires, created = TIME_POSITIONS
        names = ", ".join(columns(Transfer, TRANSFER_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table(Transfer)} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(TRANSFER_COLUMNS))})",
            [
                (*row[:expires], adapt(row[expires]), adapt(row[created]), *row[created + 1 :])
                for row in rows
            ],
        )
    if opened:
        names = ", ".join(columns(OpenPending, OPEN_PENDING_COLUMNS))
        cursor.executemany(
            f"INSERT INTO {table(OpenPending)} ({names}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
            [(*row[:5], adapt(row[5])) for row in opened],
        )
    if closed:
        where, params = _in(quote("pending_id"), closed)
        cursor.execute(f"DELETE FROM {table(OpenPending)} WHERE {where}", params)  # noqa: S608
    if changed:
        assignments = ", ".join(
            f"{column} = %s" for column in columns(LedgerAccount, COUNTER_COLUMNS)
        )
        cursor.executemany(
            f"UPDATE {table(LedgerAccount)} SET {assignments} WHERE {quote('id')} = %s",  # noqa: S608
            [
                (b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted, ref)
                for ref, b in changed.items()
            ],
        )


def _in(column: str, values: list) -> tuple[str, list]:
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _any_of(conditions) -> tuple[str, list]:
    """``a IN (...) OR b IN (...)`` over the ``(column, values)`` pairs that have values."""
    clauses, params = [], []
    for column, values in conditions:
        if values:
            clause, more = _in(quote(column), values)
            clauses.append(clause)
            params += more
    return " OR ".join(clauses), params


def _aware(moment):
    """SQLite hands raw datetimes back naive (stored in UTC), or as text from an aggregate."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _transfer_row(row: tuple) -> TransferRow:
    values = list(row)
    for index in TIME_POSITIONS:
        values[index] = _aware(values[index])
    return TransferRow(*values)
