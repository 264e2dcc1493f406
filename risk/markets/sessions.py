"""Trading sessions of the underlying's market, and the parameters each session carries.

The venue trades 24/7 while the underlying trades on the NYSE calendar (DESIGN.md, "Markets").
What is safe differs by the hour: in the regular session the underlying has a live price and
the LULD plan applies; at night and at weekends the price is discovered on the venue's own
book, so bands widen, leverage and position limits shrink (RULES.md §4). This module names the
session at an instant; ``SessionParameters`` holds what changes with it.

Session names, on the XNYS calendar, all in America/New_York wall time:

- ``regular``: the calendar's open to its close (9:30–16:00, early closes such as 13:00 on the
  day after Thanksgiving honoured, straight from ``exchange-calendars``).
- ``pre_market``: 4:00 to the open, on a trading day.
- ``after_hours``: the close (16:00 or the early close) to 20:00, on a trading day -- Friday
  included, because US extended-hours trading runs on Friday evenings as on any other.
- ``overnight``: 20:00 to 4:00 when the morning is a trading day (so Sunday 20:00 onwards).
- ``weekend``: closed hours belonging to a Saturday or Sunday: Friday 20:00 to Sunday 20:00.
  "From Friday's close" (issue 6) is read as the close of Friday's extended session.
- ``holiday``: closed hours belonging to a weekday without a session: from 20:00 on the eve
  to 20:00 on the holiday itself (Wednesday 20:00 to Thursday 20:00 at Thanksgiving).
- ``continuous``: any instant, for ``24x7`` instruments.

One rule gives all of the XNYS names: from 20:00 ET an instant belongs to the next calendar
day (its *trade date*, as futures' trade dates start the evening before). A trade date that
is a session day splits into overnight, pre-market, regular and after-hours; one that is not
is ``weekend`` on Saturday and Sunday and ``holiday`` on a weekday. So the Sunday evening
before a Monday holiday is ``holiday``, and the Friday evening before it is ``weekend``.

Speed: the calendar is built once; each trade date's bounds are computed once (in UTC) and
cached, so a lookup is one zone conversion and a few comparisons.
"""

from __future__ import annotations

import warnings
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from risk.markets.ticks import require_aware

NEW_YORK = ZoneInfo("America/New_York")
XNYS = "XNYS"
CONTINUOUS_CALENDAR = "24x7"
CALENDARS = (XNYS, CONTINUOUS_CALENDAR)

PRE_MARKET_OPENS = time(4, 0)
EVENING_STARTS = time(20, 0)
CALENDAR_FIRST_DAY = date(2000, 1, 1)
CALENDAR_LAST_DAY = date(2045, 12, 31)


class SessionName(StrEnum):
    REGULAR = "regular"
    PRE_MARKET = "pre_market"
    AFTER_HOURS = "after_hours"
    OVERNIGHT = "overnight"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    CONTINUOUS = "continuous"


OFF_HOURS = frozenset(SessionName) - {SessionName.REGULAR, SessionName.CONTINUOUS}
"""Sessions the LULD plan does not cover; the off-hours reference blend applies in them."""


class CalendarOutOfRange(ValueError):
    """The instant lies outside the dates the calendar was built for: refuse, never guess."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The session an instant ``at`` falls in, with the bounds the rules need.

    ``starts_at``/``ends_at`` bound the named session (for weekend and holiday, the whole run
    of closed trade dates with that name). ``regular_open``/``regular_close`` are the trade
    date's regular session (None on a closed day). ``last_official_close`` is the latest
    regular close at or before ``at``: the close that off-hours references and market-wide
    breakers are measured from (RULES.md §2, §4). All instants are aware UTC.
    """

    calendar: str
    name: SessionName
    at: datetime
    trade_date: date | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    regular_open: datetime | None = None
    regular_close: datetime | None = None
    last_official_close: datetime | None = None
    trade_date_ends_at: datetime | None = None

    @property
    def is_regular(self) -> bool:
        return self.name is SessionName.REGULAR

    @property
    def is_off_hours(self) -> bool:
        return self.name in OFF_HOURS

    @property
    def since_open(self) -> timedelta | None:
        """Time since the regular open, during the regular session only (band doubling)."""
        if self.name is not SessionName.REGULAR or self.regular_open is None:
            return None
        return self.at - self.regular_open

    @property
    def to_close(self) -> timedelta | None:
        """Time left to the regular close, during the regular session only."""
        if self.name is not SessionName.REGULAR or self.regular_close is None:
            return None
        return self.regular_close - self.at


@dataclass(frozen=True, slots=True)
class _TradeDate:
    """One trade date's bounds in UTC, computed once per date."""

    trade_date: date
    name: SessionName | None
    eve_starts: datetime
    pre_market_starts: datetime
    regular_open: datetime | None
    regular_close: datetime | None
    ends: datetime
    previous_close: datetime | None
    closed_run_starts: datetime
    closed_run_ends: datetime


