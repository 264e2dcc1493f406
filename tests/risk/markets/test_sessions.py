"""Sessions on real XNYS calendar days (issue 6, "Tests": a regular day, an early close, a
holiday, a Sunday evening, the daylight-saving changes)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from risk.markets.sessions import (
    DEFAULTS,
    CalendarOutOfRange,
    SessionName,
    SessionParameters,
    session_at,
    trade_date_of,
)
from tests.risk.clock import et, utc

REGULAR = SessionName.REGULAR
PRE = SessionName.PRE_MARKET
AFTER = SessionName.AFTER_HOURS
NIGHT = SessionName.OVERNIGHT
WEEKEND = SessionName.WEEKEND
HOLIDAY = SessionName.HOLIDAY

SESSION_ROWS = [
    # a regular Tuesday, 2026-11-24
    ("tuesday 03:59:59.999 is still the overnight", et("2026-11-24 03:59:59.999"), NIGHT),
    ("tuesday pre-market starts at 04:00", et("2026-11-24 04:00"), PRE),
    ("tuesday 09:29:59.999 is pre-market", et("2026-11-24 09:29:59.999"), PRE),
    ("tuesday regular opens at 09:30:00.000", et("2026-11-24 09:30"), REGULAR),
    ("tuesday 15:59:59.999 is regular", et("2026-11-24 15:59:59.999"), REGULAR),
    ("tuesday after-hours starts at the 16:00 close", et("2026-11-24 16:00"), AFTER),
    ("tuesday 19:59:59.999 is after-hours", et("2026-11-24 19:59:59.999"), AFTER),
    ("tuesday 20:00 starts wednesday's overnight", et("2026-11-24 20:00"), NIGHT),
    # Thanksgiving, Thursday 2026-11-26, and the eve
    ("thanksgiving eve after-hours runs to 20:00", et("2026-11-25 19:59:59.999"), AFTER),
    ("thanksgiving eve 20:00 is the holiday", et("2026-11-25 20:00"), HOLIDAY),
    ("thanksgiving midnight is the holiday", et("2026-11-26 00:00"), HOLIDAY),
    ("thanksgiving 04:00 has no pre-market", et("2026-11-26 04:00"), HOLIDAY),
    ("thanksgiving 09:30 has no regular session", et("2026-11-26 09:30"), HOLIDAY),
    ("thanksgiving 19:59:59.999 is the holiday", et("2026-11-26 19:59:59.999"), HOLIDAY),
    ("thanksgiving 20:00 is friday's overnight", et("2026-11-26 20:00"), NIGHT),
    # the early close, Friday 2026-11-27 (13:00)
    ("early close day pre-market at 04:00", et("2026-11-27 04:00"), PRE),
    ("early close day opens at 09:30", et("2026-11-27 09:30"), REGULAR),
    ("early close day 12:59:59.999 is regular", et("2026-11-27 12:59:59.999"), REGULAR),
    ("early close day after-hours from 13:00", et("2026-11-27 13:00"), AFTER),
    ("early close day 16:00 is after-hours, not regular", et("2026-11-27 16:00"), AFTER),
    ("friday after-hours runs to 19:59:59.999", et("2026-11-27 19:59:59.999"), AFTER),
    ("the weekend starts friday 20:00", et("2026-11-27 20:00"), WEEKEND),
    ("saturday noon is the weekend", et("2026-11-28 12:00"), WEEKEND),
    # Sunday evening, 2026-11-29
    ("sunday 19:59:59.999 is still the weekend", et("2026-11-29 19:59:59.999"), WEEKEND),
    ("sunday 20:00:00.000 starts monday's overnight", et("2026-11-29 20:00"), NIGHT),
    ("monday 03:59:59.999 is the overnight", et("2026-11-30 03:59:59.999"), NIGHT),
    ("monday 04:00 is pre-market", et("2026-11-30 04:00"), PRE),
    # daylight saving starts Sunday 2026-03-08 (EST -> EDT): New York 20:00 is 00:00 UTC
    (
        "dst start: sunday 23:59:59.999 utc (19:59 edt) is weekend",
        utc("2026-03-08 23:59:59.999"),
        WEEKEND,
    ),
    ("dst start: monday 00:00 utc (sunday 20:00 edt) is overnight", utc("2026-03-09 00:00"), NIGHT),
    ("dst start: 13:29:59.999 utc is pre-market", utc("2026-03-09 13:29:59.999"), PRE),
    ("dst start: the open is 13:30 utc", utc("2026-03-09 13:30"), REGULAR),
    ("dst start: the close is 20:00 utc", utc("2026-03-09 20:00"), AFTER),
    ("dst start: friday before closed at 21:00 utc (est)", utc("2026-03-06 20:59:59.999"), REGULAR),
    ("dst start: sunday 02:30 utc-5 gap hour is weekend", utc("2026-03-08 07:30"), WEEKEND),
    # daylight saving ends Sunday 2026-11-01 (EDT -> EST): New York 20:00 is 01:00 UTC
    ("dst end: friday 20:00 edt (00:00 utc) starts the weekend", utc("2026-10-31 00:00"), WEEKEND),
    ("dst end: the repeated 01:30 is weekend", utc("2026-11-01 06:30"), WEEKEND),
    (
        "dst end: monday 00:59:59.999 utc (sunday 19:59 est) is weekend",
        utc("2026-11-02 00:59:59.999"),
        WEEKEND,
    ),
    ("dst end: monday 01:00 utc (sunday 20:00 est) is overnight", utc("2026-11-02 01:00"), NIGHT),
    ("dst end: the open is 14:30 utc", utc("2026-11-02 14:30"), REGULAR),
    ("dst end: 14:29:59.999 utc is pre-market", utc("2026-11-02 14:29:59.999"), PRE),
    # other holidays
    ("good friday is a holiday", et("2026-04-03 12:00"), HOLIDAY),
    ("good friday eve 20:00 is the holiday", et("2026-04-02 20:00"), HOLIDAY),
    ("good friday 20:00 starts the weekend", et("2026-04-03 20:00"), WEEKEND),
    ("sunday evening before labor day is the holiday", et("2026-09-06 20:00"), HOLIDAY),
    ("labor day 20:00 is tuesday's overnight", et("2026-09-07 20:00"), NIGHT),
    ("independence day observed on friday 3 july", et("2026-07-03 10:00"), HOLIDAY),
    ("christmas eve is an early close", et("2026-12-24 13:00"), AFTER),
]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [row[1:] for row in SESSION_ROWS],
    ids=[row[0] for row in SESSION_ROWS],
)
def test_session_name(moment, expected):
    assert session_at(moment).name is expected


BOUNDS_ROWS = [
    (
        "regular session bounds are the calendar's open and close",
        et("2026-11-24 12:00"),
        et("2026-11-24 09:30"),
        et("2026-11-24 16:00"),
        et("2026-11-23 16:00"),
    ),
    (
        "early close regular session ends 13:00",
        et("2026-11-27 10:00"),
        et("2026-11-27 09:30"),
        et("2026-11-27 13:00"),
        et("2026-11-25 16:00"),
    ),
    (
        "after-hours after an early close is 13:00-20:00 and its close is today's",
        et("2026-11-27 15:00"),
        et("2026-11-27 13:00"),
        et("2026-11-27 20:00"),
        et("2026-11-27 13:00"),
    ),
    (
        "the weekend runs friday 20:00 to sunday 20:00",
        et("2026-11-28 09:00"),
        et("2026-11-27 20:00"),
        et("2026-11-29 20:00"),
        et("2026-11-27 13:00"),
    ),
    (
        "the thanksgiving holiday runs from the eve 20:00 to 20:00",
        et("2026-11-26 09:00"),
        et("2026-11-25 20:00"),
        et("2026-11-26 20:00"),
        et("2026-11-25 16:00"),
    ),
    (
        "monday's overnight runs from sunday 20:00 to 04:00",
        et("2026-11-29 22:00"),
        et("2026-11-29 20:00"),
        et("2026-11-30 04:00"),
        et("2026-11-27 13:00"),
    ),
    (
        "a weekend across the dst end lasts 49 hours",
        utc("2026-10-31 12:00"),
        utc("2026-10-31 00:00"),
        utc("2026-11-02 01:00"),
        et("2026-10-30 16:00"),
    ),
    (
        "the overnight after thanksgiving measures from wednesday's close",
        et("2026-11-26 23:00"),
        et("2026-11-26 20:00"),
        et("2026-11-27 04:00"),
        et("2026-11-25 16:00"),
    ),
]


@pytest.mark.parametrize(
    ("moment", "starts_at", "ends_at", "last_close"),
    [row[1:] for row in BOUNDS_ROWS],
    ids=[row[0] for row in BOUNDS_ROWS],
)
def test_session_bounds_and_last_official_close(moment, starts_at, ends_at, last_close):
    session = session_at(moment)
    assert (session.starts_at, session.ends_at) == (starts_at, ends_at)
    assert session.last_official_close == last_close


def test_the_close_instant_itself_is_the_last_official_close():
    assert session_at(et("2026-11-24 16:00")).last_official_close == et("2026-11-24 16:00")
    assert session_at(et("2026-11-24 15:59:59.999")).last_official_close == et("2026-11-23 16:00")


def test_regular_session_knows_time_since_open_and_to_close():
    session = session_at(et("2026-11-27 12:35"))
    assert session.since_open == timedelta(hours=3, minutes=5)
    assert session.to_close == timedelta(minutes=25)
    assert session.regular_open == et("2026-11-27 09:30")
    assert session.regular_close == et("2026-11-27 13:00")


def test_outside_the_regular_session_there_is_no_time_since_open():
    session = session_at(et("2026-11-24 16:00"))
    assert session.since_open is None
    assert session.to_close is None


TRADE_DATE_ROWS = [
    ("before 20:00 the trade date is today", et("2026-11-24 19:59:59.999"), date(2026, 11, 24)),
    ("from 20:00 the trade date is tomorrow", et("2026-11-24 20:00"), date(2026, 11, 25)),
    ("sunday evening belongs to monday", et("2026-11-29 21:00"), date(2026, 11, 30)),
    ("friday evening belongs to saturday", et("2026-11-27 21:00"), date(2026, 11, 28)),
]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [row[1:] for row in TRADE_DATE_ROWS],
    ids=[row[0] for row in TRADE_DATE_ROWS],
)
def test_trade_date(moment, expected):
    assert trade_date_of(moment) == expected
    assert session_at(moment).trade_date == expected


def test_trade_date_ends_at_20_00_new_york():
    assert session_at(et("2026-11-24 10:00")).trade_date_ends_at == et("2026-11-24 20:00")
    assert session_at(et("2026-11-24 21:00")).trade_date_ends_at == et("2026-11-25 20:00")


def test_24x7_instruments_are_always_continuous():
    for moment in (et("2026-11-24 10:00"), et("2026-11-26 12:00"), et("2026-11-28 03:00")):
        session = session_at(moment, "24x7")
        assert session.name is SessionName.CONTINUOUS
        assert session.last_official_close is None
        assert session.since_open is None


def test_an_unknown_calendar_is_refused():
    with pytest.raises(ValueError, match="unknown calendar"):
        session_at(et("2026-11-24 10:00"), "XLON")


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="aware"):
        session_at(datetime(2026, 11, 24, 15, 0))


def test_an_instant_outside_the_calendar_is_refused():
    with pytest.raises(CalendarOutOfRange):
        session_at(utc("2060-01-05 15:00"))


def test_the_answer_does_not_depend_on_the_zone_of_the_instant():
    in_new_york = datetime.fromisoformat("2026-11-24T09:30:00-05:00")
    session = session_at(in_new_york)
    assert session.name is REGULAR
    assert session.starts_at == et("2026-11-24 09:30")


PARAMETER_ROWS = [
    ("regular session: plan bands, full leverage and limits", REGULAR, "1", "1", "1"),
    ("pre-market: double bands, half leverage", PRE, "2", "0.5", "1"),
    ("after-hours: double bands, half leverage", AFTER, "2", "0.5", "1"),
    ("overnight: position limit at 50% (QFEX)", NIGHT, "2", "0.5", "0.5"),
    (
        "weekend: position limit at 10% (QFEX), a quarter of the leverage",
        WEEKEND,
        "2",
        "0.25",
        "0.1",
    ),
    ("holiday: as the weekend", HOLIDAY, "2", "0.25", "0.1"),
    ("24x7: continuous at regular values", SessionName.CONTINUOUS, "1", "1", "1"),
]


@pytest.mark.parametrize(
    ("name", "band", "leverage", "position"),
    [row[1:] for row in PARAMETER_ROWS],
    ids=[row[0] for row in PARAMETER_ROWS],
)
def test_default_session_parameters(name, band, leverage, position):
    params = DEFAULTS[name]
    assert params.band_multiplier == Decimal(band)
    assert params.leverage_cap_fraction == Decimal(leverage)
    assert params.position_limit_fraction == Decimal(position)


def test_every_session_has_default_parameters():
    assert set(DEFAULTS) == set(SessionName)


def test_session_leverage_cap_scales_the_instrument_cap():
    assert DEFAULTS[WEEKEND].max_leverage(Decimal(20)) == Decimal(5)


@pytest.mark.parametrize("name", list(SessionName))
def test_session_parameters_round_trip_through_strings(name):
    params = DEFAULTS[name]
    stored = params.to_dict()
    assert all(isinstance(value, str) for value in stored.values())
    assert SessionParameters.from_dict(stored) == params


def test_session_parameters_keep_sub_second_durations():
    params = SessionParameters(
        Decimal(1), Decimal(1), Decimal(1), timedelta(seconds=1, microseconds=5), None
    )
    assert SessionParameters.from_dict(params.to_dict()) == params
