"""Policy versions: how every check knows that what it decides with is at least as new as
every write that has been acknowledged (API.md, "Read-your-writes").

A check decides with in-memory snapshots (instruments, session parameters, the compiled
rulebook, account profiles) that the request path never rebuilds from the database unless
they are out of date. Whether they are is answered inside the Redis round trip the check
already makes:

- Every global component has a version in the database (``PolicyVersion``: ``rules``,
  ``instruments``, ``sessions``), raised in the same transaction as the change, so versions
  are in commit order and survive a Redis that lost its data. An account's facts have their
  own version: the id of the history row that wrote them (``seq``).
- After the commit, and before the write answers, the new version is announced into the
  policy hash of every account bucket (``gh:{acct:<b>}:policy``: fields ``r``, ``i``, ``s``
  and ``a:<account>``), in the slot of the Lua step that decides. A global change writes
  256 small hashes; an account's change writes one field of its bucket's hash. No single
  key is read by every check, which is what lets the checks spread over a Redis Cluster.
- The Lua step compares the versions the snapshot was built from with the announced ones
  and answers ``stale`` (with the announced versions) instead of deciding when any is newer;
  the caller rebuilds just that part (``SnapshotHolder.at_least``, one account's profile)
  and asks again. The common case costs no extra round trip.
- If the announcement fails the write answers 503 (``PolicyNotPublished``) rather than 2xx:
  a change is never acknowledged before every check can see it. The watchdog
  (``reconcile``) re-announces whatever the database holds beyond what Redis shows.
- A bucket whose hash has no ``r`` field has lost its announcements (Redis restarted
  empty): its checks answer ``unpublished`` and the caller restores every hash from the
  database (``restore``) before deciding.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Generic, TypeVar

import redis
from django.db import transaction
from django.db.models import F

from core.errors import GatehouseError
from core.redis_client import (
    ACCOUNT_BUCKETS,
    REDIS_ERRORS,
    account_bucket,
    bucket_key,
    get_redis,
    global_key,
)
from core.scripts import Script, run_pipeline, text

logger = logging.getLogger("gatehouse.policy")

RULES, INSTRUMENTS, SESSIONS = "rules", "instruments", "sessions"
COMPONENTS = (RULES, INSTRUMENTS, SESSIONS)
FIELD = {RULES: "r", INSTRUMENTS: "i", SESSIONS: "s"}
COMPONENT_OF = {field: component for component, field in FIELD.items()}
MARKER = FIELD[RULES]
"""A bucket's policy hash is complete when it has this field (written last by ``restore``)."""
GLOBAL_KEY = global_key("policy")
"""The same global versions for readers off the hot path (ticks, fills, the console)."""

_raise_versions = Script(Path(__file__).resolve().parent / "lua" / "raise_versions.lua")
T = TypeVar("T")


class PolicyNotPublished(GatehouseError):
    """The change is committed but could not be announced: it is not acknowledged."""

    status = 503
    code = "POLICY_NOT_PUBLISHED"
    default_message = (
        "The change is saved but not yet in force on every worker; repeat the request."
    )


class SnapshotUnavailable(RuntimeError):
    """No snapshot can be trusted (the versions cannot be read or do not converge)."""


def policy_key(bucket: int) -> str:
    return bucket_key(bucket, "policy")


def account_field(account_id: str) -> str:
    return f"a:{account_id}"


# --- writes ---------------------------------------------------------------------------


def advance(component: str) -> int:
    """Raise ``component``'s version inside the caller's transaction and announce it once
    the transaction commits. The row lock orders concurrent writers, so versions follow
    commit order."""
    from core.models import PolicyVersion

    PolicyVersion.objects.filter(name=component).update(value=F("value") + 1)
    value = PolicyVersion.objects.values_list("value", flat=True).get(name=component)
    transaction.on_commit(lambda: publish({FIELD[component]: value}))
    return value


def announce_current(component: str) -> None:
    """Announce ``component``'s current version after the commit (a repeated write that
    changed nothing still guarantees the earlier change is in force)."""
    from core.models import PolicyVersion

    value = PolicyVersion.objects.values_list("value", flat=True).get(name=component)
    transaction.on_commit(lambda: publish({FIELD[component]: value}))


def account_changed(account_id: str, seq: int) -> None:
    """Announce, after the commit, that ``account_id``'s facts are now at version ``seq``."""
    transaction.on_commit(lambda: publish({account_field(account_id): seq}, account_id))


def publish(fields: Mapping[str, int], account_id: str | None = None) -> None:
    """Raise ``fields`` in one bucket's hash (an account's) or in every bucket's and the
    global hash. Raises ``PolicyNotPublished`` when Redis does not take it."""
    buckets = range(ACCOUNT_BUCKETS) if account_id is None else (account_bucket(account_id),)
    args = [part for name, value in fields.items() for part in (name, int(value))]

    def announcements(pipe) -> None:
        for bucket in buckets:
            _raise_versions(keys=[policy_key(bucket)], args=args, client=pipe)
        if account_id is None:
            _raise_versions(keys=[GLOBAL_KEY], args=args, client=pipe)

    try:
        run_pipeline(get_redis(), announcements)
    except REDIS_ERRORS as exc:
        logger.error("policy change not announced (%s): %s", dict(fields), exc)
        raise PolicyNotPublished() from exc


