"""``resync`` rebuilds from the database the same live state the Lua steps wrote: positions,
reserved lots and margin, used margin, the open-order and expiry indexes, open interest and
each order's state, after a mix of accepted, rejected, filled, cancelled and reducing
orders."""

import orjson
import pytest

from core.redis_client import account_bucket, get_redis
from custody import services as custody
from risk.positions import resync
from risk.pretrade import decisions, steps
from tests.conftest import auth
from tests.risk.pretrade.test_check_api import NOW, check, key, order, venue

pytestmark = pytest.mark.django_db
__all__ = ["key", "venue"]  # fixtures reused from the pre-trade API tests

ACCOUNTS = ("acc-sg", "acc-us")
INSTRUMENT = "AAPL-PERP"
# The message-rate cell (GCRA) starts afresh by design.
NOT_REBUILT = {b"tat"}


def _live_state() -> dict:
    client = get_redis()
    state: dict = {}
    for account in ACCOUNTS:
        state[account, "risk"] = {
            k.decode(): int(v)
            for k, v in client.hgetall(steps.risk_key(account)).items()
            if k not in NOT_REBUILT
        }
        state[account, "open"] = client.zrange(
            steps.open_orders_key(account), 0, -1, withscores=True
        )
        for order_id, _ in state[account, "open"]:
            member = f"{account}|{order_id.decode()}"
            bucket = steps.expiry_key(account_bucket(account))
            state[account, "expiry", order_id] = client.zscore(bucket, member)
        for order_id in ("o-1", "o-2", "o-3", "o-4", "o-5"):
            raw = client.get(steps.order_key(account, order_id))
            if raw is not None:
                record = orjson.loads(raw)
                state[account, order_id] = {
                    name: record[name]
                    for name in ("decision", "state", "open_lots", "margin_left", "filled_lots")
                }
    oi, oi_expiry = steps.open_interest_keys(INSTRUMENT)
    state["oi"] = {k.decode(): int(v) for k, v in client.hgetall(oi).items()}
    state["oi_expiry"] = client.zrange(oi_expiry, 0, -1, withscores=True)
    return state


def test_resync_rebuilds_the_state_the_steps_wrote(
    api, key, venue, django_capture_on_commit_callbacks
):
    """Collateral and used margin come back from the ledger (deposits, margin holds)."""
    with django_capture_on_commit_callbacks(execute=True):
        for account in ACCOUNTS:
            custody.deposit(
                id=f"dep-{account}",
                account_id=account,
                asset="USDC",
                amount=10_000 * 10**6,
                custody_wallet="wallet-a",
                now=NOW,
            )
    assert check(api, key, order(order_id="o-1", quantity="10")).json()["decision"] == "accept"
    assert check(api, key, order(order_id="o-2", quantity="3")).json()["decision"] == "accept"
    assert check(api, key, order(order_id="o-3", price="1.00")).json()["decision"] == "reject"
    fill = {"fill_id": "f-1", "account_id": "acc-sg", "quantity": "4", "price": "229.90"}
    with django_capture_on_commit_callbacks(execute=True):
        filled = api.post("/api/v1/orders/o-1/fills", fill, format="json", **auth(key))
    assert filled.status_code == 200
    cancel = {"account_id": "acc-sg"}
    assert api.post("/api/v1/orders/o-2/cancel", cancel, format="json", **auth(key)).status_code
    reducing = order(order_id="o-4", side="sell", quantity="2")
    assert check(api, key, reducing).json()["decision"] == "accept"
    other = order(order_id="o-5", account_id="acc-us", client_ip="8.8.8.8", quantity="1")
    check(api, key, other)
    decisions.drain(claim_idle_ms=0)
    before = _live_state()
    assert before["acc-sg", "risk"]["p:AAPL-PERP"] == 400  # lots of 0.01
    assert before["acc-sg", "o-2"]["state"] == "cancelled"

    resync.resync(now=NOW)

    after = _live_state()
    for name in before.keys() | after.keys():
        assert after.get(name) == before.get(name), name
    assert resync.is_synced()
