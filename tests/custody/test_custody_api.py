"""The custody contract end to end through HTTP (DRF test client, real database)."""

from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock, use_clock
from tests.conftest import auth

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
DEPOSIT = {
    "id": "d-1",
    "account_id": "acc-1",
    "asset": "USDC",
    "amount": "1000.00",
    "custody_wallet": "wallet-a",
}


@pytest.fixture
def key(make_key):
    return make_key("custody")


@pytest.fixture(autouse=True)
def manual_clock():
    with use_clock(ManualClock(T0)) as clock:
        yield clock


def post(api, key, path, body):
    return api.post(f"/api/v1/custody/{path}", body, format="json", **auth(key))


def get(api, key, path):
    return api.get(f"/api/v1/custody/{path}", **auth(key))


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def balances(api, key, account="acc-1") -> dict:
    body = get(api, key, f"accounts/{account}/balances").json()
    return {item["asset"]: item for item in body["balances"]}


def test_deposit_then_balances(api, key):
    response = post(api, key, "deposits", DEPOSIT)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "1000.000000" and body["seq"] == 1 and len(body["hash"]) == 64
    assert "Idempotent-Replayed" not in response
    assert balances(api, key)["USDC"] == {
        "asset": "USDC",
        "total": "1000.000000",
        "reserved": "0.000000",
        "available": "1000.000000",
    }


