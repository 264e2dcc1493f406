"""The one Redis client of the service.

Short timeouts everywhere: the gate fails closed rather than waiting on a dead server, so a
timeout is an answer (``DEGRADED_FAIL_CLOSED``), not a hang. Keys that must live in one
Redis Cluster slot for an atomic Lua step are hash-tagged: everything of one account shares
``{acct:<id>}``, everything of one instrument ``{inst:<symbol>}``.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_url: str | None = None


def get_redis() -> redis.Redis:
    global _client, _client_url
    url = settings.REDIS_URL
    if _client is None or _client_url != url:
        with _lock:
            if _client is None or _client_url != url:
                _client = redis.Redis.from_url(
                    url,
                    socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                    socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                    health_check_interval=30,
                    retry_on_timeout=False,
                )
                _client_url = url
    return _client


def account_tag(account_id: str) -> str:
    """The hash tag that pins all of one account's keys to one cluster slot."""
    return "{acct:" + account_id + "}"


def account_key(account_id: str, suffix: str) -> str:
    return f"gh:{account_tag(account_id)}:{suffix}"


def instrument_key(symbol: str, suffix: str) -> str:
    return "gh:{inst:" + symbol + "}:" + suffix


def global_key(suffix: str) -> str:
    return f"gh:global:{suffix}"


def probe() -> None:
    """Raise if Redis does not answer a PING within the socket timeout."""
    if not get_redis().ping():
        raise redis.ConnectionError("PING did not answer PONG")
