"""The pre-trade decision log: a drain worker killed with SIGKILL mid-batch loses nothing
and duplicates nothing, across every account bucket's stream."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from risk.models import PretradeDecision
from risk.pretrade import decisions
from tests.compliance.test_decision_log import database_url

ROOT = Path(__file__).resolve().parents[3]
TOTAL = 12_000


def skeleton(index: int) -> dict:
    return {
        "order_id": f"o-{index}",
        "account_id": f"acc-{index % 300}",
        "instrument": "AAPL-PERP",
        "side": "buy",
        "quantity": "1",
        "price": "230.00",
        "order_type": "limit",
        "reduce_only": False,
        "client_ip": "203.198.7.66",
        "reasons": [],
        "unless_reducing": [],
        "reservation": {"quantity": "1", "margin": "11.5"},
        "policy_version": "p1.rb1",
        "evaluated_at": "2026-11-24T15:00:00.000Z",
        "fp": f"fp{index}",
        "lots": 100,
        "margin_micro": 11_500_000,
    }


def fill_streams(client) -> None:
    from core.redis_client import account_bucket

    pipe = client.pipeline(transaction=False)
    for index in range(TOTAL):
        record = skeleton(index)
        pipe.xadd(
            decisions.stream(account_bucket(record["account_id"])),
            {"d": orjson.dumps(record), "decision": "accept", "codes": "", "reduces": 0},
        )
        if index % 2000 == 1999:
            pipe.execute()
    pipe.execute()


@pytest.mark.django_db(transaction=True)
def test_drain_killed_mid_batch_loses_and_duplicates_nothing(redis_conn):
    fill_streams(redis_conn)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test", "DATABASE_URL": database_url()}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "drain_pretrade_decisions", "--batch", "100"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while PretradeDecision.objects.count() < 500 and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read().decode()
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert 0 < PretradeDecision.objects.count() < TOTAL, "the worker must die mid-drain"

    decisions.drain(claim_idle_ms=0, max_seconds=120)

    assert PretradeDecision.objects.count() == TOTAL
    assert set(PretradeDecision.objects.values_list("order_id", flat=True)) == {
        f"o-{index}" for index in range(TOTAL)
    }
    assert decisions.pending() == 0
