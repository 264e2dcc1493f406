"""Serialising writers of an append-only chain (audit log, ledger).

PostgreSQL: a transaction-scoped advisory lock, so appenders queue instead of racing for the
same next sequence number. SQLite: writes are already serialised by ``BEGIN IMMEDIATE``
(see ``settings.base``), so there is nothing more to take.
"""

from __future__ import annotations

import zlib

from django.db import connection


def lock_id(name: str) -> int:
    return zlib.crc32(name.encode())


def serialise(name: str) -> None:
    """Take the named lock until the end of the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id(name)])
