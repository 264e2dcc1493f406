"""This process's copy of each instrument's market publication and of the global kill switch,
so that on one Redis the pre-trade check is a single round trip (``order_step``).

The stateless stage needs the market (state, reference, band) before the atomic step can
decide. Reading it first would cost a round trip per check; instead the stage runs on the
copy kept here, and ``order_step`` compares the copy's token (``pub_token``, rewritten with
every write of the market hash: ``risk.markets.store``) and the bucket's copy of the global
kill switch with what Redis holds, inside the step that decides. A copy that is out of date
decides nothing: the step answers the current publication, which replaces the copy, and the
order is judged again. So no check ever decides on a market older than the step that
records it (read-your-writes for halts and kill switches), and the common case, a market
nobody wrote since this process last saw it, costs no extra round trip.

A copy is used only while it describes ``now`` (``pub_at <= now < pub_recheck_at``) and was
drawn with the snapshot's definition and configuration; otherwise the check reads the market
from Redis as before (``risk.markets.view``). Bounded: one copy per instrument, one verdict
of the global kill switch per account bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from risk.markets.config import MarketConfig
from risk.markets.record import InstrumentDefinition
from risk.markets.ticks import parse_instant
from risk.markets.view import view_from_publication
from risk.pretrade.facts import MarketConditions

NO_TOKEN = ""
"""The token of a market hash never written since tokens exist (or not written at all)."""


@dataclass(frozen=True, slots=True)
class Copy:
    token: str
    fields: Mapping[str, str]
    written_at: datetime | None
    recheck_at: datetime | None
    conditions: dict  # (definition version, config version) -> MarketConditions

    def describes(self, now: datetime) -> bool:
        if self.written_at is None or now < self.written_at:
            return False
        return self.recheck_at is None or now < self.recheck_at


_copies: dict[str, Copy] = {}
_global_kill: dict[int, bool] = {}


def remember(symbol: str, token: str, fields: Mapping[str, str]) -> None:
    """Keep ``fields`` (the publication as just read from Redis, with its token)."""
    _copies[symbol] = Copy(
        token,
        dict(fields),
        parse_instant(fields.get("pub_at", "")),
        parse_instant(fields.get("pub_recheck_at", "")),
        {},
    )


def conditions(
    symbol: str, definition: InstrumentDefinition, config: MarketConfig, now: datetime
) -> tuple[str, MarketConditions] | None:
    """(token, the market's conditions at ``now``) from this process's copy, or None when
    there is no copy or it cannot say (it no longer describes ``now``, or was drawn with
    another definition or configuration)."""
    copy = _copies.get(symbol)
    if copy is None or not copy.describes(now):
        return None
    drawn_with = (definition.version, config.version)
    found = copy.conditions.get(drawn_with)
    if found is None:
        view = view_from_publication(symbol, copy.fields, definition, now, config)
        if view is None:
            return None
        # What a publication says does not depend on the instant while it describes it.
        found = copy.conditions[drawn_with] = MarketConditions.of(view)
    return copy.token, found


def global_kill(bucket: int) -> bool:
    """The global kill switch as this process last saw it in the bucket's copy."""
    return _global_kill.get(bucket, False)


def saw_global_kill(bucket: int, engaged: bool) -> None:
    _global_kill[bucket] = engaged


def forget() -> None:
    """Drop every copy (tests; a copy out of date is never used anyway)."""
    _copies.clear()
    _global_kill.clear()
