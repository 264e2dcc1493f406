"""The durable log of access decisions: a Redis stream written on the request path and
drained into the database in batches by a ``realtime`` worker.

The drain reads with a consumer group, inserts the batch with ``ignore_conflicts`` on the
unique ``decision_id`` and only then acknowledges and deletes the entries. A worker killed
mid-batch leaves its entries pending; the next drain claims them (XAUTOCLAIM) and inserts
them again, which the unique id makes harmless: nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import orjson
import redis
from django.db import transaction

from core.redis_client import get_hot_redis, get_redis, global_key
from core.streams import ensure_group

from .models import AccessDecision

STREAM = global_key("decisions:access")
GROUP = "drain"


def append(record: dict, client: redis.Redis | None = None) -> None:
    """Add one decision to the stream (raises RedisError: the caller fails closed)."""
    (client or get_hot_redis()).xadd(STREAM, {"d": orjson.dumps(record)})


def _row(record: dict) -> AccessDecision:
    deciding = record["reasons"][0] if record["reasons"] else {}
    detail = deciding.get("detail") or {}
    return AccessDecision(
        decision_id=record["decision_id"],
        decided_at=datetime.fromisoformat(record["decided_at"]),
        account_id=record.get("account_id") or "",
        client_ip=record.get("client_ip") or None,
        product_class=record["product_class"],
        action=record["action"],
        effect=record["effect"],
        deciding_rule=detail.get("rule") or "",
        deciding_jurisdiction=detail.get("jurisdiction") or "",
        deciding_signal=detail.get("signal") or "",
        reasons=record["reasons"],
        signals=record.get("signals") or {},
        policy_version=record["policy_version"],
        requested_by=record.get("requested_by") or "",
    )


def _store(client: redis.Redis, entries: list) -> int:
    if not entries:
        return 0
    rows = [_row(orjson.loads(fields[b"d"])) for _, fields in entries]
    with transaction.atomic():
        AccessDecision.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    ids = [entry_id for entry_id, _ in entries]
    pipe = client.pipeline(transaction=True)
    pipe.xack(STREAM, GROUP, *ids)
    pipe.xdel(STREAM, *ids)
    pipe.execute()
    return len(entries)


def drain(*, batch: int = 500, max_seconds: float = 5.0, claim_idle_ms: int = 30_000) -> int:
    """Move decisions from the stream into the database; returns how many were stored.

    Entries another consumer read but never acknowledged for ``claim_idle_ms`` (it died)
    are claimed first.
    """
    client = get_redis()
    ensure_group(client, STREAM, GROUP)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    stored, deadline = 0, time.monotonic() + max_seconds
    cursor = "0-0"
    while time.monotonic() < deadline:
        cursor, claimed, *_ = client.xautoclaim(
            STREAM, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=cursor, count=batch
        )
        stored += _store(client, [entry for entry in claimed if entry[1]])
        if cursor in (b"0-0", "0-0"):
            break
    while time.monotonic() < deadline:
        response = client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=batch)
        entries = response[0][1] if response else []
        if not entries:
            break
        stored += _store(client, entries)
    return stored


def pending() -> int:
    """Decisions not yet in the database (in the stream, read or not)."""
    return get_redis().xlen(STREAM)
