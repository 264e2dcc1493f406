"""Per-session parameters are data: seeded from RULES.md §4, changed with history and audit,
and used by the bands at once."""

import pytest

from core.clock import ManualClock, isoformat_z, use_clock
from core.models import AuditEntry
from risk.markets import selectors
from risk.markets.sessions import DEFAULTS
from risk.models import SessionParameterVersion
from tests.conftest import auth
from tests.risk.clock import et

pytestmark = pytest.mark.django_db


def test_the_seed_is_the_shipped_defaults():
    assert selectors.session_parameters() == DEFAULTS


def test_changing_weekend_parameters_is_versioned_audited_and_used(
    api, make_key, demo_instruments, django_capture_on_commit_callbacks
):
    key = make_key("reference")
    saturday = et("2026-11-28 12:00")
    clock = ManualClock(saturday)
    ticks = {
        "ticks": [
            {
                "instrument": "AAPL-PERP",
                "price": "100",
                "ts": "2026-11-27T18:00:00Z",
                "source": "close",
            },
            {
                "instrument": "AAPL-PERP",
                "price": "100",
                "ts": isoformat_z(saturday),
                "source": "book",
            },
        ]
    }
    with use_clock(clock):
        api.post("/api/v1/market-data/ticks", ticks, format="json", **auth(make_key("marketdata")))
        before = api.get("/api/v1/markets/AAPL-PERP/state", **auth(key)).json()
    assert before["band"] == {"lower": "90.00", "upper": "110.00"}
    body = {
        "band_multiplier": "3",
        "leverage_cap_fraction": "0.2",
        "position_limit_fraction": "0.1",
        "reference_time_constant_seconds": "28800",
        "oracle_max_age_seconds": None,
    }
    with use_clock(clock), django_capture_on_commit_callbacks(execute=True):
        response = api.put("/api/v1/market-sessions/weekend", body, format="json", **auth(key))
    assert response.status_code == 200, response.json()
    with use_clock(clock):
        after = api.get("/api/v1/markets/AAPL-PERP/state", **auth(key)).json()
    assert after["band"] == {"lower": "85.00", "upper": "115.00"}
    assert response.json()["version"] == 2 and response.json()["band_multiplier"] == "3"
    versions = SessionParameterVersion.objects.filter(session="weekend").order_by("version")
    assert [v.values["band_multiplier"] for v in versions] == ["2", "3"]
    assert AuditEntry.objects.filter(action="session_parameters.update").count() == 1
    from risk.markets.config import load_market_config
    from risk.markets.sessions import SessionName

    assert str(load_market_config().session_params(SessionName.WEEKEND).band_multiplier) == "3"


@pytest.mark.parametrize(
    ("name", "change", "field"),
    [
        ("weekend", {"leverage_cap_fraction": "1.5"}, "leverage_cap_fraction"),
        ("weekend", {"band_multiplier": "0"}, "band_multiplier"),
        ("weekend", {"surprise": "1"}, "surprise"),
    ],
)
def test_invalid_session_parameters(api, make_key, redis_conn, name, change, field):
    body = {
        "band_multiplier": "2",
        "leverage_cap_fraction": "0.25",
        "position_limit_fraction": "0.1",
        "reference_time_constant_seconds": "28800",
        "oracle_max_age_seconds": None,
        **change,
    }
    response = api.put(
        f"/api/v1/market-sessions/{name}", body, format="json", **auth(make_key("reference"))
    )
    assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_unknown_session_is_404(api, make_key, redis_conn):
    body = {
        "band_multiplier": "2",
        "leverage_cap_fraction": "0.25",
        "position_limit_fraction": "0.1",
        "reference_time_constant_seconds": None,
        "oracle_max_age_seconds": None,
    }
    response = api.put(
        "/api/v1/market-sessions/lunch", body, format="json", **auth(make_key("reference"))
    )
    assert response.status_code == 404
