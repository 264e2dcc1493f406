"""Group commit (risk/pretrade/group_commit.py): concurrent single checks of one process share
a batch, each gets its own answer, a failing batch fails only its own checks, nobody waits
forever; and through the real check and Redis, grouped checks decide exactly as one by one."""

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from risk.pretrade import check as pretrade
from risk.pretrade.checks import Order
from risk.pretrade.group_commit import MAX_BATCH, GroupCommit
from tests.risk.pretrade.test_check_api import key as key
from tests.risk.pretrade.test_check_api import venue as venue

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def an_order(order_id: str, account: str = "acc-sg", quantity: str = "1") -> Order:
    return Order(
        order_id, account, "AAPL-PERP", "buy", Decimal(quantity), "limit", Decimal("230.00"),
        client_ip="203.198.7.66",
    )  # fmt: skip


class Recorder:
    """A batch runner that records its batches and answers each order with its id."""

    def __init__(self, delay: float = 0.0, fail_on: str | None = None):
        self.batches: list[list[str]] = []
        self.delay, self.fail_on = delay, fail_on
        self.lock = threading.Lock()

    def __call__(self, orders, now):
        ids = [order.order_id for order, _ in orders]
        with self.lock:
            self.batches.append(ids)
        time.sleep(self.delay)  # a round trip: others queue meanwhile
        if self.fail_on in ids:
            raise RuntimeError("the batch failed")
        return [{"order_id": i, "latency_us": 0} for i in ids]


def run_threads(group: GroupCommit, ids: list[str]) -> tuple[dict, dict]:
    answers, errors = {}, {}

    def one(order_id):
        try:
            answers[order_id] = group.check(an_order(order_id), "fp")
        except Exception as exc:  # collected, asserted on below
            errors[order_id] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a check waited forever"
    return answers, errors


def test_every_check_gets_its_own_answer_and_checks_share_batches():
    recorder = Recorder(delay=0.005)
    group = GroupCommit(recorder, lambda: NOW, lambda: 0)
    ids = [f"o-{n}" for n in range(40)]
    answers, errors = run_threads(group, ids)
    assert errors == {}
    assert {i: a["order_id"] for i, a in answers.items()} == {i: i for i in ids}
    assert sorted(i for batch in recorder.batches for i in batch) == sorted(ids)  # each once
    assert max(len(batch) for batch in recorder.batches) > 1  # grouped while one was out
    assert all(a["latency_us"] > 0 for a in answers.values())  # the request's own time


def test_a_window_gathers_checks_that_arrive_within_it():
    recorder = Recorder()
    group = GroupCommit(recorder, lambda: NOW, lambda: 200_000)  # 0.2 s
    answers, errors = run_threads(group, [f"w-{n}" for n in range(8)])
    assert errors == {} and len(answers) == 8
    assert len(recorder.batches[0]) > 1


def test_a_batch_that_fails_fails_its_own_checks_only_and_the_lead_moves_on():
    recorder = Recorder(delay=0.002, fail_on="o-0")
    group = GroupCommit(recorder, lambda: NOW, lambda: 0)
    answers, errors = run_threads(group, [f"o-{n}" for n in range(20)])
    failed = next(batch for batch in recorder.batches if "o-0" in batch)
    assert set(errors) == set(failed)
    assert all(isinstance(exc, RuntimeError) for exc in errors.values())
    assert set(answers) == {f"o-{n}" for n in range(20)} - set(failed)
    assert group.check(an_order("later"), "fp")["order_id"] == "later"  # nobody leads now


def test_a_batch_holds_at_most_max_batch_checks():
    recorder = Recorder(delay=0.02)
    group = GroupCommit(recorder, lambda: NOW, lambda: 0)
    answers, errors = run_threads(group, [f"m-{n}" for n in range(MAX_BATCH + 60)])
    assert errors == {} and len(answers) == MAX_BATCH + 60
    assert max(len(batch) for batch in recorder.batches) <= MAX_BATCH


@pytest.mark.django_db
def test_grouped_checks_through_redis_decide_as_one_by_one(venue, settings):
    """24 concurrent single checks of one account through the real check: the account's
    limit admits exactly as many as it would one by one, and each answer is its own."""
    settings.PRETRADE_GROUP_COMMIT = True
    settings.PRETRADE_GROUP_COMMIT_US = 500
    settings.ORDER_RATE_INTERVAL_MS = 0
    first = pretrade.check_one(an_order("warm", quantity="1"), "fp-warm")  # snapshots built
    assert first["decision"] == "accept", first
    calls, run = [], pretrade._group._run_batch
    pretrade._group._run_batch = lambda orders, now: calls.append(len(orders)) or run(orders, now)
    results, lock = {}, threading.Lock()

    def one(n):
        answer = pretrade.check_one(an_order(f"g-{n}", quantity="1000"), f"fp-{n}")
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
    refused = {r["code"] for n, a in results.items() for r in a["reasons"]}
    # max_position_notional 5,000,000 at 230: 21,739 contracts; 1,000 per order, 1 held.
    assert len(accepted) == 21 and refused == {"POSITION_LIMIT"}, (accepted, refused)
    assert sum(calls) == 24 and max(calls) > 1, calls
