"""The writer's SQL layer (custody/sql/): its planner settings stay inside its transaction,
its write stores the same whether its parts go as VALUES lists or as arrays, and an error
of its overlapped write comes out of the writer with nothing stored.

On PostgreSQL the writer plans its prepared statements generically with sequential scans off
(``custody.sql.postgres.lock_chain``). Those are ``SET LOCAL`` settings: a later query on
Django's shared connection must plan as if the writer had never run. SQLite has no such
settings; there the test checks that the backend chosen is SQLite's.
"""

from datetime import UTC, datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from custody import services, signals, sql
from custody.identifiers import client_ref, wallet_ref
from custody.ledger import Balance, TransferCode
from custody.models import LedgerAccount, OpenPending
from custody.models import Transfer as TransferRow
from custody.sql import postgres
from custody.sql.postgres import _FEW as FEW
from custody.transfers import Transfer
from custody.verification import verify_ledger
from custody.writer import create_transfers
from tests.custody.db import ensure_seeded

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
PLANNER_SETTINGS = ("plan_cache_mode", "enable_seqscan")


def _planner_settings() -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        settings = {}
        for name in PLANNER_SETTINGS:
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
        return settings


def _deposit(number: int, seen: list[dict[str, str]]) -> None:
    client, wallet = client_ref("acc-1", "USDC"), wallet_ref("w", "USDC")
    deposit = Transfer(
        id=f"d-{number}",
        debit_account_id=wallet,
        credit_account_id=client,
        amount=100,
        asset="USDC",
        code=TransferCode.DEPOSIT,
    )
    outcomes = create_transfers(
        transfers=[deposit],
        now=T0,
        open_accounts=(client, wallet),
        before_commit=lambda _: seen.append(_planner_settings()),
    )
    assert outcomes[0].accepted


@pytest.mark.django_db(transaction=True)
def test_the_writers_planner_settings_end_with_its_transaction():
    ensure_seeded()
    before = _planner_settings()
    inside: list[dict[str, str]] = []
    for number in range(3):  # prepared on the first batches, reused after
        _deposit(number, inside)
        assert _planner_settings() == before
        with transaction.atomic():
            assert _planner_settings() == before
    if connection.vendor == "postgresql":
        assert sql.backend().__name__ == "custody.sql.postgres"
        assert inside == [{"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}] * 3
        assert before != inside[0]
    else:
        assert sql.backend().__name__ == "custody.sql.sqlite"
        assert before == {}


@pytest.mark.django_db(transaction=True)
def test_a_write_the_database_refuses_is_raised_and_stores_nothing(monkeypatch):
    """The write is overlapped with the writer's Python (``overlapped``): an error of the
    write must still come out of ``create_transfers``, with nothing of the batch stored and
    no signal sent, and the next batch must be written normally."""
    ensure_seeded()
    _deposit(1, [])
    backend = sql.backend()
    write_batch = backend.write_batch

    def negative_counters(cursor, rows, changed, opened, closed):
        refused = {ref: Balance(-1, 0, 0, 0) for ref in changed}  # CHECK: never negative
        write_batch(cursor, rows, refused, opened, closed)

    sent = []

    def listen(sender, **kwargs):
        sent.append(kwargs)

    signals.balances_changed.connect(listen)
    try:
        monkeypatch.setattr(backend, "write_batch", negative_counters)
        before = (TransferRow.objects.count(), list(LedgerAccount.objects.values_list()))
        with pytest.raises((IntegrityError, psycopg.IntegrityError)):
            _deposit(2, [])
        assert (TransferRow.objects.count(), list(LedgerAccount.objects.values_list())) == before
        assert sent == []
        monkeypatch.setattr(backend, "write_batch", write_batch)
        _deposit(3, [])
        assert TransferRow.objects.filter(transfer_id="d-3").exists()
        assert len(sent) == 1
    finally:
        signals.balances_changed.disconnect(listen)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [1, FEW, FEW + 1, 3 * FEW])
def test_every_part_of_the_write_as_a_values_list_and_as_arrays(size):
    """On PostgreSQL a part of the write (rows, counters, opened and closed pending
    transfers) of up to ``FEW`` rows goes as a VALUES list, a larger one as arrays: batches
    on both sides of the threshold store what the specification says, and verify."""
    ensure_seeded()
    clients = [f"acc-{number}" for number in range(size)]
    wallet = wallet_ref("w", "USDC")
    refs = [client_ref(client, "USDC") for client in clients]
    create_transfers(transfers=[], now=T0, open_accounts=[wallet, *refs])
    deposits = [
        Transfer(
            id=f"d-{client}",
            debit_account_id=wallet,
            credit_account_id=ref,
            amount=1_000,
            asset="USDC",
            code=TransferCode.DEPOSIT,
        )
        for client, ref in zip(clients, refs, strict=True)
    ]
    holds = [
        services.MarginReservation(id=f"m-{client}", account_id=client, asset="USDC", amount=300)
        for client in clients
    ]
    posts = [
        services.MarginPost(id=f"p-{client}", reservation_id=f"m-{client}", amount=100)
        for client in clients
    ]
    assert all(outcome.accepted for outcome in create_transfers(transfers=deposits, now=T0))
    assert all(outcome.accepted for outcome in services.reserve_margin(reservations=holds, now=T0))
    assert OpenPending.objects.count() == size
    assert all(outcome.accepted for outcome in services.post_margin(posts=posts, now=T0))
    assert OpenPending.objects.count() == 0
    counters = {
        ref: tuple(counts)
        for ref, *counts in LedgerAccount.objects.filter(id__in=refs).values_list(
            "id", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
        )
    }
    assert counters == {ref: (0, 100, 0, 1_000) for ref in refs}
    assert TransferRow.objects.count() == 3 * size
    report = verify_ledger()
    assert report.ok, report.problem


def test_the_read_is_short_enough_for_psycopg_to_cache_its_conversion():
    """psycopg converts a query's ``%(name)s`` placeholders with a regex and caches the
    result only for texts up to ``MAX_CACHED_STATEMENT_LENGTH`` bytes; above it, every batch
    paid for the parse (the read was 4.3 KB)."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    assert len(postgres._pg_read_sql().encode()) <= MAX_CACHED_STATEMENT_LENGTH
