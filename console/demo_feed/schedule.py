"""Which ticks the outside world sends for an instrument at an instant, by its session.

The venue trades around the clock; the underlying of an equity perp does not (DESIGN.md,
"Markets"). What a real feed does, and what the venue's session parameters expect of it
(``risk.markets.sessions.DEFAULTS``: how old the external price may get before the market
goes ``close_only``):

- ``regular`` (9:30 to the close, XNYS): the underlying's price every step;
- ``pre_market`` and ``after_hours``: the underlying trades thinly on ECNs; its indicative
  price arrives every few steps -- the feed the venue watches for 2 minutes in those hours
  and blends into the off-hours reference (``risk.markets.reference_price``);
- ``overnight``, ``weekend``, ``holiday``: the underlying's market is shut and no external
  price is sent (the venue expects none: its silence is not an oracle failure) -- except in
  the last minute before the pre-market opens at 4:00, when the early ECN prints begin: the
  venue expects a feed no older than 2 minutes from 4:00:00.000 on, and a feed that began
  only then would leave every equity market ``close_only`` (``ORACLE_STALE``) for its first
  seconds each morning, an alert a day per instrument for nothing;
- at the official close (16:00 ET, or an early close) the ``close`` tick, stamped at the
  close: the anchor of the off-hours blend and of the market-wide breakers;
- ``24x7`` instruments: their feed every step;
- the venue's own book mark: every step, in every session.

A feed that starts (or restarts) after a close it did not see sends that close first; the
venue refuses a second copy as a duplicate, so this is harmless when it already has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from risk.markets.sessions import SessionName, session_at

EXTENDED_HOURS_EVERY = 5
"""Pre-market and after-hours: the indicative price every this many steps (well inside the
2 minutes the venue waits before calling the feed stale)."""
PRE_MARKET_LEAD = timedelta(minutes=1)
"""The indicative prints start this long before the pre-market opens."""

_EVERY_STEP = frozenset({SessionName.REGULAR, SessionName.CONTINUOUS})
_EXTENDED = frozenset({SessionName.PRE_MARKET, SessionName.AFTER_HOURS})


@dataclass(frozen=True, slots=True)
class TicksDue:
    """What to send for one instrument at one step."""

    session: SessionName
    external: bool
    book: bool
    close_at: datetime | None
    """The official close to send a ``close`` tick for, stamped at that instant."""


def external_due(session: SessionName, step: int) -> bool:
    """Whether the underlying's price is sent at ``step`` in ``session``."""
    if session in _EVERY_STEP:
        return True
    if session in _EXTENDED:
        return step % EXTENDED_HOURS_EVERY == 0
    return False


def close_due(calendar: str, previous: datetime | None, now: datetime) -> datetime | None:
    """The official close that happened in (``previous``, ``now``]; with no ``previous`` (the
    feed's first step), the last official close before ``now``, if any."""
    last_close = session_at(now, calendar).last_official_close
    if last_close is None or last_close > now:
        return None
    if previous is not None and last_close <= previous:
        return None
    return last_close


def ticks_due(calendar: str, previous: datetime | None, now: datetime, step: int) -> TicksDue:
    info = session_at(now, calendar)
    session = info.name
    external = external_due(session, step)
    if session is SessionName.OVERNIGHT and info.ends_at is not None:
        external = info.ends_at - now <= PRE_MARKET_LEAD and external_due(
            SessionName.PRE_MARKET, step
        )
    return TicksDue(
        session=session,
        external=external,
        book=True,
        close_at=close_due(calendar, previous, now),
    )
