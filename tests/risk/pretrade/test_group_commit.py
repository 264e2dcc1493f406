"""The pre-trade check through its group commit (``check.check_one``): concurrent single
checks of one process, grouped into batches through the real check and Redis, decide
exactly as they would one by one, each with its own answer."""

import threading
from decimal import Decimal

import pytest

from risk.pretrade import check as pretrade
from risk.pretrade.checks import Order
from tests.risk.pretrade.test_check_api import venue as venue

pytestmark = pytest.mark.django_db


def an_order(order_id: str, quantity: str) -> Order:
    return Order(
        order_id, "acc-sg", "AAPL-PERP", "buy", Decimal(quantity), "limit", Decimal("230.00"),
        client_ip="203.198.7.66",
    )  # fmt: skip


def test_grouped_checks_through_redis_decide_as_one_by_one(venue, settings):
    """24 concurrent checks of one account: the account's limit admits exactly as many as it
    would one by one, and each answer is its own."""
    settings.GROUP_COMMIT = True
    settings.GROUP_COMMIT_US = 500
    settings.ORDER_RATE_INTERVAL_MS = 0
    first = pretrade.check_one(an_order("warm", "1"), "fp-warm")  # snapshots built
    assert first["decision"] == "accept", first
    calls, run = [], pretrade._group._run_batch
    pretrade._group._run_batch = lambda orders: calls.append(len(orders)) or run(orders)
    results, lock = {}, threading.Lock()

    def one(n):
        answer = pretrade.check_one(an_order(f"g-{n}", "1000"), f"fp-{n}")
        with lock:
            results[n] = answer

    try:
        threads = [threading.Thread(target=one, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        pretrade._group._run_batch = run
    assert len(results) == 24
    assert all(answer["order_id"] == f"g-{n}" for n, answer in results.items())
    accepted = [n for n, a in results.items() if a["decision"] == "accept"]
    refused = {r["code"] for a in results.values() for r in a["reasons"]}
    # max_position_notional 5,000,000 at 230: 21,739 contracts; 1,000 per order, 1 held.
    assert len(accepted) == 21 and refused == {"POSITION_LIMIT"}, (accepted, refused)
    assert sum(calls) == 24 and max(calls) > 1, calls
    assert all(answer["latency_us"] > 0 for answer in results.values())
