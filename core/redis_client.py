"""The Redis clients of the service: one for the request hot path and one for everything else.

Short timeouts: the gate fails closed rather than waiting on a dead server, so a timeout is
an answer (``DEGRADED_FAIL_CLOSED``), not a hang. Keys that must live in one
Redis Cluster slot for an atomic Lua step are hash-tagged: everything of one account shares
``{acct:<id>}``, everything of one instrument ``{inst:<symbol>}``.
"""

from __future__ import annotations

import threading
import zlib

import redis
from django.conf import settings

_lock = threading.Lock()
_clients: dict[tuple[str, bool], redis.Redis] = {}


def _client_for(hot: bool) -> redis.Redis:
    url = settings.REDIS_URL
    client = _clients.get((url, hot))
    if client is None:
        with _lock:
            client = _clients.get((url, hot))
            if client is None:
                timeout = settings.REDIS_HOT_TIMEOUT if hot else settings.REDIS_SOCKET_TIMEOUT
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=timeout,
                    socket_connect_timeout=min(timeout, settings.REDIS_CONNECT_TIMEOUT),
                    health_check_interval=30,
                    retry_on_timeout=False,
                )
                _clients[url, hot] = client
    return client


def get_redis() -> redis.Redis:
    """The client for workers, commands and officer actions (``REDIS_SOCKET_TIMEOUT``)."""
    return _client_for(hot=False)


def get_hot_redis() -> redis.Redis:
    """The client of the request hot path (access and pre-trade checks): its short timeout
    (``REDIS_HOT_TIMEOUT``, 50 ms) bounds how long a check waits before failing closed."""
    return _client_for(hot=True)


ACCOUNT_BUCKETS = 256


def account_bucket(account_id: str) -> int:
    """Accounts are spread over a fixed number of buckets by CRC-32 of their id."""
    return zlib.crc32(account_id.encode()) % ACCOUNT_BUCKETS


def account_tag(account_id: str) -> str:
    """The hash tag that pins all of one account's keys to one cluster slot.

    The tag names the account's *bucket*, not the account: an account's keys and its
    bucket's decision stream then share a slot, so one Lua step can reserve and record
    atomically, and a drain reads 256 streams rather than one per account.
    """
    return "{acct:" + str(account_bucket(account_id)) + "}"


def bucket_key(bucket: int, suffix: str) -> str:
    return "gh:{acct:" + str(bucket) + "}:" + suffix


def account_key(account_id: str, suffix: str) -> str:
    return f"gh:{account_tag(account_id)}:{account_id}:{suffix}"


def instrument_key(symbol: str, suffix: str) -> str:
    return "gh:{inst:" + symbol + "}:" + suffix


def global_key(suffix: str) -> str:
    return f"gh:global:{suffix}"


def probe() -> None:
    """Raise if Redis does not answer a PING within the socket timeout."""
    if not get_redis().ping():
        raise redis.ConnectionError("PING did not answer PONG")
