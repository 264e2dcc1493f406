"""The markets' policy snapshot: instrument definitions and per-session parameters, built
from the database and rebuilt only when the policy version moves (``core.policy``), so the
tick path and state reads never query the ORM.

A symbol the snapshot does not know triggers one rebuild (``refreshed``): an instrument
created a moment ago in another process is usable before the version check comes round.
"""

from __future__ import annotations

from types import MappingProxyType

from core.policy import SnapshotHolder
from risk import selectors
from risk.market import MarketSnapshot
from risk.market_config import load_market_config


def build(previous: MarketSnapshot | None, counter: str) -> MarketSnapshot:
    return MarketSnapshot(
        instruments=MappingProxyType(selectors.instrument_definitions()),
        config=load_market_config(),
        policy_version=counter,
    )


holder: SnapshotHolder[MarketSnapshot] = SnapshotHolder(build)


def current() -> MarketSnapshot:
    return holder.current()


def refreshed() -> MarketSnapshot:
    """Rebuild now (after this process changed instruments, or on an unknown symbol)."""
    holder.reset()
    return holder.current()
