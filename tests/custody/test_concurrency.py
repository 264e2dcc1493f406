"""Many writers on one account: no overdraft, no lost update (PostgreSQL, real threads).

Sixteen threads, each with its own database connection, withdraw from the same client at the
same time, more in total than the client owns. The serialised writer (custody/writer.py)
must accept exactly as many as the balance covers, refuse the rest with INSUFFICIENT_FUNDS,
and leave counters that equal the sum of the accepted withdrawals; verify_ledger must then
replay the chain cleanly. SQLite serialises writers by construction (one writer at a time,
BEGIN IMMEDIATE), so the race this test looks for cannot happen there; it runs on SQLite
too, as a smoke test of the same code path under threads.
"""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections

from custody import services
from custody.identifiers import client_ref
from custody.models import LedgerAccount, Transfer
from custody.verification import verify_ledger
from tests.custody.db import ensure_seeded

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
THREADS = 16
EACH = 3  # withdrawals per thread


@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_withdrawing_from_one_account():
    ensure_seeded()
    services.deposit(
        id="d-1", account_id="acc-1", asset="USDC", amount=1000, custody_wallet="w", now=T0
    )
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def withdraw(thread: int) -> None:
        try:
            barrier.wait(timeout=30)
            for attempt in range(EACH):
                try:
                    services.withdraw(
                        id=f"w-{thread}-{attempt}",
                        account_id="acc-1",
                        asset="USDC",
                        amount=30,
                        custody_wallet="w",
                    )
                    result = "ok"
                except services.TransferRefused as refused:
                    result = refused.code
                with lock:
                    outcomes.append(result)
        except BaseException as error:  # surfaced below, never swallowed
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=withdraw, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    accepted = outcomes.count("ok")
    assert accepted == 1000 // 30  # 33 fit, 15 do not: no overdraft, no lost update
    assert outcomes.count("INSUFFICIENT_FUNDS") == THREADS * EACH - accepted
    account = LedgerAccount.objects.get(id=client_ref("acc-1", "USDC"))
    assert account.credits_posted - account.debits_posted == 1000 - 30 * accepted
    assert account.debits_posted == 30 * Transfer.objects.filter(code="withdrawal").count()
    seqs = list(Transfer.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    report = verify_ledger()
    assert report.ok, report.problem
    if connection.vendor == "postgresql":
        assert report.transfers_checked == 1 + accepted
