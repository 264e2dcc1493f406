"""The access decision log: a drain worker killed with SIGKILL mid-batch loses nothing and
duplicates nothing."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
from django.db import connection

from compliance import decision_log
from compliance.models import AccessDecision
from core import streams
from core.streams import ensure_group

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 20_000


def record(index: int) -> dict:
    return {
        "decision_id": uuid.UUID(int=index).hex,
        "decided_at": "2026-11-24T21:00:00.000Z",
        "account_id": f"acc-{index % 50}",
        "client_ip": "114.114.114.114",
        "product_class": "rwa_token",
        "action": "open",
        "effect": "deny",
        "reasons": [
            {
                "code": "JURISDICTION_BLOCKED",
                "check": "jurisdiction",
                "message": "x",
                "detail": {
                    "rule": "prc-rwa-2026",
                    "jurisdiction": "CN",
                    "signal": "ip_geolocation",
                    "citation": "c",
                },
            }
        ],
        "policy_version": "rb1.p1",
        "requested_by": "key:test",
    }


STREAM = decision_log.stream(0)  # the decisions of one bucket
GROUP = streams.GROUP


def fill_stream(client, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for index in range(count):
        pipe.xadd(STREAM, {"d": orjson.dumps(record(index))})
        if index % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def database_url() -> str:
    """The test database as a URL, for a worker process of our own."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_drain_killed_mid_batch_loses_and_duplicates_nothing(redis_conn):
    fill_stream(redis_conn, TOTAL)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.test", "DATABASE_URL": database_url()}
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "drain_access_decisions", "--batch", "250"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while AccessDecision.objects.count() < 1000 and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stderr.read().decode()
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    stored_by_killed_worker = AccessDecision.objects.count()
    assert 0 < stored_by_killed_worker < TOTAL, "the worker must die mid-drain"

    decision_log.drain(claim_idle_ms=0, max_seconds=120)

    assert AccessDecision.objects.count() == TOTAL
    ids = set(AccessDecision.objects.values_list("decision_id", flat=True))
    assert ids == {uuid.UUID(int=index).hex for index in range(TOTAL)}
    assert decision_log.pending() == 0


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_dies_after_committing_is_not_duplicated(redis_conn):
    """Read and stored but never acknowledged: claimed and stored again, ignored by id."""
    fill_stream(redis_conn, 300)
    ensure_group(redis_conn, STREAM, GROUP)
    entries = redis_conn.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=300)[0][1]
    AccessDecision.objects.bulk_create(
        [decision_log._row(orjson.loads(fields[b"d"])) for _, fields in entries]
    )
    assert decision_log.drain(claim_idle_ms=0) == 300
    assert AccessDecision.objects.count() == 300
    assert decision_log.pending() == 0
