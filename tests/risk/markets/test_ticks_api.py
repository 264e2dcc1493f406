"""POST /api/v1/market-data/ticks and GET /api/v1/markets/{symbol}/state: structurally bad
batches are 400 with per-tick errors and apply nothing; ticks refused by rule are listed as
ignored and move nothing; states are exact at any millisecond with a manual clock."""

from datetime import timedelta

import pytest

from core.clock import ManualClock, isoformat_z, use_clock
from core.redis_client import instrument_key
from tests.conftest import auth
from tests.risk.clock import et

pytestmark = pytest.mark.django_db

T0 = et("2026-11-24 10:00")
STATE_KEYS = ["band", "reason", "reference_price", "session", "state", "symbol", "until"]


@pytest.fixture
def feed_key(make_key, demo_instruments):
    return make_key("marketdata")


def post(api, key, *ticks):
    return api.post("/api/v1/market-data/ticks", {"ticks": list(ticks)}, format="json", **auth(key))


def t(instrument, price, at, source="external"):
    return {"instrument": instrument, "price": price, "ts": isoformat_z(at), "source": source}


def state(api, key, symbol="AAPL-PERP"):
    return api.get(f"/api/v1/markets/{symbol}/state", **auth(key)).json()


def opened(api, key):
    return post(
        api,
        key,
        t("AAPL-PERP", "100.00", et("2026-11-23 16:00"), "close"),
        t("AAPL-PERP", "100.00", T0),
        t("AAPL-PERP", "100.00", T0, "book"),
    )


def test_answer_is_the_state_of_each_instrument_touched(api, feed_key):
    with use_clock(ManualClock(T0)):
        response = opened(api, feed_key)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["accepted"] == 3 and body["ignored"] == []
        assert body["states"] == [
            {
                "symbol": "AAPL-PERP",
                "state": "open",
                "session": "regular",
                "reference_price": "100.00",
                "band": {"lower": "95.00", "upper": "105.00"},
                "until": None,
                "reason": None,
            }
        ]
        assert sorted(state(api, feed_key)) == STATE_KEYS


def test_limit_state_pause_reopen_at_exact_milliseconds(api, feed_key):
    clock = ManualClock(T0)
    with use_clock(clock):
        opened(api, feed_key)
        touch = T0 + timedelta(seconds=5)
        clock.set(touch)
        post(
            api, feed_key, t("AAPL-PERP", "100.10", touch), t("AAPL-PERP", "105.00", touch, "book")
        )
        clock.set(touch + timedelta(milliseconds=14_999))
        assert state(api, feed_key)["state"] == "limit_state"
        assert state(api, feed_key)["until"] == isoformat_z(touch + timedelta(seconds=15))
        clock.set(touch + timedelta(seconds=15))
        paused = state(api, feed_key)
        assert (paused["state"], paused["reason"]) == ("paused", "LULD_PAUSE")
        assert paused["until"] == isoformat_z(touch + timedelta(seconds=315))
        # a feed keeps the oracle fresh while the pause runs its course
        for second in range(20, 320, 20):
            clock.set(touch + timedelta(seconds=second))
            post(api, feed_key, t("AAPL-PERP", "100.10", clock.now()))
        clock.set(touch + timedelta(milliseconds=314_999))
        assert state(api, feed_key)["state"] == "paused"
        clock.set(touch + timedelta(seconds=315))
        assert state(api, feed_key)["state"] == "open"


BAD_BATCHES = [
    ("price as a JSON number", {"price": 100.5}, "ticks.1.price"),
    ("price not a decimal", {"price": "1O0"}, "ticks.1.price"),
    ("price zero", {"price": "0"}, "ticks.1.price"),
    ("price negative", {"price": "-3"}, "ticks.1.price"),
    ("timestamp without a zone", {"ts": "2026-11-24T15:00:00"}, "ticks.1.ts"),
    ("timestamp not RFC 3339", {"ts": "yesterday"}, "ticks.1.ts"),
    ("unknown source", {"source": "rumour"}, "ticks.1.source"),
    ("unknown instrument", {"instrument": "NOPE"}, "ticks.1.instrument"),
    ("unknown field", {"venue": "x"}, "ticks.1.venue"),
]


@pytest.mark.parametrize(
    ("change", "field"),
    [row[1:] for row in BAD_BATCHES],
    ids=[row[0] for row in BAD_BATCHES],
)
def test_a_bad_tick_rejects_the_whole_batch_and_applies_nothing(
    api, feed_key, redis_conn, change, field
):
    with use_clock(ManualClock(T0)):
        good = t("AAPL-PERP", "100.00", T0)
        response = post(api, feed_key, good, {**t("AAPL-PERP", "101.00", T0, "book"), **change})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and field in error["fields"]
        assert redis_conn.exists(instrument_key("AAPL-PERP", "market")) == 0