def test_a_repeated_deposit_returns_the_first_answer_and_books_nothing(api, key):
    first = post(api, key, "deposits", DEPOSIT)
    again = post(api, key, "deposits", {**DEPOSIT, "amount": "1000"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert balances(api, key)["USDC"]["total"] == "1000.000000"


def test_the_same_id_with_another_body_is_a_conflict(api, key):
    post(api, key, "deposits", DEPOSIT)
    response = post(api, key, "deposits", {**DEPOSIT, "amount": "999.00"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "IDEMPOTENCY_CONFLICT"
    assert "id" in error_of(response)["fields"]
    withdrawal = post(api, key, "withdrawals", {**DEPOSIT, "amount": "1.00"})
    assert withdrawal.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "1.0000001"}, "amount"),
        ({"amount": 10}, "amount"),
        ({"amount": "1e3"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "9223372036854.775808"}, "amount"),
        ({"asset": "DOGE"}, "asset"),
        ({"id": "bad#id"}, "id"),
        ({"account_id": "acc:1"}, "account_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, key, change, field):
    response = post(api, key, "deposits", {**DEPOSIT, **change})
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR" and field in error["fields"]


def test_btc_scale_is_eight_places(api, key):
    body = {**DEPOSIT, "id": "d-btc", "asset": "BTC", "amount": "0.123456789"}
    assert post(api, key, "deposits", body).status_code == 400
    body["amount"] = "0.12345678"
    assert post(api, key, "deposits", body).json()["amount"] == "0.12345678"


def test_withdrawal_beyond_what_is_free_of_reservations_is_refused_and_replayed(api, key):
    post(api, key, "deposits", DEPOSIT)
    reserve = {
        "id": "r-1",
        "debit_account": "client_liability:acc-1",
        "credit_account": "clearing:venue",
        "asset": "USDC",
        "amount": "300.00",
        "code": "margin_reservation",
        "flags": ["pending"],
    }
    assert post(api, key, "transfers", reserve).status_code == 201
    assert balances(api, key)["USDC"]["available"] == "700.000000"
    withdrawal = {**DEPOSIT, "id": "w-1", "amount": "700.01"}
    response = post(api, key, "withdrawals", withdrawal)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "INSUFFICIENT_FUNDS" and "amount" in error["fields"]
    assert "700.000000 USDC available" in error["message"]
    void = {"id": "v-1", "pending_id": "r-1", "flags": ["void_pending_transfer"]}
    assert post(api, key, "transfers", void).status_code == 201
    again = post(api, key, "withdrawals", withdrawal)
    assert again.status_code == 422 and again.json() == response.json()
    assert again["Idempotent-Replayed"] == "true"
    assert post(api, key, "withdrawals", {**withdrawal, "id": "w-2"}).status_code == 201
    assert balances(api, key)["USDC"]["total"] == "299.990000"


def test_a_withdrawal_from_an_unknown_client_is_insufficient_funds(api, key):
    post(api, key, "deposits", DEPOSIT)
    response = post(api, key, "withdrawals", {**DEPOSIT, "id": "w-9", "account_id": "acc-9"})
    assert response.status_code == 422 and error_of(response)["code"] == "INSUFFICIENT_FUNDS"


def test_client_money_to_the_house_needs_an_allowed_code(api, key):
    post(api, key, "deposits", DEPOSIT)
    transfer = {
        "id": "t-1",
        "debit_account": "client_liability:acc-1",
        "credit_account": "house_revenue:venue",
        "asset": "USDC",
        "amount": "10.00",
        "code": "adjustment",
    }
    response = post(api, key, "transfers", transfer)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "SEGREGATION_VIOLATION" and "code" in error["fields"]
    assert "across the segregation wall" in error["message"]
    fee = post(api, key, "transfers", {**transfer, "id": "t-2", "code": "fee"})
    assert fee.status_code == 201
    assert fee.json()["debit_account"] == "client_liability:acc-1"


def test_transfer_errors(api, key):
    post(api, key, "deposits", DEPOSIT)
    missing = post(api, key, "transfers", {"id": "t-3", "asset": "USDC"})
    assert missing.status_code == 400
    assert {"debit_account", "credit_account", "amount", "code"} <= set(error_of(missing)["fields"])
    unknown = post(
        api,
        key,
        "transfers",
        {
            "id": "t-4",
            "debit_account": "client_liability:nobody",
            "credit_account": "client_liability:acc-1",
            "asset": "USDC",
            "amount": "1",
            "code": "trade_settlement",
        },
    )
    assert unknown.status_code == 404 and "debit_account" in error_of(unknown)["fields"]
    closed = post(
        api,
        key,
        "transfers",
        {"id": "p-1", "pending_id": "d-1", "flags": ["void_pending_transfer"]},
    )
    assert closed.status_code == 400
    assert "pending_id" in error_of(closed)["fields"]


def test_a_pending_transfer_lapses_after_its_timeout(api, key, manual_clock):
    post(api, key, "deposits", DEPOSIT)
    reserve = {
        "id": "r-2",
        "debit_account": "client_liability:acc-1",
        "credit_account": "clearing:venue",
        "asset": "USDC",
        "amount": "100",
        "code": "margin_reservation",
        "flags": ["pending"],
        "timeout": 30,
    }
    body = post(api, key, "transfers", reserve).json()
    assert body["expires_at"] == "2026-11-24T21:00:30.000Z"
    manual_clock.advance(timedelta(seconds=30))
    assert balances(api, key)["USDC"]["reserved"] == "0.000000"
    late = post(
        api,
        key,
        "transfers",
        {"id": "p-2", "pending_id": "r-2", "flags": ["post_pending_transfer"]},
    )
    assert late.status_code == 422 and error_of(late)["code"] == "PENDING_TRANSFER_CLOSED"


def test_a_batch_applies_linked_chains_all_or_nothing(api, key):
    post(api, key, "deposits", DEPOSIT)
    leg = {
        "debit_account": "client_liability:acc-1",
        "credit_account": "client_liability:acc-2",
        "asset": "USDC",
        "code": "trade_settlement",
    }
    post(api, key, "deposits", {**DEPOSIT, "id": "d-2", "account_id": "acc-2"})
    response = post(
        api,
        key,
        "transfer-batches",
        {
            "transfers": [
                {**leg, "id": "b-1", "amount": "10", "flags": ["linked"]},
                {**leg, "id": "b-2", "amount": "5000"},
                {**leg, "id": "b-3", "amount": "1"},
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["linked_event_failed", "exceeds_credits", "ok"]
    assert results[1]["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert results[2]["transfer"]["amount"] == "1.000000"
    assert balances(api, key, "acc-2")["USDC"]["total"] == "1001.000000"


def test_segregation_statement_now_and_as_of(api, key, manual_clock):
    post(api, key, "deposits", DEPOSIT)
    manual_clock.advance(timedelta(minutes=1))
    fee = {
        "id": "fee-1",
        "debit_account": "client_liability:acc-1",
        "credit_account": "house_revenue:venue",
        "asset": "USDC",
        "amount": "10",
        "code": "fee",
    }
    post(api, key, "transfers", fee)
    now = get(api, key, "segregation?asset=USDC").json()
    assert now["client_liabilities"] == "990.000000"
    assert now["segregated_assets"] == "1000.000000"
    assert (now["excess"], now["shortfall"], now["status"]) == ("10.000000", "0.000000", "excess")
    assert now["sweepable"] == "10.000000"
    before = get(api, key, "segregation?asset=USDC&as_of=2026-11-24T21:00:30Z").json()
    assert before["client_liabilities"] == "1000.000000" and before["status"] == "balanced"
    assert before["sweepable"] is None
    assert get(api, key, "segregation").status_code == 400
    future = get(api, key, "segregation?asset=USDC&as_of=2030-01-01T00:00:00Z")
    assert future.status_code == 400 and "as_of" in error_of(future)["fields"]


def test_statement_reconciliation_over_http(api, key, manual_clock):
    post(api, key, "deposits", DEPOSIT)
    manual_clock.advance(timedelta(minutes=5))
    statement = {
        "custodian": "acme-custody",
        "as_of": "2026-11-24T21:01:00Z",
        "balances": [
            {"wallet": "wallet-a", "asset": "USDC", "amount": "999.50"},
            {"wallet": "wallet-x", "asset": "USDC", "amount": "0"},
        ],
    }
    response = post(api, key, "statements", statement)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["breaks"] == 1
    line = next(item for item in body["lines"] if item["wallet"] == "wallet-a")
    assert (line["ledger_amount"], line["difference"], line["status"]) == (
        "1000.000000",
        "-0.500000",
        "break",
    )
    again = post(api, key, "statements", statement)
    assert again.status_code == 201 and again.json() == body
    changed = {**statement, "balances": statement["balances"][:1]}
    assert post(api, key, "statements", changed).status_code == 409
    open_breaks = get(api, key, "reconciliation-breaks").json()
    assert [b["amount"] for b in open_breaks] == ["-0.500000"]
    resolved = post(
        api,
        key,
        f"reconciliation-breaks/{open_breaks[0]['id']}/resolve",
        {"resolution": "custodian fee booked late"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert get(api, key, "reconciliation-breaks").json() == []


def test_authentication_and_scope(api, make_key):
    assert api.get("/api/v1/custody/accounts/acc-1/balances").status_code == 401
    response = api.post("/api/v1/custody/deposits", DEPOSIT, format="json")
    assert response.status_code == 401 and error_of(response)["code"] == "NOT_AUTHENTICATED"
    other = make_key("pretrade")
    response = api.post("/api/v1/custody/deposits", DEPOSIT, format="json", **auth(other))
    assert response.status_code == 403 and error_of(response)["code"] == "PERMISSION_DENIED"


def test_proof_of_reserves_endpoint(api, key):
    from custody import publication

    post(api, key, "deposits", DEPOSIT)
    assert get(api, key, "proof-of-reserves/acc-1?asset=USDC").status_code == 404
    publication.publish(asset="USDC", actor="test")
    response = get(api, key, "proof-of-reserves/acc-1?asset=USDC")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["balance"], body["total"]) == ("1000.000000", "1000.000000")
    assert body["proof"]["leaf"]["balance"] == "1000000000"
    assert get(api, key, "proof-of-reserves/acc-2?asset=USDC").status_code == 404
    assert get(api, key, "proof-of-reserves/acc-1").status_code == 400
