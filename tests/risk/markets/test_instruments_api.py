"""PUT/GET /api/v1/instruments/{symbol}: every contract field validated, versioned history,
audited, one market index, and the live state in the answer."""

import pytest

from core.models import AuditEntry
from risk.models import Instrument, InstrumentVersion
from tests.conftest import auth

pytestmark = pytest.mark.django_db

GOOD = {
    "product_class": "equity_perp",
    "underlying": "AAPL",
    "calendar": "XNYS",
    "tier": 1,
    "tick_size": "0.01",
    "lot_size": "0.01",
    "max_leverage": "20",
    "max_order_quantity": "10000",
    "max_order_notional": "2000000",
    "max_position_notional": "5000000",
    "open_interest_cap": "500000",
    "is_market_index": False,
}
STATE_KEYS = {"symbol", "state", "session", "reference_price", "band", "until", "reason"}


@pytest.fixture
def ref_key(make_key):
    return make_key("reference")


def put(api, key, symbol, body):
    return api.put(f"/api/v1/instruments/{symbol}", body, format="json", **auth(key))


def test_create_then_replace_with_history_and_audit(api, ref_key, redis_conn):
    created = put(api, ref_key, "AAPL-PERP", GOOD)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["version"] == 1 and body["tick_size"] == "0.01" and body["tier"] == 1
    assert set(body["state"]) == STATE_KEYS and body["state"]["symbol"] == "AAPL-PERP"
    replaced = put(api, ref_key, "AAPL-PERP", {**GOOD, "max_leverage": "10"})
    assert replaced.status_code == 200 and replaced.json()["version"] == 2
    assert put(api, ref_key, "AAPL-PERP", {**GOOD, "max_leverage": "10.0"}).json()["version"] == 2
    history = InstrumentVersion.objects.filter(symbol="AAPL-PERP").order_by("version")
    assert [h.fields["max_leverage"] for h in history] == ["20", "10"]
    actions = AuditEntry.objects.filter(object_id="AAPL-PERP").values_list("action", flat=True)
    assert list(actions) == ["instrument.create", "instrument.update"]


def test_get_includes_the_live_state(api, ref_key, redis_conn):
    put(api, ref_key, "BTC-PERP", {**GOOD, "calendar": "24x7", "product_class": "crypto_perp"})
    body = api.get("/api/v1/instruments/BTC-PERP", **auth(ref_key)).json()
    assert body["state"]["session"] == "continuous"
    assert body["state"]["reference_price"] is None and body["state"]["band"] is None
    assert api.get("/api/v1/instruments/NOPE", **auth(ref_key)).status_code == 404


INVALID_ROWS = [
    ("product class outside the enum", {"product_class": "future"}, "product_class"),
    ("calendar outside XNYS/24x7", {"calendar": "XLON"}, "calendar"),
    ("tier 3", {"tier": 3}, "tier"),
    ("tier as a boolean", {"tier": True}, "tier"),
    ("tier as a string", {"tier": "1"}, "tier"),
    ("tick size as a JSON number", {"tick_size": 0.01}, "tick_size"),
    ("tick size zero", {"tick_size": "0"}, "tick_size"),
    ("lot size negative", {"lot_size": "-1"}, "lot_size"),
    ("leverage not a number", {"max_leverage": "lots"}, "max_leverage"),
    ("leverage below 1", {"max_leverage": "0.5"}, "max_leverage"),
    ("leverage NaN", {"max_leverage": "NaN"}, "max_leverage"),
    (
        "order quantity not a whole number of lots",
        {"max_order_quantity": "10.005"},
        "max_order_quantity",
    ),
    (
        "open interest cap not a whole number of lots",
        {"open_interest_cap": "0.001"},
        "open_interest_cap",
    ),
    ("eleven decimal places", {"tick_size": "0.00000000001"}, "tick_size"),
    ("order notional zero", {"max_order_notional": "0"}, "max_order_notional"),
    ("position cap negative", {"max_position_notional": "-1"}, "max_position_notional"),
    ("open interest cap zero", {"open_interest_cap": "0"}, "open_interest_cap"),
    ("lot size zero", {"lot_size": "0"}, "lot_size"),
    ("market index on 24x7", {"is_market_index": True, "calendar": "24x7"}, "is_market_index"),
    ("market index as a string", {"is_market_index": "true"}, "is_market_index"),
    ("underlying missing", {"underlying": None}, "underlying"),
    ("unknown field", {"maxLeverage": "20"}, "maxLeverage"),
]


@pytest.mark.parametrize(
    ("change", "field"),
    [row[1:] for row in INVALID_ROWS],
    ids=[row[0] for row in INVALID_ROWS],
)
def test_invalid_fields_are_400_with_field_errors(api, ref_key, redis_conn, change, field):
    body = {**GOOD, **change}
    body = {name: value for name, value in body.items() if value is not None}
    response = put(api, ref_key, "AAPL-PERP", body)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["fields"]
    assert not Instrument.objects.filter(symbol="AAPL-PERP").exists()


def test_an_order_cap_above_the_position_cap_is_accepted(api, ref_key, redis_conn):
    """An order may close a position and open the opposite one: up to twice the position
    cap can be meant (issue 12: this was refused)."""
    response = put(api, ref_key, "AAPL-PERP", {**GOOD, "max_order_notional": "10000000"})
    assert response.status_code == 201, response.json()
    assert response.json()["max_order_notional"] == "10000000"


def test_at_most_one_market_index(api, ref_key, redis_conn):
    assert put(api, ref_key, "SPY-PERP", {**GOOD, "is_market_index": True}).status_code == 201
    second = put(api, ref_key, "QQQ-PERP", {**GOOD, "is_market_index": True})
    assert second.status_code == 400
    assert "SPY-PERP" in second.json()["error"]["fields"]["is_market_index"][0]
    assert put(api, ref_key, "SPY-PERP", {**GOOD, "is_market_index": True}).status_code == 200


def test_symbol_must_be_safe_for_a_redis_hash_tag(api, ref_key, redis_conn):
    response = put(api, ref_key, "AA{PL", GOOD)
    assert response.status_code == 400 and "symbol" in response.json()["error"]["fields"]


def test_scope_reference_is_required(api, make_key, redis_conn):
    assert put(api, make_key("marketdata"), "AAPL-PERP", GOOD).status_code == 403
    assert api.put("/api/v1/instruments/AAPL-PERP", GOOD, format="json").status_code == 401
