"""The atomic Redis steps of the pre-trade check and the order lifecycle.

Lua scripts are loaded once per client (EVALSHA; redis-py reloads on NOSCRIPT) from
``risk/lua/``. Every key of the account step shares the account's hash tag, every key of
the instrument step the instrument's, so both run unchanged on Redis Cluster.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import redis

from core.redis_client import account_bucket, account_key, bucket_key, get_redis, instrument_key

LUA = Path(__file__).resolve().parent / "lua"


@functools.cache
def _source(name: str) -> str:
    return (LUA / f"{name}.lua").read_text()


class Script:
    """A Lua script called by SHA (EVALSHA). It is loaded once per client with SCRIPT LOAD;
    unlike redis-py's own Script objects, a pipeline does not ask SCRIPT EXISTS before every
    execution (a hidden extra round trip per batch). A Redis that restarted and forgot the
    script answers NOSCRIPT: ``run_pipeline`` reloads and runs the batch again, which is
    safe because every step here is idempotent (reservation and order ids)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = _source(name)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()  # noqa: S324 (Redis's id)

    def __call__(self, keys, args, client=None):
        target = client if client is not None else get_redis()
        if client is None or not isinstance(client, redis.client.Pipeline):
            _ensure_loaded(target)
            try:
                return target.evalsha(self.sha, len(keys), *keys, *args)
            except redis.exceptions.NoScriptError:
                _loaded.discard(_client_id(target))
                _ensure_loaded(target)
                return target.evalsha(self.sha, len(keys), *keys, *args)
        return target.evalsha(self.sha, len(keys), *keys, *args)


SCRIPT_NAMES = (
    "account_step",
    "instrument_step",
    "release_open_interest",
    "fill_step",
    "cancel_step",
)
_by_name = {name: Script(name) for name in SCRIPT_NAMES}
_loaded: set[int] = set()


def _client_id(client) -> int:
    return id(client.connection_pool)


def _ensure_loaded(client) -> None:
    if _client_id(client) in _loaded:
        return
    for each in _by_name.values():
        client.script_load(each.source)
    _loaded.add(_client_id(client))


def script(name: str, client: redis.Redis | None = None) -> Script:
    """The script ``name``; loaded into ``client`` (default: the worker client) if needed."""
    if client is not None and not isinstance(client, redis.client.Pipeline):
        _ensure_loaded(client)
    return _by_name[name]


def run_pipeline(client: redis.Redis, build) -> list:
    """Build and execute a pipeline of script calls; on NOSCRIPT reload and run it again."""
    _ensure_loaded(client)
    for attempt in (1, 2):
        pipe = client.pipeline(transaction=False)
        build(pipe)
        try:
            return pipe.execute()
        except redis.exceptions.NoScriptError:
            if attempt == 2:
                raise
            _loaded.discard(_client_id(client))
            _ensure_loaded(client)
    raise AssertionError("unreachable")


def account_keys(account_id: str) -> list[str]:
    bucket = account_bucket(account_id)
    return [
        account_key(account_id, "risk"),
        account_key(account_id, "orders"),
        account_key(account_id, "expiry"),
        account_key(account_id, "kill"),
        bucket_key(bucket, "synced"),
        bucket_key(bucket, "decisions"),
    ]


def lifecycle_keys(account_id: str) -> list[str]:
    return [
        account_key(account_id, "risk"),
        account_key(account_id, "orders"),
        account_key(account_id, "expiry"),
        account_key(account_id, "fills"),
    ]


def instrument_keys(symbol: str) -> list[str]:
    return [instrument_key(symbol, "market"), instrument_key(symbol, "oi")]


def reservation_id(account_id: str, order_id: str) -> str:
    return f"{account_id}|{order_id}"


@dataclass(frozen=True, slots=True)
class AccountStepResult:
    status: str  # new | duplicate | conflict | unsynced
    decision: str
    codes: tuple[str, ...]
    reduces: bool
    record: str

    @classmethod
    def parse(cls, raw: list) -> AccountStepResult:
        status, decision, codes, reduces, record = (
            item.decode() if isinstance(item, bytes) else str(item) for item in raw
        )
        return cls(status, decision, tuple(filter(None, codes.split(","))), reduces == "1", record)