@cache
def _xnys_schedule() -> tuple[tuple[date, ...], dict[date, tuple[datetime, datetime]]]:
    """The XNYS sessions with their opens and closes, read from ``exchange-calendars`` once.

    Built for an explicit range: the library's default range follows the wall clock, which
    would make the answer depend on the day the process started.
    """
    # Imported here: it brings pandas, which a process that never asks for a session
    # (a migration, a management command) should not pay for at start-up.
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange-calendars 4.13 trips a pandas 3.1 deprecation inside its own code.
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = exchange_calendars.get_calendar(
            XNYS, start=CALENDAR_FIRST_DAY.isoformat(), end=CALENDAR_LAST_DAY.isoformat()
        )
        schedule = calendar.schedule
    bounds = {
        label.date(): (
            opens.to_pydatetime().astimezone(UTC),
            closes.to_pydatetime().astimezone(UTC),
        )
        for label, opens, closes in zip(
            schedule.index, schedule["open"], schedule["close"], strict=True
        )
    }
    return tuple(sorted(bounds)), bounds


def _wall_time(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=NEW_YORK).astimezone(UTC)


def _closed_name(day: date) -> SessionName:
    return SessionName.WEEKEND if day.weekday() >= 5 else SessionName.HOLIDAY


@lru_cache(maxsize=8192)
def _trade_date(day: date) -> _TradeDate:
    if not CALENDAR_FIRST_DAY < day < CALENDAR_LAST_DAY:
        raise CalendarOutOfRange(f"{day} is outside {CALENDAR_FIRST_DAY}..{CALENDAR_LAST_DAY}")
    session_days, bounds = _xnys_schedule()
    position = bisect_left(session_days, day)
    previous_close = bounds[session_days[position - 1]][1] if position > 0 else None
    regular = bounds.get(day)
    name = None if regular is not None else _closed_name(day)
    run_first = run_last = day
    if name is not None:
        while (
            run_first - timedelta(days=1) not in bounds
            and _closed_name(run_first - timedelta(days=1)) is name
            and run_first > CALENDAR_FIRST_DAY
        ):
            run_first -= timedelta(days=1)
        while (
            run_last + timedelta(days=1) not in bounds
            and _closed_name(run_last + timedelta(days=1)) is name
            and run_last < CALENDAR_LAST_DAY
        ):
            run_last += timedelta(days=1)
    return _TradeDate(
        trade_date=day,
        name=name,
        eve_starts=_wall_time(day - timedelta(days=1), EVENING_STARTS),
        pre_market_starts=_wall_time(day, PRE_MARKET_OPENS),
        regular_open=regular[0] if regular else None,
        regular_close=regular[1] if regular else None,
        ends=_wall_time(day, EVENING_STARTS),
        previous_close=previous_close,
        closed_run_starts=_wall_time(run_first - timedelta(days=1), EVENING_STARTS),
        closed_run_ends=_wall_time(run_last, EVENING_STARTS),
    )


def trade_date_of(now: datetime) -> date:
    """The XNYS trade date an instant belongs to: from 20:00 ET, the next calendar day."""
    local = require_aware(now).astimezone(NEW_YORK)
    if local.hour >= EVENING_STARTS.hour:
        return local.date() + timedelta(days=1)
    return local.date()


def session_at(now: datetime, calendar: str = XNYS) -> SessionInfo:
    """The session ``now`` falls in on ``calendar`` (``XNYS`` or ``24x7``).

    Each session is half-open, [starts_at, ends_at): 9:30:00.000 is regular, 16:00:00.000 is
    after-hours, Sunday 20:00:00.000 is overnight.
    """
    if calendar == CONTINUOUS_CALENDAR:
        require_aware(now)
        return SessionInfo(calendar=CONTINUOUS_CALENDAR, name=SessionName.CONTINUOUS, at=now)
    if calendar != XNYS:
        raise ValueError(f"unknown calendar {calendar!r}; expected one of {CALENDARS}")
    day = _trade_date(trade_date_of(now))
    if day.name is not None:
        return SessionInfo(
            calendar=XNYS,
            name=day.name,
            at=now,
            trade_date=day.trade_date,
            starts_at=day.closed_run_starts,
            ends_at=day.closed_run_ends,
            last_official_close=day.previous_close,
            trade_date_ends_at=day.ends,
        )
    regular_open, regular_close = day.regular_open, day.regular_close
    assert regular_open is not None and regular_close is not None
    if now < day.pre_market_starts:
        name, starts_at, ends_at = SessionName.OVERNIGHT, day.eve_starts, day.pre_market_starts
    elif now < regular_open:
        name, starts_at, ends_at = SessionName.PRE_MARKET, day.pre_market_starts, regular_open
    elif now < regular_close:
        name, starts_at, ends_at = SessionName.REGULAR, regular_open, regular_close
    else:
        name, starts_at, ends_at = SessionName.AFTER_HOURS, regular_close, day.ends
    return SessionInfo(
        calendar=XNYS,
        name=name,
        at=now,
        trade_date=day.trade_date,
        starts_at=starts_at,
        ends_at=ends_at,
        regular_open=regular_open,
        regular_close=regular_close,
        last_official_close=regular_close if now >= regular_close else day.previous_close,
        trade_date_ends_at=day.ends,
    )