def test_every_bad_tick_is_named(api, feed_key, redis_conn):
    with use_clock(ManualClock(T0)):
        response = post(
            api,
            feed_key,
            t("AAPL-PERP", "100.00", T0),
            {"instrument": "AAPL-PERP", "price": "x", "ts": "no", "source": "book"},
            {"instrument": "AAPL-PERP"},
            "not a tick",
        )
    fields = response.json()["error"]["fields"]
    assert {"ticks.1.price", "ticks.1.ts", "ticks.2.price", "ticks.2.ts", "ticks.2.source"} <= set(
        fields
    )
    assert fields["ticks.3"] == ["Expected an object."]


def test_empty_batches_and_malformed_bodies(api, feed_key):
    assert post(api, feed_key).status_code == 400
    bad = api.post(
        "/api/v1/market-data/ticks", b"{", content_type="application/json", **auth(feed_key)
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "MALFORMED_REQUEST"
    extra = api.post(
        "/api/v1/market-data/ticks", {"ticks": [], "x": 1}, format="json", **auth(feed_key)
    )
    assert extra.status_code == 400


def test_ticks_refused_by_rule_are_listed_and_move_nothing(api, feed_key, redis_conn):
    clock = ManualClock(T0)
    with use_clock(clock):
        opened(api, feed_key)
        key = instrument_key("AAPL-PERP", "market")
        before = {k: v for k, v in redis_conn.hgetall(key).items() if not k.startswith(b"pub_")}
        clock.set(T0 + timedelta(seconds=1))
        response = post(
            api,
            feed_key,
            t("AAPL-PERP", "100.00", T0),
            t("AAPL-PERP", "100.00", T0 - timedelta(seconds=1), "book"),
            t("AAPL-PERP", "100.00", T0 + timedelta(seconds=2)),
            t("AAPL-PERP", "0.01", T0 + timedelta(milliseconds=500), "book"),
            t("AAPL-PERP", "99.00", T0 - timedelta(days=2), "close"),
        )
        assert response.status_code == 200
        body = response.json()
        assert body["accepted"] == 0
        assert [(i["index"], i["code"]) for i in body["ignored"]] == [
            (0, "DUPLICATE_TICK"),
            (1, "OUT_OF_ORDER"),
            (2, "FUTURE_TICK"),
            (3, "ABSURD_PRICE"),
            (4, "OUT_OF_ORDER"),
        ]
        after = {k: v for k, v in redis_conn.hgetall(key).items() if not k.startswith(b"pub_")}
        assert {k: v for k, v in after.items() if k != b"announced_at"} == {
            k: v for k, v in before.items() if k != b"announced_at"
        }


def test_stale_feed_tick_is_ignored(api, feed_key):
    with use_clock(ManualClock(T0 + timedelta(minutes=3))):
        body = post(api, feed_key, t("AAPL-PERP", "100.00", T0)).json()
    assert [i["code"] for i in body["ignored"]] == ["STALE_TICK"]


def test_marketdata_scope_is_required_but_state_reads_take_any_key(api, make_key, demo_instruments):
    assert post(api, make_key("reference"), t("AAPL-PERP", "1", T0)).status_code == 403
    assert (
        api.get("/api/v1/markets/AAPL-PERP/state", **auth(make_key("reports"))).status_code == 200
    )
    assert api.get("/api/v1/markets/NOPE/state", **auth(make_key("reports"))).status_code == 404
    assert api.get("/api/v1/markets/AAPL-PERP/state").status_code == 401


def test_weekend_market_has_its_session_and_a_wider_band(api, feed_key):
    saturday = et("2026-11-28 12:00")
    with use_clock(ManualClock(saturday)):
        post(
            api,
            feed_key,
            t("AAPL-PERP", "100.00", et("2026-11-27 13:00"), "close"),
            t("AAPL-PERP", "100.00", saturday, "book"),
        )
        body = state(api, feed_key)
    assert (body["session"], body["state"], body["reference_price"]) == (
        "weekend",
        "open",
        "100.00",
    )
    assert body["band"] == {"lower": "90.00", "upper": "110.00"}


def test_without_redis_market_endpoints_answer_503_never_500(api, feed_key, settings):
    from core import embedded_redis

    settings.REDIS_URL = f"redis://127.0.0.1:{embedded_redis.free_port()}/0"
    from risk.markets import snapshot

    snapshot.holder.reset()
    with use_clock(ManualClock(T0)):
        response = post(api, feed_key, t("AAPL-PERP", "100.00", T0))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert api.get("/api/v1/markets/AAPL-PERP/state", **auth(feed_key)).status_code == 503
