"""Issue 14's cases, black-box: a real server with two worker processes, the shipped GeoLite2
and the migrated rulebook, over HTTP only. Each profile write is followed at once by the
check that must see it (read-your-writes across workers: no polling).

Addresses as the shipped GeoLite2 places them: ``1.32.192.1`` HK, ``1.32.128.1`` SG,
``114.114.114.114`` CN, ``8.8.8.8`` US, ``5.62.56.193`` PR, ``5.1.4.1`` UA (no subdivision).
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.api import live

pytestmark = pytest.mark.live_server_process

IP_HK, IP_SG, IP_CN, IP_US = "1.32.192.1", "1.32.128.1", "114.114.114.114", "8.8.8.8"
IP_PR, IP_UA = "5.62.56.193", "5.1.4.1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = live.start(
        tmp_path_factory.mktemp("scope"), live.own_redis(settings.REDIS_URL), workers=2
    )
    yield instance
    live.stop(instance)


@pytest.fixture(scope="module")
def key(server):
    output = server.manage("create_api_key", "scope", "--scopes", "pretrade,reference,custody")
    return output.strip().splitlines()[-1]


def put_profile(server, key, account_id, residence, **extra):
    body = {
        "residence_country": residence,
        "entity_type": "individual",
        "investor_category": "retail",
        "status": "active",
        **extra,
    }
    status, answer = server.json("PUT", f"/api/v1/accounts/{account_id}", body, key=key)
    assert status in (200, 201), answer
    return account_id


def check(server, key, ip, product="crypto_perp", action="open", account=None):
    body = {"client_ip": ip, "product_class": product, "action": action}
    if account:
        body["account_id"] = account
    status, answer = server.json("POST", "/api/v1/access/check", body, key=key)
    assert status == 200, answer
    return answer


def deciding(answer):
    first = answer["reasons"][0]["detail"] if answer["reasons"] else {}
    return answer["effect"], first.get("signal"), first.get("rule"), first.get("jurisdiction")


def test_an_hk_resident_with_cn_nationality_on_an_hk_ip_is_not_denied(server, key):
    account = put_profile(server, key, "hk-cn", "HK", nationalities=["CN"])
    for _ in range(4):  # either worker
        answer = check(server, key, IP_HK, account=account)
        assert answer["effect"] != "deny"
        assert deciding(answer) == ("review", "nationality", "prc-vc-2026", "CN")


def test_a_mainland_national_resident_in_singapore_is_reviewed(server, key):
    account = put_profile(server, key, "sg-cn", "SG", nationalities=["CN"])
    assert deciding(check(server, key, IP_SG, "rwa_token", account=account))[:3] == (
        "review",
        "nationality",
        "prc-rwa-2026",
    )


@pytest.mark.parametrize("ip", [IP_HK, IP_SG, IP_CN, IP_US, IP_UA])
def test_a_cn_resident_is_denied_from_any_ip(server, key, ip):
    account = put_profile(server, key, "cn-res", "CN")
    answer = check(server, key, ip, account=account)
    assert answer["effect"] == "deny"
    assert any(
        r["detail"]["signal"] == "residence" and r["detail"]["rule"] == "prc-vc-2026"
        for r in answer["reasons"]
    )


def test_a_puerto_rico_ip_is_the_us(server, key):
    assert deciding(check(server, key, IP_PR)) == ("deny", "ip_geolocation", "us-perps", "PR")


@pytest.mark.parametrize("territory", ["PR", "GU", "VI", "AS", "MP"])
def test_a_residence_in_a_us_territory_is_the_us(server, key, territory):
    account = put_profile(server, key, f"res-{territory.lower()}", territory)
    assert deciding(check(server, key, IP_SG, account=account)) == (
        "deny",
        "residence",
        "us-perps",
        territory,
    )


def test_a_us_citizen_resident_abroad_is_allowed(server, key):
    account = put_profile(server, key, "us-sg", "SG", nationalities=["US"])
    assert check(server, key, IP_SG, account=account)["effect"] == "allow"


@pytest.mark.parametrize(
    ("subdivision", "effect"),
    [("", "review"), ("UA-43", "deny"), ("UA-30", "allow")],
    ids=["no-subdivision-review", "crimea-denied", "kyiv-allowed"],
)
def test_a_ukrainian_residence_by_subdivision(server, key, subdivision, effect):
    account = put_profile(
        server, key, f"ua-{subdivision or 'none'}", "UA", residence_subdivision=subdivision
    )
    answer = check(server, key, IP_SG, "crypto_spot", account=account)
    assert answer["effect"] == effect
    if not subdivision:
        assert answer["reasons"][0]["detail"]["subdivision"] == "unknown"


def test_a_profile_edit_reaches_the_next_check_on_any_worker(server, key):
    account = put_profile(server, key, "moves", "SG")
    assert check(server, key, IP_SG, account=account)["effect"] == "allow"
    put_profile(server, key, "moves", "UA", residence_subdivision="UA-43")
    for _ in range(4):
        assert check(server, key, IP_SG, "crypto_spot", account=account)["effect"] == "deny"


def _fund(server, key, account, deposit_id):
    body = {
        "id": deposit_id,
        "account_id": account,
        "asset": "USDC",
        "amount": "1000.00",
        "custody_wallet": "wallet-a",
    }
    status, answer = server.json("POST", "/api/v1/custody/deposits", body, key=key)
    assert status == 201, answer
    return answer


def _withdraw(server, key, account, withdrawal_id):
    body = {
        "id": withdrawal_id,
        "account_id": account,
        "asset": "USDC",
        "amount": "400.00",
        "custody_wallet": "wallet-a",
        "client_ip": IP_SG,
    }
    return server.json("POST", "/api/v1/custody/withdrawals", body, key=key)


def test_an_iranian_residents_withdrawal_is_held_and_a_cn_residents_completes(server, key):
    ir = put_profile(server, key, "ir-res", "IR")
    cn = put_profile(server, key, "cn-wd", "CN")
    _fund(server, key, ir, "d-ir")
    _fund(server, key, cn, "d-cn")

    status, held = _withdraw(server, key, ir, "w-ir")
    assert status == 202 and held["status"] == "held", held
    assert held["reasons"][0]["detail"]["rule"] == "ofac-withdraw"
    status, shown = server.json("GET", "/api/v1/custody/withdrawals/w-ir", key=key)
    assert status == 200 and shown["status"] == "held" and shown["decided_by"] is None
    status, balances = server.json("GET", f"/api/v1/custody/accounts/{ir}/balances", key=key)
    usdc = {b["asset"]: b for b in balances["balances"]}["USDC"]
    assert (usdc["reserved"], usdc["available"]) == ("400.000000", "600.000000")

    status, done = _withdraw(server, key, cn, "w-cn")
    assert status == 201, done
    status, shown = server.json("GET", "/api/v1/custody/withdrawals/w-cn", key=key)
    assert status == 200 and shown["status"] == "completed"
