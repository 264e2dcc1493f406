"""The pre-trade decision log's drain: the account step appends every new decision to its
bucket's stream (``gh:{acct:<bucket>}:decisions``) in the same atomic step that reserves;
this worker moves them into the database in batches.

As for access decisions (``compliance.decision_log``): read with a consumer group, insert
with ``ignore_conflicts`` on the unique (account, order), then acknowledge and delete. A
drain killed mid-batch leaves entries pending; the next one claims them, and the unique key
makes the second insert harmless.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import orjson
import redis
from django.db import transaction

from core.redis_client import ACCOUNT_BUCKETS, bucket_key, get_redis
from core.streams import ensure_group
from risk.models import PretradeDecision
from risk.pretrade.answers import decided

GROUP = "drain"


def stream(bucket: int) -> str:
    return bucket_key(bucket, "decisions")


def _row(fields: dict) -> PretradeDecision:
    skeleton = orjson.loads(fields[b"d"])
    decision = fields[b"decision"].decode()
    codes = tuple(filter(None, fields[b"codes"].decode().split(",")))
    reasons, reservation = decided(skeleton, decision, codes)
    return PretradeDecision(
        account_id=skeleton["account_id"],
        order_id=skeleton["order_id"],
        instrument=skeleton["instrument"],
        side=skeleton["side"],
        quantity=skeleton["quantity"],
        price=skeleton["price"] or "",
        order_type=skeleton["order_type"],
        reduce_only=skeleton["reduce_only"],
        client_ip=skeleton["client_ip"],
        decision=decision,
        reason_codes=",".join(r["code"] for r in reasons),
        reasons=reasons,
        reservation=reservation,
        policy_version=skeleton["policy_version"],
        evaluated_at=datetime.fromisoformat(skeleton["evaluated_at"]),
        fingerprint=skeleton["fp"],
        lots=skeleton["lots"],
        margin_micro=skeleton["margin_micro"],
        reduces=fields[b"reduces"] == b"1",
    )


def _store_void(row: PretradeDecision) -> None:
    """An accept the replicas did not confirm, answered ``DEGRADED_FAIL_CLOSED`` instead
    (``void_step.lua``): the stored decision becomes that reject, or is stored as one when the
    accept never reached the database (nor, perhaps, the promoted replica)."""
    fields = [
        field.name
        for field in PretradeDecision._meta.concrete_fields
        if field.name not in ("id", "account_id", "order_id")
    ]
    PretradeDecision.objects.update_or_create(
        account_id=row.account_id,
        order_id=row.order_id,
        defaults={name: getattr(row, name) for name in fields},
    )


def _store(client: redis.Redis, key: str, entries: list) -> int:
    entries = [entry for entry in entries if entry[1]]
    if not entries:
        return 0
    voids = [fields for _, fields in entries if fields.get(b"void") == b"1"]
    with transaction.atomic():
        PretradeDecision.objects.bulk_create(
            [_row(fields) for _, fields in entries if fields.get(b"void") != b"1"],
            ignore_conflicts=True,
            batch_size=500,
        )
        for fields in voids:
            _store_void(_row(fields))
    ids = [entry_id for entry_id, _ in entries]
    pipe = client.pipeline(transaction=True)
    pipe.xack(key, GROUP, *ids)
    pipe.xdel(key, *ids)
    pipe.execute()
    return len(entries)


def drain(
    *,
    batch: int = 500,
    max_seconds: float = 5.0,
    claim_idle_ms: int = 30_000,
    buckets: range = range(ACCOUNT_BUCKETS),
) -> int:
    """Move decisions of every bucket into the database; returns how many were stored."""
    client = get_redis()
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    deadline = time.monotonic() + max_seconds
    stored = 0
    lengths = client.pipeline(transaction=False)
    for bucket in buckets:
        lengths.xlen(stream(bucket))
    busy = [bucket for bucket, length in zip(buckets, lengths.execute(), strict=True) if length]
    for bucket in busy:
        key = stream(bucket)
        ensure_group(client, key, GROUP)
        _, claimed, *_ = client.xautoclaim(
            key, GROUP, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=batch
        )
        stored += _store(client, key, claimed)
        while time.monotonic() < deadline:
            response = client.xreadgroup(GROUP, consumer, {key: ">"}, count=batch)
            entries = response[0][1] if response else []
            if not entries:
                break
            stored += _store(client, key, entries)
    return stored


def pending() -> int:
    pipe = get_redis().pipeline(transaction=False)
    for bucket in range(ACCOUNT_BUCKETS):
        pipe.xlen(stream(bucket))
    return sum(pipe.execute())
