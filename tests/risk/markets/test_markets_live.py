"""Black-box: a real server with the demo data, driven over HTTP only (``make run``'s path:
migrations, demo instruments with their opening prices, ticks, state, halts)."""

from datetime import UTC, datetime

import pytest

from core.clock import isoformat_z
from tests.api import live

pytestmark = pytest.mark.live_server_process


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Its own throw-away Redis: a fresh database needs fresh market state beside it, and
    no other test run's flush may pull the demo prices from under it."""
    topology = live.own_topology(tmp_path_factory.mktemp("redis"))
    instance = live.start(tmp_path_factory.mktemp("markets-live"), topology.url(topology.names[0]))
    yield instance
    live.stop(instance)
    topology.stop()


@pytest.fixture(scope="module")
def key(server):
    seeded = server.manage("load_demo_data")
    assert "6 markets given opening prices" in seeded
    again = server.manage("load_demo_data")
    assert "0 markets given opening prices" in again
    output = server.manage(
        "create_api_key", "markets-live", "--scopes", "marketdata,operator,reference"
    )
    return output.strip().splitlines()[-1]


def test_demo_markets_have_references_and_bands(server, key):
    status, body = server.json("GET", "/api/v1/markets/AAPL-PERP/state", key=key)
    assert status == 200, body
    assert sorted(body) == [
        "band",
        "reason",
        "reference_price",
        "session",
        "state",
        "symbol",
        "until",
    ]
    assert body["reference_price"] is not None and body["band"]["lower"] < body["band"]["upper"]
    status, body = server.json("GET", "/api/v1/markets/BTC-PERP/state", key=key)
    assert body["session"] == "continuous"


def test_ticks_halts_and_instruments_over_http(server, key):
    now = isoformat_z(datetime.now(UTC))
    ticks = {
        "ticks": [
            {"instrument": "NVDA-PERP", "price": "180.50", "ts": now, "source": "book"},
            {"instrument": "NVDA-PERP", "price": "180.50", "ts": now, "source": "book"},
        ]
    }
    status, body = server.json("POST", "/api/v1/market-data/ticks", ticks, key=key)
    assert status == 200, body
    assert body["states"][0]["symbol"] == "NVDA-PERP"
    assert [i["code"] for i in body["ignored"]] == ["DUPLICATE_TICK"]
    bad = {"ticks": [{**ticks["ticks"][0], "price": 180.5}]}
    status, body = server.json("POST", "/api/v1/market-data/ticks", bad, key=key)
    assert status == 400 and "ticks.0.price" in body["error"]["fields"]

    status, body = server.json(
        "POST", "/api/v1/markets/TSLA-PERP/halt", {"reason": "drill"}, key=key
    )
    assert (status, body["state"], body["reason"]) == (200, "halted", "MANUAL_HALT")
    status, body = server.json(
        "POST", "/api/v1/markets/TSLA-PERP/resume", {"reason": "done"}, key=key
    )
    assert status == 200 and body["reason"] != "MANUAL_HALT"

    status, body = server.json(
        "POST",
        "/api/v1/kill-switch",
        {"scope": "account", "target": "acc-sg", "engaged": True},
        key=key,
    )
    assert status == 200 and body["engaged"] is True

    instrument = {
        "product_class": "crypto_perp",
        "underlying": "ETH",
        "calendar": "24x7",
        "tier": 2,
        "tick_size": "0.05",
        "lot_size": "0.001",
        "max_leverage": "25",
        "max_order_quantity": "1000",
        "max_order_notional": "5000000",
        "max_position_notional": "10000000",
        "open_interest_cap": "50000",
        "is_market_index": False,
    }
    status, body = server.json("PUT", "/api/v1/instruments/ETH-PERP", instrument, key=key)
    assert status == 201, body
    eth = {"instrument": "ETH-PERP", "price": "4000.00", "ts": now, "source": "external"}
    status, body = server.json("POST", "/api/v1/market-data/ticks", {"ticks": [eth]}, key=key)
    assert status == 200, body
    assert body["states"][0]["reference_price"] == "4000.00"
    assert body["states"][0]["band"] == {"lower": "3600.00", "upper": "4400.00"}
