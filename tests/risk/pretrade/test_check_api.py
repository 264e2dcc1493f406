"""POST /api/v1/pretrade/check and /check-batch through the real stack: snapshots, shipped
GeoLite2, the market hash and the atomic Lua steps in real Redis. One row per reason."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from compliance import services as compliance_services
from core.clock import ManualClock, use_clock
from risk import demo
from risk.markets import kill_switches
from risk.markets.snapshot import holder as pretrade_holder
from risk.models import PretradeDecision
from risk.positions import collateral, resync
from risk.pretrade import decisions
from tests.conftest import auth

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York: regular session
SG_IP, CN_IP, US_IP = "203.198.7.66", "114.114.114.114", "8.8.8.8"  # HK, CN, US


@pytest.fixture
def venue(demo_instruments, redis_conn, django_capture_on_commit_callbacks):
    clock = ManualClock(NOW)
    facts = {
        "residence_subdivision": "",
        "nationalities": [],
        "entity_type": "individual",
        "controlling_countries": [],
        "investor_category": "retail",
        "status": "active",
    }
    with use_clock(clock), django_capture_on_commit_callbacks(execute=True):
        for account_id, country, status in [
            ("acc-sg", "SG", "active"),
            ("acc-cn", "CN", "active"),
            ("acc-us", "US", "active"),
            ("acc-off", "SG", "suspended"),
        ]:
            compliance_services.put_account_profile(
                account_id=account_id,
                facts={**facts, "residence_country": country, "status": status},
                actor="test",
            )
            collateral.set_collateral(account_id, Decimal("1000000"))
        demo.seed_market_prices(NOW)
        resync.mark_synced()
        pretrade_holder.reset()
        yield clock
    pretrade_holder.reset()


@pytest.fixture
def key(make_key):
    return make_key("pretrade")


def order(**changes):
    body = {
        "order_id": "o-1",
        "account_id": "acc-sg",
        "instrument": "AAPL-PERP",
        "side": "buy",
        "quantity": "10",
        "price": "230.00",
        "order_type": "limit",
        "reduce_only": False,
        "client_ip": SG_IP,
    }
    body.update(changes)
    return body


def check(api, key, body):
    return api.post("/api/v1/pretrade/check", body, format="json", **auth(key))


def codes(answer):
    return [reason["code"] for reason in answer["reasons"]]


def test_a_clean_order_is_accepted_and_reserves(api, key, venue):
    response = check(api, key, order())
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["decision"] == "accept" and answer["reasons"] == []
    assert answer["reservation"] == {"quantity": "10", "margin": "115"}  # 2300 / 20
    assert answer["evaluated_at"] == "2026-11-24T15:00:00.000Z"
    assert answer["policy_version"] and isinstance(answer["latency_us"], int)
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    assert risk["instruments"][0]["reserved_buy"] == "10"
    assert risk["total"]["margin_reserved"] == "115"


ROWS = [
    ("unknown-account", dict(account_id="nobody"), "UNKNOWN_ACCOUNT"),
    ("suspended-account", dict(account_id="acc-off"), "ACCOUNT_SUSPENDED"),
    ("unknown-instrument", dict(instrument="GME-PERP"), "UNKNOWN_INSTRUMENT"),
    (
        "cn-resident-perps-blocked",
        dict(account_id="acc-cn", client_ip=CN_IP),
        "JURISDICTION_CLOSE_ONLY",
    ),
    ("us-person-perps-blocked", dict(account_id="acc-us", client_ip=US_IP), "JURISDICTION_BLOCKED"),
    ("no-ip-reviewed", dict(client_ip=None), "JURISDICTION_REVIEW"),
    ("price-above-band", dict(price="245.00"), "PRICE_OUTSIDE_BAND"),
    ("tick-size", dict(price="230.005"), "TICK_SIZE"),
    ("lot-size", dict(quantity="10.001"), "LOT_SIZE"),
    ("quantity-cap", dict(quantity="10001"), "ORDER_QUANTITY_LIMIT"),
    ("notional-cap", dict(quantity="9000"), "ORDER_NOTIONAL_LIMIT"),
    ("leverage-cap", dict(leverage="25"), "LEVERAGE_LIMIT"),
    ("insufficient-margin", dict(quantity="8000", leverage="1"), "INSUFFICIENT_MARGIN"),
    ("reduce-only-from-flat", dict(reduce_only=True), "REDUCE_ONLY_VIOLATION"),
]


@pytest.mark.parametrize(("changes", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_reason_through_the_api(api, key, venue, changes, code):
    answer = check(api, key, order(**changes)).json()
    assert answer["decision"] == "reject" and code in codes(answer), answer
    assert answer["reservation"] is None


def test_market_states_halt_and_kill_switches(api, key, venue):
    kill_switches.engage(scope="account", target="acc-sg", actor="test", reason="test")
    answer = check(api, key, order(order_id="k1")).json()
    assert "KILL_SWITCH" in codes(answer)
    kill_switches.release(scope="account", target="acc-sg", actor="test", reason="test")
    kill_switches.engage(scope="global", target="", actor="test", reason="test")
    pretrade_holder.reset()
    assert "KILL_SWITCH" in codes(check(api, key, order(order_id="k2")).json())


def test_a_market_order_is_priced_at_the_band_edge(api, key, venue):
    answer = check(api, key, order(order_type="market", price=None)).json()
    assert answer["decision"] == "accept"
    assert answer["reservation"]["margin"] == "120.75"  # 10 × 241.50 / 20


def test_the_same_order_again_returns_the_first_decision(api, key, venue):
    first = check(api, key, order()).json()
    venue.advance(__import__("datetime").timedelta(seconds=5))
    again = check(api, key, order()).json()
    assert {k: v for k, v in again.items() if k != "latency_us"} == {
        k: v for k, v in first.items() if k != "latency_us"
    }
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    assert risk["instruments"][0]["reserved_buy"] == "10"


def test_the_same_order_id_with_another_body_is_409(api, key, venue):
    check(api, key, order())
    response = check(api, key, order(quantity="11"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_a_batch_answers_in_order_and_sees_its_own_reservations(api, key, venue):
    # position limit for AAPL: 5,000,000 notional → at 230.00 that is 21,739.13 contracts
    orders = [order(order_id=f"b{i}", quantity="8000", leverage="20") for i in range(3)]
    orders.insert(1, order(order_id="bad", price="1.00"))
    response = api.post(
        "/api/v1/pretrade/check-batch", {"orders": orders}, format="json", **auth(key)
    )
    results = response.json()["results"]
    assert [r["order_id"] for r in results] == ["b0", "bad", "b1", "b2"]
    assert [r["decision"] for r in results] == ["accept", "reject", "accept", "reject"]
    assert "POSITION_LIMIT" in codes(results[3])


def test_batch_validation_is_all_or_nothing(api, key, venue):
    orders = [order(order_id="v1"), order(order_id="v2", quantity="-1")]
    response = api.post(
        "/api/v1/pretrade/check-batch", {"orders": orders}, format="json", **auth(key)
    )
    assert response.status_code == 400
    assert "orders.1.quantity" in response.json()["error"]["fields"]
    assert check(api, key, order(order_id="v1")).json()["decision"] == "accept"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(quantity="1e3"), "quantity"),
        (dict(price=None), "price"),
        (dict(order_type="market"), "price"),
        (dict(side="long"), "side"),
        (dict(client_ip="999.1.1.1"), "client_ip"),
        (dict(extra=1), "extra"),
    ],
    ids=["exponent", "limit-without-price", "market-with-price", "side", "ip", "unknown"],
)
def test_bad_orders_are_400_naming_the_field(api, key, venue, changes, field):
    response = check(api, key, order(**changes))
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_fills_move_reservation_into_position_and_cancel_releases(api, key, venue):
    check(api, key, order(quantity="10"))
    fill = {"fill_id": "f-1", "account_id": "acc-sg", "quantity": "4", "price": "229.90"}
    response = api.post("/api/v1/orders/o-1/fills", fill, format="json", **auth(key))
    assert response.status_code == 200, response.content
    assert response.json()["position"] == "4" and response.json()["open_quantity"] == "6"
    again = api.post("/api/v1/orders/o-1/fills", fill, format="json", **auth(key)).json()
    assert again["status"] == "duplicate"
    changed = api.post(
        "/api/v1/orders/o-1/fills", {**fill, "quantity": "5"}, format="json", **auth(key)
    )
    assert changed.status_code == 409
    cancel = api.post(
        "/api/v1/orders/o-1/cancel", {"account_id": "acc-sg"}, format="json", **auth(key)
    ).json()
    assert cancel["status"] == "cancelled" and cancel["released_quantity"] == "6"
    twice = api.post(
        "/api/v1/orders/o-1/cancel", {"account_id": "acc-sg"}, format="json", **auth(key)
    ).json()
    assert twice["status"] == "cancelled"
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    row = risk["instruments"][0]
    assert (row["position"], row["reserved_buy"]) == ("4", "0")
    assert risk["total"]["margin_reserved"] == "0" and risk["total"]["margin_used"] == "46"


def test_close_only_jurisdiction_lets_a_reducing_order_through(api, key, venue):
    """A CN resident (wind-down: reduce is close_only) with a long position may sell."""
    from core.redis_client import get_redis
    from risk.pretrade import steps as atomic

    get_redis().hset(atomic.risk_key("acc-cn"), "p:AAPL-PERP", 1000)
    answer = check(
        api, key, order(account_id="acc-cn", client_ip=CN_IP, side="sell", quantity="5")
    ).json()
    assert answer["decision"] == "accept", answer


def test_decisions_reach_the_database(api, key, venue):
    check(api, key, order())
    check(api, key, order(order_id="o-2", price="1.00"))
    assert decisions.drain(claim_idle_ms=0) == 2
    rows = {row.order_id: row for row in PretradeDecision.objects.all()}
    assert rows["o-1"].decision == "accept" and rows["o-2"].decision == "reject"
    assert "PRICE_OUTSIDE_BAND" in rows["o-2"].reason_codes


def test_the_check_path_runs_no_sql(api, key, venue, django_assert_num_queries):
    check(api, key, order(order_id="warm"))
    with django_assert_num_queries(0):
        assert check(api, key, order(order_id="cold")).status_code == 200


def test_redis_down_fails_closed(api, key, venue, settings):
    check(api, key, order(order_id="warm"))
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    answer = check(api, key, order(order_id="down")).json()
    assert answer["decision"] == "reject" and codes(answer) == ["DEGRADED_FAIL_CLOSED"]


def test_an_unsynced_bucket_fails_closed_until_resync(api, key, venue, redis_conn):
    redis_conn.delete(*resync.synced_keys())
    answer = check(api, key, order(order_id="u1")).json()
    assert codes(answer) == ["DEGRADED_FAIL_CLOSED"]
    resync.resync(now=NOW)
    collateral.set_collateral("acc-sg", Decimal("1000000"))
    assert check(api, key, order(order_id="u2")).json()["decision"] == "accept"


def test_fills_hold_margin_in_the_ledger_and_reducing_fills_release_it(
    api, key, venue, django_capture_on_commit_callbacks
):
    """A fill's margin becomes a hold in the custody ledger (withdrawals cannot take it);
    the collateral the check counts does not change; a reducing fill releases it."""
    from core.redis_client import get_redis
    from custody import services as custody
    from custody.selectors import client_balances, margin_holds
    from risk.pretrade import steps as risk_atomic

    def collateral_micro():
        return int(get_redis().hget(risk_atomic.risk_key("acc-sg"), "collateral"))

    with django_capture_on_commit_callbacks(execute=True):
        custody.deposit(
            id="dep-sg",
            account_id="acc-sg",
            asset="USDC",
            amount=10_000 * 10**6,
            custody_wallet="wallet-a",
            now=NOW,
        )
    assert collateral_micro() == 10_000 * 10**6  # mirrored from the ledger
    check(api, key, order(order_id="m-1", quantity="10"))
    fill = {"fill_id": "mf-1", "account_id": "acc-sg", "quantity": "10", "price": "230.00"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/orders/m-1/fills", fill, format="json", **auth(key))
    assert response.status_code == 200
    assert margin_holds(asset="USDC", account_id="acc-sg") == {("acc-sg", "AAPL-PERP"): 115_000_000}
    balance = client_balances(account_id="acc-sg", now=NOW)[0].view
    assert (balance.total, balance.reserved) == (10_000 * 10**6, 115_000_000)
    assert collateral_micro() == 10_000 * 10**6  # available + own holds: unchanged
    with pytest.raises(custody.TransferRefused, match=r"115\.000000 reserved"):
        custody.withdraw(
            id="wd-all",
            account_id="acc-sg",
            asset="USDC",
            amount=10_000 * 10**6,
            custody_wallet="wallet-a",
            now=NOW,
        )

    check(api, key, order(order_id="m-2", quantity="4", side="sell", reduce_only=True))
    fill = {"fill_id": "mf-2", "account_id": "acc-sg", "quantity": "4", "price": "231.00"}
    response = api.post("/api/v1/orders/m-2/fills", fill, format="json", **auth(key))
    assert response.status_code == 200
    assert margin_holds(asset="USDC", account_id="acc-sg") == {("acc-sg", "AAPL-PERP"): 69_000_000}
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    assert risk["total"]["margin_used"] == "69"


def test_a_sanctions_case_stops_the_next_order_and_its_decision_releases_it(
    api, key, venue, django_capture_on_commit_callbacks
):
    """Issue 15: the check reads the account's screening status from its facts (no matcher
    on the hot path); a possible match rejects every order, reducing ones too, until an
    officer decides; a confirmed match is SANCTIONS_MATCH."""
    from compliance import sanctions
    from compliance.models import ScreeningCase

    sanctions.load_shipped(actor="test")
    facts = {
        "residence_country": "SG",
        "residence_subdivision": "",
        "nationalities": [],
        "entity_type": "individual",
        "controlling_countries": [],
        "investor_category": "retail",
        "status": "active",
        "full_name": "Gerhard Wisser",
    }
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.put_account_profile(account_id="acc-sg", facts=facts, actor="test")
    answer = check(api, key, order(order_id="s1")).json()
    assert answer["decision"] == "reject" and codes(answer) == ["SANCTIONS_REVIEW"], answer
    reducing = check(api, key, order(order_id="s2", reduce_only=True, side="sell")).json()
    assert "SANCTIONS_REVIEW" in codes(reducing)
    case = ScreeningCase.objects.get(account_id="acc-sg")
    with django_capture_on_commit_callbacks(execute=True):
        compliance_services.decide_screening_case(
            case_id=case.pk, decision="confirmed", note="", proposed_by="a", actor="b"
        )
    assert codes(check(api, key, order(order_id="s3")).json()) == ["SANCTIONS_MATCH"]
