"""Which ticks the demo feed sends, by session (pure): the underlying's feed in regular and
extended hours only, never while its market is shut (but for the minute before 4:00, so the
pre-market does not open on a stale feed); the official close at the close; the venue's book
always; ``24x7`` instruments always."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.demo_feed.schedule import (
    EXTENDED_HOURS_EVERY,
    PRE_MARKET_LEAD,
    close_due,
    external_due,
    ticks_due,
)
from risk.markets.sessions import SessionName, session_at
from tests.risk.clock import et

ROWS = [
    # name, instant (New York), calendar, session, external sent at a step divisible by 5
    ("regular", "2026-11-24 10:00", "XNYS", SessionName.REGULAR, True),
    ("pre-market: indicative", "2026-11-24 08:00", "XNYS", SessionName.PRE_MARKET, True),
    ("after-hours: indicative", "2026-11-24 17:00", "XNYS", SessionName.AFTER_HOURS, True),
    ("overnight: none", "2026-11-24 23:00", "XNYS", SessionName.OVERNIGHT, False),
    (
        "overnight, 2 minutes before 4:00: none",
        "2026-11-25 03:58",
        "XNYS",
        SessionName.OVERNIGHT,
        False,
    ),
    (
        "overnight, its last minute: the first prints",
        "2026-11-25 03:59:30",
        "XNYS",
        SessionName.OVERNIGHT,
        True,
    ),
    ("weekend: none", "2026-11-28 12:00", "XNYS", SessionName.WEEKEND, False),
    ("Thanksgiving: none", "2026-11-26 12:00", "XNYS", SessionName.HOLIDAY, False),
    ("24x7 at the weekend", "2026-11-28 12:00", "24x7", SessionName.CONTINUOUS, True),
]


@pytest.mark.parametrize(
    ("moment", "calendar", "session", "external"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_the_underlying_feed_follows_the_session(moment, calendar, session, external):
    due = ticks_due(calendar, et(moment) - timedelta(seconds=1), et(moment), step=10)
    assert due.session is session
    assert due.external is external
    assert due.book is True
    assert due.close_at is None


def test_extended_hours_send_the_indicative_price_every_few_steps():
    sent = [external_due(SessionName.AFTER_HOURS, step) for step in range(20)]
    assert sum(sent) == 20 // EXTENDED_HOURS_EVERY
    assert all(external_due(SessionName.REGULAR, step) for step in range(20))


CLOSE_ROWS = [
    # name, previous step, this step, the close expected (or None)
    ("the step that crosses 16:00", "2026-11-24 15:59:59.5", "2026-11-24 16:00:00.5", "16:00"),
    ("the step exactly at 16:00", "2026-11-24 15:59:59", "2026-11-24 16:00:00", "16:00"),
    ("the step after", "2026-11-24 16:00:00.5", "2026-11-24 16:00:01.5", None),
    ("during the session", "2026-11-24 11:00:00", "2026-11-24 11:00:01", None),
    (
        "the early close after Thanksgiving",
        "2026-11-27 12:59:59.5",
        "2026-11-27 13:00:00.5",
        "2026-11-27 13:00",
    ),
]


@pytest.mark.parametrize(
    ("previous", "now", "close"), [r[1:] for r in CLOSE_ROWS], ids=[r[0] for r in CLOSE_ROWS]
)
def test_a_close_tick_is_sent_at_the_official_close(previous, now, close):
    expected = None
    if close is not None:
        expected = et(close if " " in close else now[:10] + " " + close)
    assert close_due("XNYS", et(previous), et(now)) == expected


def test_a_feed_that_starts_later_sends_the_close_it_missed():
    assert close_due("XNYS", None, et("2026-11-28 12:00")) == et("2026-11-27 13:00")
    assert close_due("24x7", None, et("2026-11-28 12:00")) is None


WEEK = et("2026-11-22 00:00")  # Sunday: a week with a holiday and an early close


@settings(max_examples=400, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=8 * 24 * 3600 * 1000),
    gap=st.integers(min_value=1, max_value=5000),
    step=st.integers(min_value=0, max_value=10**9),
)
def test_no_external_tick_while_the_underlying_market_is_shut(offset, gap, step):
    now = WEEK + timedelta(milliseconds=offset)
    previous = now - timedelta(milliseconds=gap)
    due = ticks_due("XNYS", previous, now, step)
    session = session_at(now, "XNYS")
    if session.name in (SessionName.WEEKEND, SessionName.HOLIDAY):
        assert not due.external
    if session.name is SessionName.OVERNIGHT and session.ends_at - now > PRE_MARKET_LEAD:
        assert not due.external
    if session.name is SessionName.REGULAR:
        assert due.external
    if due.close_at is not None:  # only the close that happened within this step
        assert previous < due.close_at <= now
        assert due.close_at == session.last_official_close
        assert session.name is SessionName.AFTER_HOURS


def test_exactly_one_close_per_trading_day_over_a_week_of_steps():
    closes = []
    previous = WEEK
    for second in range(1, 7 * 24 * 3600, 1):
        now = WEEK + timedelta(seconds=second)
        close = close_due("XNYS", previous, now)
        if close is not None:
            closes.append(close)
        previous = now
    assert closes == [
        et("2026-11-23 16:00"),
        et("2026-11-24 16:00"),
        et("2026-11-25 16:00"),
        et("2026-11-27 13:00"),  # Thanksgiving Thursday has none; Friday closes early
    ]


def test_the_pre_market_never_opens_on_a_stale_feed():
    """Each step of the night before a trading day: at 4:00 the last external tick sent is
    younger than the 2 minutes the venue allows in the pre-market."""
    last_external = None
    for second in range(int(timedelta(hours=8).total_seconds())):
        now = et("2026-11-24 20:00") + timedelta(seconds=second)
        if ticks_due("XNYS", now - timedelta(seconds=1), now, step=second).external:
            last_external = now
    opening = et("2026-11-25 04:00")
    assert last_external is not None and opening - last_external < timedelta(seconds=10)
