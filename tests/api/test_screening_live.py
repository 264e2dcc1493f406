"""Issue 15, black-box: a real server with two worker processes, the shipped OFAC lists
loaded by the project's own command, over HTTP only. Each write is followed at once by the
check that must see it, on either worker (read-your-writes: no polling); a newer list
version is screened with by every worker from the next request on."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest
from django.conf import settings

from compliance import sanctions
from tests.api import live

pytestmark = pytest.mark.live_server_process

IP_SG = "1.32.128.1"
LISTED_ETH_2024 = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = live.start(
        tmp_path_factory.mktemp("screening"), live.own_redis(settings.REDIS_URL), workers=2
    )
    output = instance.manage("load_sanctions_list", "--shipped", "--no-rescreen")
    assert "loaded ofac_sdn@2021-07-07" in output
    yield instance
    live.stop(instance)


@pytest.fixture(scope="module")
def key(server):
    output = server.manage("create_api_key", "screen", "--scopes", "pretrade,reference,custody")
    return output.strip().splitlines()[-1]


def put_profile(server, key, account_id, **extra):
    body = {
        "residence_country": "DE",
        "entity_type": "individual",
        "investor_category": "retail",
        "status": "active",
        **extra,
    }
    status, answer = server.json("PUT", f"/api/v1/accounts/{account_id}", body, key=key)
    assert status in (200, 201), answer
    return answer


def access(server, key, account_id, action="open"):
    body = {
        "account_id": account_id,
        "client_ip": IP_SG,
        "product_class": "crypto_perp",
        "action": action,
    }
    status, answer = server.json("POST", "/api/v1/access/check", body, key=key)
    assert status == 200, answer
    return answer


def test_a_listed_name_is_stopped_on_the_next_check_on_every_worker(server, key):
    put_profile(server, key, "live-w", full_name="Ingrid Johansson")
    assert access(server, key, "live-w")["effect"] == "allow"
    answer = put_profile(server, key, "live-w", full_name="Gerhard WISSER")
    assert answer["sanctions_status"] == "review"
    for _ in range(4):  # either worker, at once
        decided = access(server, key, "live-w")
        assert decided["effect"] == "review"
        assert decided["reasons"][0]["code"] == "SANCTIONS_REVIEW"


def test_a_listed_wallet_address_refuses_the_withdrawal(server, key):
    put_profile(server, key, "live-c")
    deposit = {
        "id": "live-d1",
        "account_id": "live-c",
        "asset": "USDC",
        "amount": "50.00",
        "custody_wallet": "wallet-a",
    }
    status, _ = server.json("POST", "/api/v1/custody/deposits", deposit, key=key)
    assert status == 201
    withdrawal = {**deposit, "id": "live-w1", "amount": "5.00", "address": LISTED_ETH_2024}
    status, answer = server.json("POST", "/api/v1/custody/withdrawals", withdrawal, key=key)
    assert status == 422 and answer["error"]["code"] == "SANCTIONS_MATCH", answer
    status, balances = server.json("GET", "/api/v1/custody/accounts/live-c/balances", key=key)
    assert status == 200
    usdc = [Decimal(b["total"]) for b in balances["balances"] if b["asset"] == "USDC"]
    assert usdc == [Decimal("50")]  # nothing moved


def test_a_delisted_address_stops_matching_in_the_next_version(server, key, tmp_path):
    body = {"addresses": [{"asset": "ETH", "address": LISTED_ETH_2024.lower()}]}
    for _ in range(2):
        status, answer = server.json("POST", "/api/v1/screening/check", body, key=key)
        assert status == 200 and answer["result"] == "match"
    sdn, addresses = tmp_path / "sdn", tmp_path / "addresses"
    shutil.copytree(sanctions.SHIPPED_SDN_DIR, sdn)
    shutil.copytree(sanctions.SHIPPED_ADDRESSES_DIR, addresses)
    eth = addresses / "sanctioned_addresses_ETH.json"
    eth.write_text(json.dumps([a for a in json.loads(eth.read_text()) if a != LISTED_ETH_2024]))
    output = server.manage(
        "load_sanctions_list",
        "--csv-dir",
        str(sdn),
        "--addresses-dir",
        str(addresses),
        "--published",
        "2025-03-21",
        "--no-rescreen",
    )
    assert "address_removed 1" in output
    for _ in range(4):  # every worker screens with the new version from now on
        status, answer = server.json("POST", "/api/v1/screening/check", body, key=key)
        assert status == 200 and answer["result"] == "clear", answer
        assert answer["list_version"].startswith("ofac_sdn@2025-03-21")
    status, lists = server.json("GET", "/api/v1/screening/lists", key=key)
    assert [v["version"] for v in lists["lists"]] == [2, 1]
