"""Fixtures of the markets tests: each test builds its market snapshot from its own
database, and instruments are created through the real service."""

from __future__ import annotations

from decimal import Decimal

import pytest

from risk import demo


@pytest.fixture(autouse=True)
def _fresh_market_snapshot():
    from risk.markets import snapshot as market_snapshot

    market_snapshot.holder.reset()
    yield
    market_snapshot.holder.reset()


@pytest.fixture
def demo_instruments(db, redis_conn):
    """The demo instruments, created through ``risk.markets.services`` (versions, audit)."""
    from risk.markets import services
    from risk.markets import snapshot as market_snapshot

    for row in demo.INSTRUMENTS:
        services.put_instrument(symbol=row[0], fields=demo._fields(row), actor="test")
    market_snapshot.refreshed()
    return {row[0]: row for row in demo.INSTRUMENTS}


D = Decimal
