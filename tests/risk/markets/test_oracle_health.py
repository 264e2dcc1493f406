"""Oracle health: a stale or diverging external feed puts the market in close_only."""

from datetime import timedelta
from decimal import Decimal

import pytest

from risk.markets.oracle_health import OracleParameters, oracle_stale_at, oracle_state
from risk.markets.sessions import DEFAULTS, SessionName
from risk.markets.state import MarketStatus
from risk.markets.ticks import PricePoint
from tests.risk.clock import et, ms

D = Decimal
NOW = et("2026-11-24 11:00")
REGULAR = DEFAULTS[SessionName.REGULAR]
PRE_MARKET = DEFAULTS[SessionName.PRE_MARKET]
WEEKEND = DEFAULTS[SessionName.WEEKEND]


def point(price, age_ms):
    return PricePoint(D(price), NOW - ms(age_ms))


ORACLE_ROWS = [
    ("regular: a feed 29.999 s old is healthy", REGULAR, point("100", 29_999), None, None),
    ("regular: a feed 30 s old is stale", REGULAR, point("100", 30_000), None, "ORACLE_STALE"),
    ("regular: no feed at all is stale", REGULAR, None, None, "ORACLE_STALE"),
    ("pre-market: 1:59.999 is healthy", PRE_MARKET, point("100", 119_999), None, None),
    ("pre-market: 2 min is stale", PRE_MARKET, point("100", 120_000), None, "ORACLE_STALE"),
    ("weekend: no feed is expected", WEEKEND, None, point("100", 0), None),
    ("weekend: an old feed is not a failure", WEEKEND, point("100", 86_400_000), None, None),
    ("book 5% away from the feed is tolerated", REGULAR, point("100", 0), point("105", 0), None),
    (
        "book more than 5% away diverges",
        REGULAR,
        point("100", 0),
        point("105.01", 0),
        "ORACLE_DIVERGENCE",
    ),
    (
        "book diverging below",
        REGULAR,
        point("100", 0),
        point("94.99", 0),
        "ORACLE_DIVERGENCE",
    ),
    (
        "a book older than a minute is not compared",
        REGULAR,
        point("100", 0),
        point("50", 60_001),
        None,
    ),
    (
        "weekend divergence still counts",
        WEEKEND,
        point("100", 0),
        point("80", 0),
        "ORACLE_DIVERGENCE",
    ),
]


@pytest.mark.parametrize(
    ("session_params", "external", "book", "reason"),
    [row[1:] for row in ORACLE_ROWS],
    ids=[row[0] for row in ORACLE_ROWS],
)
def test_oracle_state(session_params, external, book, reason):
    state = oracle_state(external, book, NOW, session_params)
    if reason is None:
        assert state.status is MarketStatus.OPEN
    else:
        assert (state.status, state.reason) == (MarketStatus.CLOSE_ONLY, reason)


def test_stale_since_the_exact_instant_the_age_ran_out():
    external = point("100", 45_000)
    state = oracle_state(external, None, NOW, REGULAR)
    assert state.since == NOW - ms(15_000)
    assert oracle_stale_at(external, REGULAR) == NOW - ms(15_000)
    assert oracle_stale_at(external, WEEKEND) is None


def test_divergence_threshold_is_configurable():
    params = OracleParameters(max_divergence=D("0.10"))
    state = oracle_state(point("100", 0), point("108", 0), NOW, REGULAR, params)
    assert state.status is MarketStatus.OPEN


def test_the_comparison_window_is_configurable():
    params = OracleParameters(comparison_max_age=timedelta(minutes=10))
    state = oracle_state(point("100", 0), point("50", 60_001), NOW, REGULAR, params)
    assert state.reason == "ORACLE_DIVERGENCE"
