"""Fixtures shared by the whole suite. Real Redis, real databases: nothing here is mocked."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.ci_rules"]


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from core import api_keys

    api_keys._cache.clear()
    yield
    api_keys._cache.clear()


@pytest.fixture
def redis_conn():
    """The real Redis of the test run (logical database 9), flushed before and after."""
    from core.redis_client import get_redis

    client = get_redis()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def make_key(db):
    """Create a real API key with the given scopes and return the raw key."""

    from core import api_keys

    def _make(*scopes: str, name: str | None = None) -> str:
        _make.counter += 1
        _, raw = api_keys.create_api_key(
            name=name or f"test-key-{_make.counter}", scopes=list(scopes), actor="test"
        )
        return raw

    _make.counter = 0
    return _make


@pytest.fixture
def api(db):
    from rest_framework.test import APIClient

    return APIClient(raise_request_exception=False)


def auth(raw_key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}


@pytest.fixture(autouse=True)
def _fresh_policy_snapshots():
    """Each test builds its snapshots from its own database state."""
    from compliance.snapshot import holder
    from risk.markets import snapshot as market_snapshot

    holder.reset()
    market_snapshot.holder.reset()
    yield
    holder.reset()
    market_snapshot.holder.reset()


@pytest.fixture
def demo_instruments(db, redis_conn):
    """The demo instruments, created through ``risk.markets.services`` (versions, audit)."""
    from risk import demo
    from risk.markets import services
    from risk.markets import snapshot as market_snapshot

    for row in demo.INSTRUMENTS:
        services.put_instrument(symbol=row[0], fields=demo._fields(row), actor="test")
    market_snapshot.refreshed()
    return {row[0]: row for row in demo.INSTRUMENTS}
