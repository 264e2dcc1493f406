"""The ledger writer's SQL: what one batch reads and writes, in as few round trips as possible.

The writer holds the ``ledger-chain`` lock while it runs these, so their latency is the
ledger's throughput. The backend's module is chosen once, from the vendor of Django's
connection: :mod:`custody.sql.postgres` (four statements a batch, prepared once per
connection) or :mod:`custody.sql.sqlite` (in process, a few short statements). Both read
and write the same columns (:mod:`custody.sql.common`) and give rows back as
:data:`~custody.transfer_rows.TransferRow` tuples with the model's attribute names, so
callers read them like model instances. Each backend module offers:

- ``cursor()``: the writer's cursor, a context manager;
- ``lock_chain(cursor, lock)``: the chain lock, with the writer's planner settings local to
  its transaction;
- ``read_batch(cursor, requested, ids, pending_ids, refs, sweep_assets)``: the batch's time
  (never before the chain head's) and its :class:`~custody.sql.common.BatchSnapshot`. Rows
  read: those whose id is in ``ids`` or ``pending_ids``, the resolutions of ``pending_ids``,
  and the rows of the due and swept pending transfers. Accounts locked: ``refs``, the
  accounts of every pending transfer read, and every account of ``sweep_assets``;
- ``more_resolutions(cursor, pending_ids)``: the rows resolving ``pending_ids`` (for pending
  transfers a batch only replays);
- ``write_batch(cursor, rows, changed, opened, closed)``: append ``rows``, store the
  ``changed`` counters (the CHECK constraints apply), add ``opened`` (``OPEN_PENDING_COLUMNS``
  tuples) to the open-pending index, drop ``closed``;
- ``overlapped(cursor, changes)``: a context manager for the write of ``changes`` (the
  arguments of ``write_batch``); a statement run inside it may return before the database
  has run it, and the block's end waits for every one (raising the first error), so the
  writer's Python after its write runs while the database works.
"""

import functools
from types import ModuleType

from django.db import connection


@functools.cache
def backend() -> ModuleType:
    """The SQL module of the default database's backend (one per process)."""
    if connection.vendor == "postgresql":
        from custody.sql import postgres

        return postgres
    from custody.sql import sqlite

    return sqlite
