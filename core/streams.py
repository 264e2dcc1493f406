"""Redis streams drained by consumer groups: the durable decision logs.

A decision is appended to its account bucket's stream in the same atomic step that decides
it; a ``realtime`` worker moves the streams into the database in batches. It reads with a
consumer group, stores the batch (the store inserts with ``ignore_conflicts`` on the
decision's unique key) and only then acknowledges and deletes the entries. A worker killed
mid-batch leaves its entries pending; the next drain claims them (XAUTOCLAIM) and stores
them again, which the unique key makes harmless: nothing is lost, nothing is duplicated.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence

import redis

GROUP = "drain"


def ensure_group(client: redis.Redis, stream: str, group: str = GROUP) -> None:
    """Create the consumer group (and the stream) unless it exists already."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _acknowledge(client: redis.Redis, key: str, entries: list) -> None:
    ids = [entry_id for entry_id, _ in entries]
    pipe = client.pipeline(transaction=True)
    pipe.xack(key, GROUP, *ids)
    pipe.xdel(key, *ids)
    pipe.execute()


def drain(
    client: redis.Redis,
    keys: Sequence[str],
    store: Callable[[list[dict]], None],
    *,
    batch: int = 500,
    max_seconds: float = 5.0,
    claim_idle_ms: int = 30_000,
) -> int:
    """Move every entry of ``keys`` through ``store(fields_list)``; how many were stored.
    Streams with nothing in them cost one pipelined XLEN each, nothing more."""
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    deadline = time.monotonic() + max_seconds
    lengths = client.pipeline(transaction=False)
    for key in keys:
        lengths.xlen(key)
    busy = [key for key, length in zip(keys, lengths.execute(), strict=True) if length]
    stored = 0
    for key in busy:
        ensure_group(client, key)
        cursor = "0-0"
        while time.monotonic() < deadline:
            cursor, claimed, *_ = client.xautoclaim(
                key, GROUP, consumer, min_idle_time=claim_idle_ms, start_id=cursor, count=batch
            )
            entries = [entry for entry in claimed if entry[1]]
            if entries:
                store([fields for _, fields in entries])
                _acknowledge(client, key, entries)
                stored += len(entries)
            if cursor in (b"0-0", "0-0"):
                break
        while time.monotonic() < deadline:
            response = client.xreadgroup(GROUP, consumer, {key: ">"}, count=batch)
            entries = [entry for entry in (response[0][1] if response else []) if entry[1]]
            if not entries:
                break
            store([fields for _, fields in entries])
            _acknowledge(client, key, entries)
            stored += len(entries)
    return stored


def pending(client: redis.Redis, keys: Sequence[str]) -> int:
    """Entries not yet in the database (in the streams, read or not)."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.xlen(key)
    return sum(pipe.execute())
