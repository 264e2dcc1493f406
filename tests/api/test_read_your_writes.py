"""Read-your-writes over a live server with two worker processes (API.md, Conventions;
issue 12). For each kind of write, 200 write→check pairs, each check sent the moment the
write answered 2xx: not one check may decide with the state before the write. Half the
pairs of each kind tighten (the write forbids what was allowed) and half loosen; the
tightening ones are the gate failing open if stale.

Measured before the fix on a fresh ``make run``: 87 of 100 checks after a profile write did
not see it, 87 of 100 accounts moved from SG to IR residence were still allowed, 16 of 20
orders on a just-created instrument answered UNKNOWN_INSTRUMENT.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from core.clock import isoformat_z
from tests.api import live

pytestmark = pytest.mark.live_server_process

PAIRS = 200
HK_IP, CN_IP = "203.198.7.66", "114.114.114.114"
SYMBOL = "RYW-PERP"
INSTRUMENT = {
    "product_class": "crypto_perp",
    "underlying": "RYW",
    "calendar": "24x7",
    "tier": 1,
    "tick_size": "0.01",
    "lot_size": "0.01",
    "max_leverage": "10",
    "max_order_quantity": "100",
    "max_order_notional": "1000000",
    "max_position_notional": "5000000",
    "open_interest_cap": "1000000",
    "is_market_index": False,
}
PROFILE = {
    "residence_country": "HK",
    "nationalities": ["HK"],
    "entity_type": "individual",
    "controlling_countries": [],
    "investor_category": "professional",
    "status": "active",
}


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    server = live.start(
        tmp_path_factory.mktemp("ryw"), live.own_redis(settings.REDIS_URL, 11), workers=2
    )
    key = server.manage(
        "create_api_key", "ryw", "--scopes", "pretrade,marketdata,reference,operator"
    )
    key = key.strip().splitlines()[-1]
    server.manage("resync_risk_state")
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.api.policy_writer"],
        cwd=Path(__file__).resolve().parents[2],
        env={**server.env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield server, key, writer
    writer.stdin.close()
    writer.wait(timeout=30)
    live.stop(server)


def put_ok(server, path, body, key):
    status, answer = server.json("PUT", path, body, key=key)
    assert status in (200, 201), answer
    return answer


def post_ok(server, path, body, key):
    status, answer = server.json("POST", path, body, key=key)
    assert status in (200, 201, 202), answer
    return answer


def access(server, key, **body):
    body = {"client_ip": HK_IP, "product_class": "rwa_token", "action": "open", **body}
    return post_ok(server, "/api/v1/access/check", body, key)


def order(server, key, order_id, account="ryw-trader", **extra):
    body = {
        "order_id": order_id,
        "account_id": account,
        "instrument": SYMBOL,
        "side": "buy",
        "quantity": "1",
        "price": "100.00",
        "order_type": "limit",
        "client_ip": HK_IP,
        **extra,
    }
    return post_ok(server, "/api/v1/pretrade/check", body, key)


def codes(answer) -> set[str]:
    return {reason["code"] for reason in answer["reasons"]}


def ticks(server, key, symbol=SYMBOL, price="100.00"):
    now = isoformat_z(datetime.now(UTC))
    post_ok(
        server,
        "/api/v1/market-data/ticks",
        {
            "ticks": [
                {"instrument": symbol, "price": price, "ts": now, "source": source}
                for source in ("external", "book")
            ]
        },
        key,
    )


@pytest.fixture(scope="module")
def market(venue):
    server, key, _ = venue
    put_ok(server, f"/api/v1/instruments/{SYMBOL}", INSTRUMENT, key)
    ticks(server, key)
    put_ok(server, "/api/v1/accounts/ryw-trader", PROFILE, key)
    return venue


def test_a_new_profile_is_seen_by_the_very_next_check(market):
    server, key, _ = market
    stale = 0
    for n in range(PAIRS):
        put_ok(server, f"/api/v1/accounts/ryw-cn-{n}", {**PROFILE, "residence_country": "CN"}, key)
        answer = access(server, key, account_id=f"ryw-cn-{n}")
        stale += (
            answer["effect"] != "deny" or answer["reasons"][0]["detail"]["signal"] != "residence"
        )
    assert stale == 0


def test_a_residence_change_is_in_force_at_once_both_ways(market):
    server, key, _ = market
    stale = []
    for n in range(PAIRS):
        country, expected = ("IR", "deny") if n % 2 == 0 else ("HK", "allow")
        put_ok(server, "/api/v1/accounts/ryw-mover", {**PROFILE, "residence_country": country}, key)
        answer = access(server, key, account_id="ryw-mover")
        if answer["effect"] != expected:
            stale.append((n, country, answer["effect"]))
    assert stale == []


def test_a_suspension_stops_the_very_next_order(market):
    server, key, _ = market
    stale = []
    for n in range(PAIRS):
        status = "suspended" if n % 2 == 0 else "active"
        put_ok(server, "/api/v1/accounts/ryw-trader", {**PROFILE, "status": status}, key)
        suspended = "ACCOUNT_SUSPENDED" in codes(order(server, key, f"sus-{n}"))
        if suspended != (status == "suspended"):
            stale.append((n, status))
    put_ok(server, "/api/v1/accounts/ryw-trader", PROFILE, key)
    assert stale == []


def test_an_instrument_created_a_moment_ago_is_known(market):
    server, key, _ = market
    unknown = 0
    for n in range(PAIRS):
        symbol = f"NEW{n}-PERP"
        put_ok(server, f"/api/v1/instruments/{symbol}", {**INSTRUMENT, "underlying": f"N{n}"}, key)
        answer = order(server, key, f"new-{n}", instrument=symbol)
        unknown += "UNKNOWN_INSTRUMENT" in codes(answer)
    assert unknown == 0


def test_an_instrument_limit_change_is_in_force_at_once(market):
    server, key, _ = market
    stale = []
    for n in range(PAIRS):
        cap = "10" if n % 2 == 0 else "100"
        put_ok(
            server, f"/api/v1/instruments/{SYMBOL}", {**INSTRUMENT, "max_order_quantity": cap}, key
        )
        limited = "ORDER_QUANTITY_LIMIT" in codes(order(server, key, f"lim-{n}", quantity="50"))
        if limited != (cap == "10"):
            stale.append((n, cap))
    put_ok(server, f"/api/v1/instruments/{SYMBOL}", INSTRUMENT, key)
    assert stale == []


def test_a_rule_activation_is_in_force_at_once(market):
    server, key, writer = market
    stale = []
    for n in range(PAIRS):
        activate = n % 2 == 0
        writer.stdin.write("rule-on ryw-hk HK\n" if activate else "rule-off ryw-hk\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "ok"
        effect = access(server, key)["effect"]  # an anonymous visitor from Hong Kong
        if effect != ("deny" if activate else "allow"):
            stale.append((n, activate, effect))
    assert stale == []


def test_a_session_parameter_change_is_in_force_at_once(market):
    server, key, _ = market
    _, current = server.json("GET", "/api/v1/market-sessions", key=key)
    continuous = next(row for row in current if row["session"] == "continuous")
    values = {name: continuous[name] for name in (
        "band_multiplier", "leverage_cap_fraction", "position_limit_fraction",
        "reference_time_constant_seconds", "oracle_max_age_seconds",
    )}  # fmt: skip
    stale = []
    for n in range(PAIRS):
        fraction = "0.5" if n % 2 == 0 else "1"
        put_ok(
            server,
            "/api/v1/market-sessions/continuous",
            {**values, "leverage_cap_fraction": fraction},
            key,
        )
        limited = "LEVERAGE_LIMIT" in codes(order(server, key, f"lev-{n}", leverage="8"))
        if limited != (fraction == "0.5"):
            stale.append((n, fraction))
    put_ok(server, "/api/v1/market-sessions/continuous", values, key)
    assert stale == []


def test_a_halt_and_a_resume_are_in_force_at_once(market):
    server, key, _ = market
    stale = []
    for n in range(PAIRS):
        halt = n % 2 == 0
        path = f"/api/v1/markets/{SYMBOL}/{'halt' if halt else 'resume'}"
        post_ok(server, path, {"reason": "black-box test"}, key)
        halted = "MARKET_HALTED" in codes(order(server, key, f"halt-{n}"))
        if halted != halt:
            stale.append((n, halt))
    assert stale == []


def test_a_kill_switch_is_in_force_at_once(market):
    server, key, _ = market
    stale = []
    for n in range(PAIRS):
        engaged = n % 2 == 0
        body = {"scope": "account", "target": "ryw-trader", "engaged": engaged}
        post_ok(server, "/api/v1/kill-switch", body, key)
        killed = "KILL_SWITCH" in codes(order(server, key, f"kill-{n}"))
        if killed != engaged:
            stale.append((n, engaged))
    assert stale == []