# --- reads ----------------------------------------------------------------------------


def versions_in_database() -> dict[str, int]:
    from core.models import PolicyVersion

    found = dict(PolicyVersion.objects.values_list("name", "value"))
    return {component: int(found.get(component, 0)) for component in COMPONENTS}


def published_versions(client: redis.Redis | None = None) -> dict[str, int] | None:
    """The global versions announced in Redis, or None when they are not there."""
    raw = (client or get_redis()).hgetall(GLOBAL_KEY)
    fields = {text(name): int(value) for name, value in raw.items()}
    if MARKER not in fields:
        return None
    return {COMPONENT_OF[name]: value for name, value in fields.items() if name in COMPONENT_OF}


def parse_announced(raw: Iterable) -> dict[str, int]:
    """The versions a Lua step answered with ``stale``: ``[field, value, ...]``."""
    parts = [text(part) for part in raw]
    return {parts[i]: int(parts[i + 1]) for i in range(0, len(parts), 2)}


# --- recovery -------------------------------------------------------------------------

_account_versions: list[Callable[[], Iterable[tuple[str, int]]]] = []
_restore_lock = threading.Lock()


def register_account_versions(source: Callable[[], Iterable[tuple[str, int]]]) -> None:
    """A part that keeps per-account facts names them here (account id, version), so a
    restore can announce them again (compliance registers its profiles)."""
    if source not in _account_versions:
        _account_versions.append(source)


def restore(*, chunk: int = 1000) -> None:
    """Write every bucket's policy hash again from the database: accounts' versions first,
    the global ones (with the marker) last, so a bucket looks complete only when it is."""
    globals_ = versions_in_database()
    per_bucket: dict[int, list] = {bucket: [] for bucket in range(ACCOUNT_BUCKETS)}
    for source in _account_versions:
        for account_id, seq in source():
            per_bucket[account_bucket(account_id)] += [account_field(account_id), int(seq)]
    global_args = [part for c, v in globals_.items() for part in (FIELD[c], v)]

    def writes(pipe) -> None:
        for bucket, args in per_bucket.items():
            for start in range(0, len(args), 2 * chunk):
                piece = args[start : start + 2 * chunk]
                _raise_versions(keys=[policy_key(bucket)], args=piece, client=pipe)
            _raise_versions(keys=[policy_key(bucket)], args=global_args, client=pipe)
        _raise_versions(keys=[GLOBAL_KEY], args=global_args, client=pipe)

    run_pipeline(get_redis(), writes)


def restore_if_needed() -> bool:
    """Restore unless another thread of this process is already doing it; True if this
    call restored. Callers that did not restore fail closed for this request."""
    if not _restore_lock.acquire(blocking=False):
        return False
    try:
        restore()
        return True
    finally:
        _restore_lock.release()


def reconcile() -> bool:
    """The watchdog: restore when a bucket lost its hash or Redis shows an older global
    version than the database (an announcement that failed). True if it restored."""
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for bucket in range(ACCOUNT_BUCKETS):
        pipe.hexists(policy_key(bucket), MARKER)
    complete = all(pipe.execute())
    published = published_versions(client)
    database = versions_in_database()
    behind = published is None or any(published.get(c, -1) < v for c, v in database.items())
    if complete and not behind:
        return False
    restore()
    return True


# --- snapshots ------------------------------------------------------------------------


class SnapshotHolder(Generic[T]):
    """Holds a process's current snapshot, built by ``build(previous)``; thread-safe.

    A snapshot has ``versions``: the global components it was built from (each read from
    the database before the data, so the data is at least that new). ``current()`` never
    asks Redis; ``at_least(versions)`` rebuilds when a check found newer ones announced;
    ``verified()`` asks Redis first, for readers that make no Lua step of their own.
    """

    def __init__(self, build: Callable[[T | None], T], components: tuple[str, ...]) -> None:
        self._build = build
        self.components = components
        self._snapshot: T | None = None
        self._lock = threading.Lock()

    def current(self) -> T:
        snapshot = self._snapshot
        if snapshot is not None:
            return snapshot
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._build(None)
            return self._snapshot

    def _behind(self, snapshot: T, required: Mapping[str, int]) -> bool:
        have = snapshot.versions
        return any(have.get(c, 0) < required[c] for c in self.components if c in required)

    def at_least(self, required: Mapping[str, int]) -> T:
        snapshot = self.current()
        if not self._behind(snapshot, required):
            return snapshot
        with self._lock:
            for _ in range(3):
                snapshot = self._snapshot
                if snapshot is not None and not self._behind(snapshot, required):
                    return snapshot
                self._snapshot = self._build(snapshot)
        if self._behind(self._snapshot, required):
            raise SnapshotUnavailable(f"the database is behind the announced {dict(required)}")
        return self._snapshot

    def verified(self) -> T:
        try:
            published = published_versions()
        except REDIS_ERRORS as exc:
            raise SnapshotUnavailable(f"policy versions unreadable: {exc}") from exc
        return self.at_least(published if published is not None else versions_in_database())

    def reset(self) -> None:
        with self._lock:
            self._snapshot = None
