"""The policy version: one Redis counter bumped on every change to rules, limits, instruments
or profiles, and a per-process holder that rebuilds an immutable snapshot when it moves.

The request path reads the counter at most once per ``POLICY_CHECK_INTERVAL_MS`` (50 ms by
default), so a change reaches every worker within that interval plus one rebuild, and the
check costs one GET every 50 ms rather than one per request. A snapshot older than
``POLICY_MAX_AGE_SECONDS`` is rebuilt even if the counter did not move, which bounds the
staleness left by a bump that was lost (Redis down after the database committed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import redis
from django.conf import settings
from django.db import transaction

from .redis_client import get_hot_redis, get_redis, global_key

logger = logging.getLogger("gatehouse.policy")

VERSION_KEY = global_key("policy_version")
T = TypeVar("T")


def bump() -> None:
    """Announce a policy change, after the surrounding transaction commits (a worker that
    rebuilds on the bump must see the committed rows)."""

    def _announce() -> None:
        try:
            get_redis().incr(VERSION_KEY)
        except redis.RedisError:
            logger.exception("policy version bump lost; workers rebuild within the max age")

    transaction.on_commit(_announce)


def read_counter() -> str:
    return (get_hot_redis().get(VERSION_KEY) or b"0").decode()


class SnapshotUnavailable(RuntimeError):
    """No snapshot can be trusted (Redis unreachable to check the version): fail closed."""


class SnapshotHolder(Generic[T]):
    """Holds the current snapshot built by ``build(previous, counter)``; thread-safe.

    ``current()`` raises SnapshotUnavailable when the version cannot be read: a snapshot
    whose freshness cannot be established is not used to accept anything.
    """

    def __init__(self, build: Callable[[T | None, str], T]) -> None:
        self._build = build
        self._snapshot: T | None = None
        self._counter: str | None = None
        self._checked_at = 0.0
        self._built_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> T:
        now = time.monotonic()
        interval = settings.POLICY_CHECK_INTERVAL_MS / 1000
        if self._snapshot is not None and now - self._checked_at < interval:
            return self._snapshot
        with self._lock:
            now = time.monotonic()
            if self._snapshot is not None and now - self._checked_at < interval:
                return self._snapshot
            try:
                counter = read_counter()
            except redis.RedisError as exc:
                raise SnapshotUnavailable(f"policy version unreadable: {exc}") from exc
            stale = now - self._built_at > settings.POLICY_MAX_AGE_SECONDS
            if self._snapshot is None or counter != self._counter or stale:
                self._snapshot = self._build(self._snapshot, counter)
                self._counter, self._built_at = counter, now
            self._checked_at = now
            return self._snapshot

    def reset(self) -> None:
        with self._lock:
            self._snapshot, self._counter, self._checked_at = None, None, 0.0
