"""The atomic Redis steps of the pre-trade check and the order lifecycle.

Lua scripts are loaded once per client (EVALSHA; redis-py reloads on NOSCRIPT) from
``risk/lua/``. Every key of the account step shares the account's hash tag, every key of
the instrument step the instrument's, so both run unchanged on Redis Cluster.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import redis

from core.redis_client import account_bucket, account_key, bucket_key, get_redis, instrument_key

LUA = Path(__file__).resolve().parent / "lua"


@functools.cache
def _source(name: str) -> str:
    return (LUA / f"{name}.lua").read_text()


_scripts: dict[tuple[int, str], object] = {}


def script(name: str, client: redis.Redis | None = None):
    """The registered script ``name`` for this client (loaded on first use)."""
    client = client or get_redis()
    key = (id(client), name)
    found = _scripts.get(key)
    if found is None:
        found = _scripts[key] = client.register_script(_source(name))
    return found


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


def decode_hash(flat: list) -> dict[str, str]:
    """A Lua HGETALL reply (flat list) as a dict of strings."""
    items = [item.decode() if isinstance(item, bytes) else str(item) for item in flat]
    return dict(zip(items[0::2], items[1::2], strict=True))
