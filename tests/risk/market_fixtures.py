"""Helpers for the market controller tests: demo definitions on an in-memory store."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

from risk import demo
from risk.markets.config import DEFAULT_MARKET_CONFIG, MarketConfig
from risk.markets.controller import MarketController, MarketSnapshot
from risk.markets.store import MemoryMarketStore
from risk.markets.ticks import PriceTick, TickSource

D = Decimal
CLOSE, EXTERNAL, BOOK = TickSource.CLOSE, TickSource.EXTERNAL, TickSource.BOOK


def memory_controller(config: MarketConfig = DEFAULT_MARKET_CONFIG) -> MarketController:
    snapshot = MarketSnapshot(MappingProxyType(demo.definitions()), config)
    return MarketController(MemoryMarketStore(), lambda: snapshot)


def tick(source: TickSource, price: str, at) -> PriceTick:
    return PriceTick(source, D(price), at)


def feed(controller: MarketController, symbol: str, *ticks: PriceTick, now=None):
    """Apply ticks at the instant of the last one (or ``now``)."""
    return controller.apply_ticks(symbol, list(ticks), now or max(t.at for t in ticks))