@dataclass(frozen=True, slots=True)
class SessionParameters:
    """What changes with the session; data an officer edits (seeded from ``DEFAULTS``).

    - ``band_multiplier``: times the LULD width, for hours the plan does not cover (RULES.md §1).
    - ``leverage_cap_fraction``: of the instrument's regular-session ``max_leverage``; lower
      off-hours (RULES.md §4). It also sets the discovery bounds of the off-hours reference.
    - ``position_limit_fraction``: of ``max_position_notional``; above it orders are
      reduce-only (RULES.md §4, QFEX: 50% overnight, 10% at weekends).
    - ``reference_time_constant``: the off-hours reference's EMA time constant (RULES.md §4,
      Felix/trade.xyz: about 1 h on week nights, 8 h at weekends); None where LULD applies.
    - ``oracle_max_age``: how old the external feed may be before the market goes
      ``close_only``; None where the underlying has no live price to expect (weekend).
    """

    band_multiplier: Decimal
    leverage_cap_fraction: Decimal
    position_limit_fraction: Decimal
    reference_time_constant: timedelta | None
    oracle_max_age: timedelta | None

    def max_leverage(self, instrument_max_leverage: Decimal) -> Decimal:
        """The session's leverage cap for an instrument whose regular cap is given."""
        return instrument_max_leverage * self.leverage_cap_fraction

    def to_dict(self) -> dict[str, str]:
        return {
            "band_multiplier": str(self.band_multiplier),
            "leverage_cap_fraction": str(self.leverage_cap_fraction),
            "position_limit_fraction": str(self.position_limit_fraction),
            "reference_time_constant": _seconds(self.reference_time_constant),
            "oracle_max_age": _seconds(self.oracle_max_age),
        }

    @classmethod
    def from_dict(cls, fields: dict[str, str]) -> SessionParameters:
        return cls(
            band_multiplier=Decimal(fields["band_multiplier"]),
            leverage_cap_fraction=Decimal(fields["leverage_cap_fraction"]),
            position_limit_fraction=Decimal(fields["position_limit_fraction"]),
            reference_time_constant=_duration(fields["reference_time_constant"]),
            oracle_max_age=_duration(fields["oracle_max_age"]),
        )


def _seconds(duration: timedelta | None) -> str:
    if duration is None:
        return ""
    return str(Decimal(duration // timedelta(microseconds=1)).scaleb(-6).normalize())


def _duration(text: str) -> timedelta | None:
    if not text:
        return None
    return timedelta(microseconds=int(Decimal(text).scaleb(6)))


_OFF_HOURS_BAND = Decimal(2)
_ONE = Decimal(1)
_HALF = Decimal("0.5")
_QUARTER = Decimal("0.25")

DEFAULTS: dict[SessionName, SessionParameters] = {
    SessionName.REGULAR: SessionParameters(_ONE, _ONE, _ONE, None, timedelta(seconds=30)),
    SessionName.PRE_MARKET: SessionParameters(
        _OFF_HOURS_BAND, _HALF, _ONE, timedelta(minutes=5), timedelta(minutes=2)
    ),
    SessionName.AFTER_HOURS: SessionParameters(
        _OFF_HOURS_BAND, _HALF, _ONE, timedelta(minutes=5), timedelta(minutes=2)
    ),
    SessionName.OVERNIGHT: SessionParameters(
        _OFF_HOURS_BAND, _HALF, _HALF, timedelta(hours=1), None
    ),
    SessionName.WEEKEND: SessionParameters(
        _OFF_HOURS_BAND, _QUARTER, Decimal("0.1"), timedelta(hours=8), None
    ),
    SessionName.HOLIDAY: SessionParameters(
        _OFF_HOURS_BAND, _QUARTER, Decimal("0.1"), timedelta(hours=8), None
    ),
    SessionName.CONTINUOUS: SessionParameters(_ONE, _ONE, _ONE, None, timedelta(seconds=60)),
}
"""Shipped defaults, one row per session (RULES.md §4; the skeleton seeds them as rows).

Pre-market and after-hours: the underlying trades thinly on ECNs, so bands double and
leverage halves, but positions keep their full limit. Overnight: QFEX's 50% position limit.
Weekend and holiday: QFEX's 10%, a quarter of the leverage (20x becomes 5x), and no external
feed is expected, so its absence is not an oracle failure. ``24x7`` instruments have one
``continuous`` session with regular-session values.
"""
