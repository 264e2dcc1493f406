"""The markets' policy snapshot: instrument definitions and per-session parameters, built
from the database and stamped with the ``instruments`` and ``sessions`` policy versions it
was built from (``core.policy``), so the tick path and state reads never query the ORM.

Readers off the hot path call ``verified()`` once per request (one read of the announced
versions; a rebuild only when they moved), then ``current()``. A symbol the snapshot does
not know triggers one rebuild (``refreshed``).
"""

from __future__ import annotations

from types import MappingProxyType

from core import policy
from core.policy import SnapshotHolder
from risk.markets import selectors
from risk.markets.config import load_market_config
from risk.markets.controller import MarketSnapshot

COMPONENTS = (policy.INSTRUMENTS, policy.SESSIONS)


def build(previous: MarketSnapshot | None) -> MarketSnapshot:
    versions = policy.versions_in_database()
    return MarketSnapshot(
        instruments=MappingProxyType(selectors.instrument_definitions()),
        config=load_market_config(versions[policy.SESSIONS]),
        versions={name: versions[name] for name in COMPONENTS},
    )


holder: SnapshotHolder[MarketSnapshot] = SnapshotHolder(build, COMPONENTS)


def current() -> MarketSnapshot:
    return holder.current()


def verified() -> MarketSnapshot:
    return holder.verified()


def refreshed() -> MarketSnapshot:
    """Rebuild now (after this process changed instruments, or on an unknown symbol)."""
    holder.reset()
    return holder.current()
