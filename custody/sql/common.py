"""What both backends' ledger SQL share: the columns read and written, the batch's reads,
and quoted names taken from the models.

The SQL names the models' own tables and columns, never anything from input (S608 does not
apply to the statements built from these).
"""

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from custody.transfer_rows import TRANSFER_COLUMNS, TransferRow
from custody.transfers import TransferFlags

ACCOUNT_COLUMNS = (
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
COUNTER_COLUMNS = ACCOUNT_COLUMNS[5:]
OPEN_PENDING_COLUMNS = (
    "pending_id",
    "debit_account_id",
    "credit_account_id",
    "asset_id",
    "amount",
    "expires_at",
)
TIME_POSITIONS = (TRANSFER_COLUMNS.index("expires_at"), TRANSFER_COLUMNS.index("created_at"))
"""Where the datetimes are in a :data:`~custody.transfer_rows.TransferRow`."""
PENDING_BIT = TransferFlags.PENDING.value


@dataclass(slots=True)
class BatchSnapshot:
    """Everything a batch can touch, read under the chain lock from one snapshot."""

    head: TransferRow | None = None
    due: dict[str, datetime] = field(default_factory=dict)
    """Open pending transfers whose deadline has come (``pending_id -> expires_at``)."""
    swept: set[str] = field(default_factory=set)
    """Open pending transfers of the assets the batch sweeps."""
    rows: list[TransferRow] = field(default_factory=list)
    refusals: list[tuple[str, dict, str, str]] = field(default_factory=list)
    accounts: list[tuple] = field(default_factory=list)


@functools.cache
def quote(name: str) -> str:
    """A quoted identifier. SQLite and PostgreSQL both quote with double quotes, so quoted
    names and the statements built from them are cached once per process."""
    return connection.ops.quote_name(name)


@functools.cache
def table(model) -> str:
    return quote(model._meta.db_table)


@functools.cache
def columns(model, fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(quote(model._meta.get_field(name).column) for name in fields)


def json_value(value):
    """A JSON column as Python: SQLite hands back text, psycopg the decoded value."""
    return json.loads(value) if isinstance(value, str | bytes) else value
