"""A Sentinel failover under order flow (issue 16), black-box: a real primary with two
replicas and three Sentinels, a live server of two worker processes in ``REDIS_MODE=sentinel``
with ``REDIS_MIN_REPLICAS=1``, four clients sending orders; the primary is SIGKILLed.

Required: no 5xx; nothing but ``DEGRADED_FAIL_CLOSED`` rejects; accepts again within 20 s;
every acknowledged reservation still reserved after the failover (reserved = accepted
quantity, no fills), and every accepted decision in the database after the drain."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis

from core.clock import isoformat_z
from core.redis_client import account_key
from scripts import redis_topology
from tests.api import live
from tests.api.test_pretrade_live import INSTRUMENT, SYMBOL

pytestmark = [pytest.mark.live_server_process, pytest.mark.once]

ACCOUNT = "acc-hk"
CLIENT_IP = "203.198.7.66"
RESUME_WITHIN_S = 20.0


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    topology = redis_topology.start_sentinels(
        tmp_path_factory.mktemp("sentinels"), replicas=2, sentinels=3
    )
    env = {
        "REDIS_MODE": "sentinel",
        "REDIS_SENTINELS": redis_topology.sentinel_list(topology),
        "REDIS_SENTINEL_MASTER": "gatehouse",
        "REDIS_MIN_REPLICAS": "1",
        "REDIS_HOT_TIMEOUT": "0.25",
        "ORDER_RATE_INTERVAL_MS": "1",
        "ORDER_RATE_BURST": "100000",
    }
    var_dir = tmp_path_factory.mktemp("failover")
    server = live.start(var_dir, "redis:///0", workers=2, extra_env=env)
    try:
        server.manage("load_demo_data")
        server.manage("resync_risk_state")
        key = (
            server.manage("create_api_key", "gateway", "--scopes", "pretrade,marketdata,reference")
            .strip()
            .splitlines()[-1]
        )
        status, answer = server.json("PUT", f"/api/v1/instruments/{SYMBOL}", INSTRUMENT, key=key)
        assert status == 201, answer
        now = isoformat_z(datetime.now(UTC))
        ticks = [
            {"instrument": SYMBOL, "price": "230.00", "ts": now, "source": source}
            for source in ("external", "book")
        ]
        assert server.json("POST", "/api/v1/market-data/ticks", {"ticks": ticks}, key=key)[0] == 200
        primary = redis.Redis(port=topology.ports["primary"])
        primary.hset(account_key(ACCOUNT, "risk"), "collateral", 10**15)
        assert primary.execute_command("WAIT", 2, 5000) == 2
        yield {"server": server, "key": key, "redis": topology, "db": var_dir / "live.sqlite3"}
    finally:
        live.stop(server)
        topology.stop()


def test_a_killed_primary_loses_no_acknowledged_reservation(venue):
    server, key, topology = venue["server"], venue["key"], venue["redis"]
    answers: list[tuple[float, int, str, tuple[str, ...], str]] = []
    lock, stop = threading.Lock(), threading.Event()

    def client(index: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            order_id = f"f-{index}-{n}"
            body = {
                "order_id": order_id,
                "account_id": ACCOUNT,
                "instrument": SYMBOL,
                "side": "buy",
                "quantity": "0.1",
                "price": "230.00",
                "order_type": "limit",
                "client_ip": CLIENT_IP,
            }
            try:
                status, answer = server.json("POST", "/api/v1/pretrade/check", body, key=key)
            except Exception as exc:  # a dropped connection counts as a failure
                status, answer = 599, {"error": repr(exc)}
            codes = tuple(r["code"] for r in answer.get("reasons", []))
            with lock:
                answers.append(
                    (time.monotonic(), status, answer.get("decision", ""), codes, order_id)
                )

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        killed_at = time.monotonic()
        topology.kill("primary")
        deadline = killed_at + RESUME_WITHIN_S + 10
        resumed_at = None
        while time.monotonic() < deadline and resumed_at is None:
            time.sleep(0.2)
            with lock:
                later = [a for a in answers if a[0] > killed_at + 0.5 and a[2] == "accept"]
            if later:
                resumed_at = later[0][0]
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    failures = [a for a in answers if a[1] != 200]
    assert failures == [], failures[:5]
    rejects = [a for a in answers if a[2] != "accept"]
    assert all(a[3] == ("DEGRADED_FAIL_CLOSED",) for a in rejects), {a[3] for a in rejects}
    assert resumed_at is not None, "no accept within 30 s of the kill"
    resume_s = resumed_at - killed_at
    assert resume_s <= RESUME_WITHIN_S
    accepted = [a for a in answers if a[2] == "accept"]
    before = [a for a in accepted if a[0] < killed_at]
    after = [a for a in accepted if a[0] > killed_at]
    assert before and after

    # Every acknowledged reservation is still reserved on the promoted primary.
    status, risk = server.json("GET", f"/api/v1/accounts/{ACCOUNT}/risk", key=key)
    assert status == 200, risk
    row = next(r for r in risk["instruments"] if r["instrument"] == SYMBOL)
    assert Decimal(row["reserved_buy"]) + Decimal(row["position"]) == Decimal("0.1") * len(accepted)

    # ... and every accepted decision reaches the database.
    server.manage("drain_pretrade_decisions", "--claim-idle-ms", "0")
    with sqlite3.connect(venue["db"]) as connection:
        stored = dict(
            connection.execute(
                "SELECT order_id, decision FROM risk_pretradedecision WHERE account_id = ?",
                (ACCOUNT,),
            ).fetchall()
        )
    missing = [a[4] for a in accepted if stored.get(a[4]) != "accept"]
    assert missing == []
    print(
        f"\nfailover: {len(answers)} checks, {len(accepted)} accepted "
        f"({len(before)} before the kill), {len(rejects)} DEGRADED_FAIL_CLOSED rejects, "
        f"resumed {resume_s:.2f} s after the kill, reservations lost: 0"
    )
