"""Lua scripts run by SHA (EVALSHA), for every part that keeps atomic steps in Redis.

A script is registered once per process by file (``Script(path)``) and loaded into a client
with SCRIPT LOAD the first time that client runs any script. Unlike redis-py's own Script
objects, a pipeline does not ask SCRIPT EXISTS before every execution (a hidden extra round
trip per batch). A Redis that restarted and forgot the scripts answers NOSCRIPT:
``run_pipeline`` reloads and runs the batch again, which is safe because every step built
on this module is idempotent (reservation, order, fill and decision ids).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import redis

from core.redis_client import is_pipeline, lean_pipeline, routing

_registry: dict[str, Script] = {}
_loaded: set[int] = set()
_lock = threading.Lock()


class Script:
    """One Lua file (with the shared preludes it needs); call it with ``keys`` and ``args``
    on a client or a pipeline."""

    def __init__(self, path: Path, *preludes: Path, header: str = "") -> None:
        """``preludes``: Lua files of shared functions, prepended in order; ``header``: Lua
        text generated from Python (constants defined once, in Python) put before them."""
        self.name = path.stem
        parts = [header, *(prelude.read_text() for prelude in preludes), path.read_text()]
        self.source = "\n".join(part for part in parts if part)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()  # noqa: S324 (Redis's id)
        with _lock:
            _registry[self.sha] = self
            _loaded.clear()  # every client must load the new script too

    def __call__(self, keys, args, client):
        if is_pipeline(client):
            # execute_command, not evalsha(): a cluster pipeline refuses the method; routed
            # to the node of its keys' slot (``routing``), with no lookup of its keys.
            return client.execute_command(
                "EVALSHA", self.sha, len(keys), *keys, *args, **routing(client, keys)
            )
        ensure_loaded(client)
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            forget(client)
            ensure_loaded(client)
            return client.evalsha(self.sha, len(keys), *keys, *args)


def _client_id(client) -> int:
    """A client's pool (a cluster client has one per node: the client itself stands for them;
    SCRIPT LOAD goes to every primary)."""
    return id(getattr(client, "connection_pool", client))


def ensure_loaded(client: redis.Redis) -> None:
    if _client_id(client) in _loaded:
        return
    for each in list(_registry.values()):
        client.script_load(each.source)
    _loaded.add(_client_id(client))


def forget(client: redis.Redis) -> None:
    _loaded.discard(_client_id(client))


def run_pipeline(client: redis.Redis, build: Callable[[redis.client.Pipeline], None]) -> list:
    """Build and execute a pipeline of script calls; on NOSCRIPT reload and run it again."""
    ensure_loaded(client)
    for attempt in (1, 2):
        pipe = lean_pipeline(client)
        build(pipe)
        try:
            return pipe.execute()
        except redis.exceptions.NoScriptError:
            if attempt == 2:
                raise
            forget(client)
            ensure_loaded(client)
    raise AssertionError("unreachable")


def text(value) -> str:
    """A Redis reply as text (bytes decoded, integers formatted)."""
    return value.decode() if isinstance(value, bytes) else str(value)
