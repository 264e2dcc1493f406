"""Two hosts that share nothing local (issue 16), black-box: two web processes with
different ``GATEHOUSE_VAR_DIR``, one database, one Redis, one signing key file
(``SIGNING_KEY_FILE``) and one reports storage (``REPORTS_STORAGE_*``: here a directory both
mount, standing for the object store production names). A report generated on one host is
downloadable, byte for byte, from the other; a limit reserved through one is seen by the
other. A third host left on the default local storage shows why the setting exists."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from core.clock import isoformat_z
from tests.api import live
from tests.api.test_pretrade_live import INSTRUMENT, SYMBOL

pytestmark = [pytest.mark.live_server_process, pytest.mark.once]


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    shared = tmp_path_factory.mktemp("shared")
    topology = live.own_topology(tmp_path_factory.mktemp("redis"))
    common = {
        "DATABASE_URL": f"sqlite:///{shared / 'gatehouse.sqlite3'}",
        "SIGNING_KEY_FILE": str(shared / "signing" / "ed25519.pem"),
        "REPORTS_STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage",
        "REPORTS_STORAGE_OPTIONS": json.dumps({"location": str(shared / "reports")}),
    }
    url = topology.url(topology.names[0])
    started = []
    try:
        a = live.start(tmp_path_factory.mktemp("host-a"), url, extra_env=common)
        started.append(a)
        b = live.start(tmp_path_factory.mktemp("host-b"), url, extra_env=common)
        started.append(b)
        local = {k: v for k, v in common.items() if not k.startswith("REPORTS_")}
        c = live.start(tmp_path_factory.mktemp("host-c"), url, extra_env=local)
        started.append(c)
        a.manage("load_demo_data")
        a.manage("resync_risk_state")
        key = (
            a.manage("create_api_key", "ops", "--scopes", "pretrade,marketdata,reference,reports")
            .strip()
            .splitlines()[-1]
        )
        yield {"a": a, "b": b, "c": c, "key": key, "redis": topology, "shared": shared}
    finally:
        for server in started:
            live.stop(server)
        topology.stop()


def test_a_report_generated_on_one_host_downloads_from_the_other(hosts):
    a, b, c, key = hosts["a"], hosts["b"], hosts["c"], hosts["key"]
    period = (date.today() - timedelta(days=1)).isoformat()
    printed = a.manage("generate_report", "daily", "--period", period)
    report_id = int(printed.strip().splitlines()[-1])
    assert str(hosts["shared"] / "reports") in printed
    path = f"/api/v1/reports/{report_id}/files/manifest.json"
    status, _, on_a = a.request("GET", path, key=key)
    assert status == 200
    status, headers, on_b = b.request("GET", path, key=key)
    assert status == 200 and on_b == on_a
    headers = {name.lower(): value for name, value in headers.items()}
    assert headers["x-content-sha256"] == hashlib.sha256(on_b).hexdigest()
    status, detail = b.json("GET", f"/api/v1/reports/{report_id}", key=key)
    assert status == 200 and detail["files"], detail
    for entry in detail["files"]:
        status, _, content = b.request(
            "GET", f"/api/v1/reports/{report_id}/files/{entry['name']}", key=key
        )
        assert status == 200 and hashlib.sha256(content).hexdigest() == entry["sha256"]
    assert "verified" in b.manage("verify_report", str(report_id)).lower()
    # A host on the default local storage cannot serve it: the files are not on its disk.
    status, missing = c.json("GET", f"/api/v1/reports/{report_id}/files/manifest.json", key=key)
    assert status == 404 and "missing from storage" in missing["error"]["message"]


def test_a_limit_reserved_through_one_host_is_seen_by_the_other(hosts):
    a, b, key = hosts["a"], hosts["b"], hosts["key"]
    status, answer = a.json("PUT", f"/api/v1/instruments/{SYMBOL}", INSTRUMENT, key=key)
    assert status in (200, 201), answer
    now = isoformat_z(datetime.now(UTC))
    ticks = [
        {"instrument": SYMBOL, "price": "230.00", "ts": now, "source": source}
        for source in ("external", "book")
    ]
    assert a.json("POST", "/api/v1/market-data/ticks", {"ticks": ticks}, key=key)[0] == 200
    from core.redis_client import account_key

    hosts["redis"].client().hset(account_key("acc-sg", "risk"), "collateral", 10**12)
    order = {
        "order_id": "two-hosts-1",
        "account_id": "acc-sg",
        "instrument": SYMBOL,
        "side": "buy",
        "quantity": "5",
        "price": "230.00",
        "order_type": "limit",
        "client_ip": "203.198.7.66",
    }
    status, answer = a.json("POST", "/api/v1/pretrade/check", order, key=key)
    assert status == 200 and answer["decision"] == "accept", answer
    status, risk = b.json("GET", "/api/v1/accounts/acc-sg/risk", key=key)
    row = next(r for r in risk["instruments"] if r["instrument"] == SYMBOL)
    assert row["reserved_buy"] == "5"
    status, again = b.json("POST", "/api/v1/pretrade/check", order, key=key)
    assert (again["decision"], again["evaluated_at"]) == ("accept", answer["evaluated_at"])
