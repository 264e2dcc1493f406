"""The durable log of access decisions: one Redis stream per account bucket
(``gh:{acct:<b>}:decisions:access``), appended on the request path in the same Lua step that
confirms the policy versions (``compliance/lua/record_access.lua``), and drained into
``AccessDecision`` rows by a ``realtime`` worker (``core.streams``: consumer group, insert
ignoring conflicts on the unique ``decision_id``, then acknowledge and delete).

An account's decisions go to its own bucket; an anonymous visitor's to the bucket of the
decision's id, so the log spreads over every slot of a Redis Cluster.
"""

from __future__ import annotations

import zlib
from datetime import datetime

import orjson
from django.db import transaction

from compliance.models import AccessDecision
from core import streams
from core.redis_client import ACCOUNT_BUCKETS, account_bucket, bucket_key, get_redis


def stream(bucket: int) -> str:
    return bucket_key(bucket, "decisions:access")


STREAMS = [stream(bucket) for bucket in range(ACCOUNT_BUCKETS)]


def bucket_of(account_id: str | None, decision_id: str) -> int:
    if account_id:
        return account_bucket(account_id)
    return zlib.crc32(decision_id.encode()) % ACCOUNT_BUCKETS


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


def _store(entries: list[dict]) -> None:
    rows = [_row(orjson.loads(fields[b"d"])) for fields in entries if fields.get(b"void") != b"1"]
    voids = [_row(orjson.loads(fields[b"d"])) for fields in entries if fields.get(b"void") == b"1"]
    with transaction.atomic():
        AccessDecision.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        for row in voids:  # the answer the caller got when the replicas did not confirm
            AccessDecision.objects.update_or_create(
                decision_id=row.decision_id,
                defaults={
                    field.name: getattr(row, field.name)
                    for field in AccessDecision._meta.concrete_fields
                    if field.name not in ("id", "decision_id")
                },
            )


def drain(*, batch: int = 500, max_seconds: float = 5.0, claim_idle_ms: int = 30_000) -> int:
    """Move decisions from the streams into the database; returns how many were stored."""
    return streams.drain(
        get_redis(),
        STREAMS,
        _store,
        batch=batch,
        max_seconds=max_seconds,
        claim_idle_ms=claim_idle_ms,
    )


def pending() -> int:
    """Decisions not yet in the database (in the streams, read or not)."""
    return streams.pending(get_redis(), STREAMS)
