"""Black-box: a real server process, called over HTTP."""

import json
import time

import pytest

pytestmark = pytest.mark.live_server_process


def test_health_and_readiness(server):
    assert server.json("GET", "/healthz") == (200, {"status": "ok"})
    status, body = server.json("GET", "/readyz")
    assert status == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok", "geoip": "ok"}


def test_openapi_schema_and_docs_are_served(server):
    status, _, payload = server.request("GET", "/api/v1/schema/?format=json")
    assert status == 200
    schema = json.loads(payload)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/whoami" in schema["paths"]
    assert "ApiKey" in schema["components"]["securitySchemes"]
    status, _, payload = server.request("GET", "/api/v1/docs/")
    assert status == 200 and b"swagger" in payload.lower()
    assert b"cdn" not in payload.lower()


def test_key_created_by_the_command_authenticates(server, operator_key):
    status, body = server.json("GET", "/api/v1/auth/whoami", key=operator_key)
    assert status == 200 and body["name"] == "black-box"


def test_errors_have_the_contract_body_over_http(server, operator_key):
    status, body = server.json("GET", "/api/v1/auth/whoami")
    assert status == 401 and body["error"]["code"] == "NOT_AUTHENTICATED"
    status, body = server.json("GET", "/api/v1/nowhere", key=operator_key)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    status, _, payload = server.request(
        "POST", "/api/v1/auth/whoami", raw=b"{not json", key=operator_key
    )
    assert status in (400, 405) and "error" in json.loads(payload)


def test_revocation_reaches_the_running_server_within_a_second(server):
    key = server.manage("create_api_key", "short-lived", "--scopes", "pretrade")
    key = key.strip().splitlines()[-1]
    assert server.json("GET", "/api/v1/auth/whoami", key=key)[0] == 200
    server.manage("revoke_api_key", "short-lived")
    # The server caches keys for API_KEY_CACHE_SECONDS (1 s): poll, bounded, until refused.
    deadline = time.monotonic() + 5
    status = 200
    while status == 200 and time.monotonic() < deadline:
        status = server.json("GET", "/api/v1/auth/whoami", key=key)[0]
        time.sleep(0.05)
    assert status == 401


def test_access_gate_over_http_with_a_profile_change_and_a_durable_record(server, operator_key):
    """PUT a profile through the API, then ask the access gate: the server's policy
    snapshot must see the change (bumped through Redis), and the decision must reach the
    database through the drain."""
    status, _ = server.json(
        "PUT",
        "/api/v1/accounts/bb-1",
        {
            "residence_country": "SG",
            "entity_type": "individual",
            "investor_category": "retail",
            "status": "active",
        },
        key=operator_key,
    )
    assert status == 201
    body = {
        "account_id": "bb-1",
        "client_ip": "203.198.7.66",
        "product_class": "rwa_token",
        "action": "open",
    }
    status, answer = server.json("POST", "/api/v1/access/check", body, key=operator_key)
    assert status == 200 and answer["effect"] == "allow"

    server.json(
        "PUT",
        "/api/v1/accounts/bb-1",
        {
            "residence_country": "CN",
            "entity_type": "individual",
            "investor_category": "retail",
            "status": "active",
        },
        key=operator_key,
    )
    deadline, effect = time.monotonic() + 5, "allow"
    while effect == "allow" and time.monotonic() < deadline:
        effect = server.json("POST", "/api/v1/access/check", body, key=operator_key)[1]["effect"]
    assert effect == "deny"

    status, answer = server.json(
        "POST", "/api/v1/access/check", {**body, "client_ip": "nope"}, key=operator_key
    )
    assert status == 400 and "client_ip" in answer["error"]["fields"]

    output = server.manage("drain_access_decisions", "--claim-idle-ms", "0")
    assert "stored" in output and "0 left" in output
