"""This process's market controller: the Redis store and the policy snapshot of the
database (``risk.markets.snapshot``), built once. Kept apart from the controller itself,
which knows neither Redis nor the database (replay runs it over an in-memory store)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache

from core.redis_client import get_redis
from risk.markets import snapshot as market_snapshot
from risk.markets.controller import MarketController
from risk.markets.store import RedisMarketStore
from risk.markets.view import MarketView


@cache
def live_controller() -> MarketController:
    """The controller of this process: Redis and the policy snapshot of the database."""
    return MarketController(
        RedisMarketStore(get_redis), market_snapshot.current, market_snapshot.refreshed
    )


def market_view(symbol: str, now: datetime, raw: Mapping | None = None) -> MarketView:
    """One instrument's market at ``now`` (state, session, reference, band, until, reason,
    tier, tick, session leverage cap, kill switch), exact to the microsecond. Pass ``raw``
    when you already have the hash ``gh:{inst:<SYMBOL>}:market`` (HGETALL, or fetched in a
    Lua script); raises ``UnknownInstrument`` for a symbol nobody defined."""
    return live_controller().view(symbol, now, raw)
