"""Live state is bounded (API.md, the idempotency window; issue 12: every order ever checked
stayed in Redis, 833 bytes each, and the risk view read them all)."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from core.redis_client import get_redis
from risk.positions import orders
from risk.pretrade import steps
from tests.risk.pretrade.test_check_api import check, order, venue  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(make_key):
    return make_key("pretrade")


def account_bytes(account_id: str) -> tuple[int, int]:
    """(keys, bytes) of everything Redis holds for one account (MEMORY USAGE per key)."""
    client = get_redis()
    keys = list(client.scan_iter(match=steps.account_prefix(account_id) + "*", count=1000))
    return len(keys), sum(client.memory_usage(k, samples=0) or 0 for k in keys)


def order_keys(account_id: str) -> int:
    client = get_redis()
    prefix = steps.account_prefix(account_id)
    return sum(1 for _ in client.scan_iter(match=prefix + "[of]:*", count=1000))


def lifecycle(api, key, venue, prefix, numbers):  # noqa: F811
    """Accepted orders, filled (even) or cancelled (odd); the last answer."""
    for n in numbers:
        answer = check(api, key, order(order_id=f"{prefix}-{n}", quantity="1")).json()
        assert answer["decision"] == "accept", answer
        if n % 2:
            orders.cancel(order_id=f"{prefix}-{n}", account_id="acc-sg", now=venue.now())
        else:
            orders.record_fill(
                order_id=f"{prefix}-{n}",
                fill_id=f"{prefix}-f-{n}",
                account_id="acc-sg",
                quantity=Decimal("1"),
                price=Decimal("230.00"),
                now=venue.now(),
            )
    return answer


def test_finished_orders_leave_redis_when_the_window_ends(api, key, venue, settings):  # noqa: F811
    settings.PRETRADE_IDEMPOTENCY_SECONDS = 2
    settings.ORDER_RATE_BURST = 10_000  # the test clock does not move between orders
    # Warm up: one order of each fate, so the account's risk hash has its fields already
    # (positions, reservations and margin per instrument: bounded by the instruments).
    lifecycle(api, key, venue, "warm", range(2))
    assert check(api, key, order(order_id="warm-rej", price="1.00")).json()["decision"] == "reject"
    deadline = time.monotonic() + 10
    while order_keys("acc-sg") and time.monotonic() < deadline:
        time.sleep(0.05)
    baseline = account_bytes("acc-sg")

    for n in range(200):  # rejected: priced outside the band
        check(api, key, order(order_id=f"rej-{n}", price="1.00"))
    answer = lifecycle(api, key, venue, "acc", range(100))
    # A repeat inside the window gets the first answer, and the records are there.
    again = check(api, key, order(order_id="acc-99", quantity="1")).json()
    assert again["decision"] == "accept" and again["evaluated_at"] == answer["evaluated_at"]
    assert order_keys("acc-sg") > 0 and account_bytes("acc-sg")[1] > baseline[1]

    deadline = time.monotonic() + 15  # Redis counts the window down on its own clock
    while order_keys("acc-sg") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert order_keys("acc-sg") == 0
    keys, used = account_bytes("acc-sg")
    # Only the account's risk hash is left, as large as before (a position grew a digit).
    assert keys == baseline[0] and used <= baseline[1] + 16


def test_the_risk_view_reads_only_open_orders(api, key, venue):  # noqa: F811
    for n in range(50):
        check(api, key, order(order_id=f"rej-{n}", price="1.00"))
    for n in range(3):
        check(api, key, order(order_id=f"open-{n}", quantity="1"))
    view = orders.risk_view("acc-sg")
    (row,) = view["instruments"]
    assert row["open_orders"] == 3 and row["reserved_buy"] == "3"
    assert get_redis().zcard(steps.open_orders_key("acc-sg")) == 3


def test_the_sweeper_releases_orders_of_an_idle_account(api, key, venue, settings):  # noqa: F811
    settings.ORDER_TTL_SECONDS = 60
    assert check(api, key, order(order_id="idle-1", quantity="2")).json()["decision"] == "accept"
    view = orders.risk_view("acc-sg")
    assert view["instruments"][0]["reserved_buy"] == "2"
    oi_key = steps.open_interest_keys("AAPL-PERP")[0]
    assert int(get_redis().hget(oi_key, "reserved")) == 200
    venue.advance(timedelta(seconds=61))  # the account sends nothing more
    assert orders.expire_lapsed(now=venue.now()) == 1
    view = orders.risk_view("acc-sg")
    assert view["instruments"][0]["reserved_buy"] == "0"
    assert view["total"]["margin_reserved"] == "0"
    assert int(get_redis().hget(oi_key, "reserved")) == 0
