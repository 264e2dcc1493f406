"""An account step applied by Redis whose reply never reached the check (a reset connection;
in the failover test, the primary killed between its write and its answer): the client is
answered DEGRADED_FAIL_CLOSED, so the reservation must not outlive that answer — the next
batch voids it (risk/pretrade/in_doubt.py) — unless the reservation was acknowledged after
all, by a repeat of the order answered from its record. Over a real Redis, through a relay
that throws the step's reply away (tests/reply_cutter.py)."""

from datetime import timedelta

import pytest

from core.redis_client import bucket_key
from risk.models import PretradeDecision
from risk.pretrade import decisions, in_doubt, steps
from tests.conftest import auth
from tests.reply_cutter import ReplyCutter
from tests.risk.pretrade.test_check_api import check, codes, order
from tests.risk.pretrade.test_check_api import key as key
from tests.risk.pretrade.test_check_api import venue as venue

pytestmark = [pytest.mark.django_db, pytest.mark.standalone_redis]


@pytest.fixture
def cutter(settings, venue, api, key):
    relay = ReplyCutter(settings.REDIS_URL)
    settings.REDIS_URL = relay.url
    in_doubt._waiting.clear()
    # A first check publishes the policy versions, which the steps below then find.
    assert codes(check(api, key, order(order_id="o-band", price="1.00")).json()) == [
        "PRICE_OUTSIDE_BAND"
    ]
    yield relay
    relay.close()
    in_doubt._waiting.clear()


def account_step_sha() -> bytes:
    """The step that decides and reserves: on this standalone Redis, ``order_step``."""
    return steps.script("order_step").sha.encode()


def lose_the_reply(api, key, cutter, body) -> dict:
    cutter.arm(account_step_sha())
    answer = check(api, key, body).json()
    cutter.disarm()
    assert cutter.cut == 1
    assert codes(answer) == ["DEGRADED_FAIL_CLOSED"], answer
    assert answer["reasons"][0]["detail"]["component"] == "redis"
    return answer


def reserved(api, key):
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    return [(row["reserved_buy"], row["reserved_sell"]) for row in risk["instruments"]]


def open_interest(redis_conn) -> int:
    interest = redis_conn.hgetall(steps.open_interest_keys("AAPL-PERP")[0])
    return int(interest.get(b"reserved", 0))


def test_an_unanswered_accept_is_voided_by_the_next_check(api, key, cutter, redis_conn):
    answer = lose_the_reply(api, key, cutter, order())
    assert reserved(api, key) == [("10", "0")]  # Redis applied the step
    held = open_interest(redis_conn)
    assert held > 0 and in_doubt.waiting() == 1

    assert check(api, key, order(order_id="o-2", quantity="5")).json()["decision"] == "accept"
    assert in_doubt.waiting() == 0
    assert reserved(api, key) == [("5", "0")]
    assert open_interest(redis_conn) * 2 == held
    again = check(api, key, order()).json()  # a repeat answers what was answered
    assert (again["decision"], codes(again)) == ("reject", ["DEGRADED_FAIL_CLOSED"])
    assert again["evaluated_at"] == answer["evaluated_at"]

    decisions.drain(claim_idle_ms=0)
    row = PretradeDecision.objects.get(order_id="o-1")
    assert (row.decision, row.reason_codes, row.reservation) == (
        "reject",
        "DEGRADED_FAIL_CLOSED",
        None,
    )


def test_a_repeat_answered_from_the_record_keeps_the_reservation(api, key, cutter):
    lose_the_reply(api, key, cutter, order())
    parked = list(in_doubt._waiting)  # as if the repeat came to another worker
    in_doubt._waiting.clear()
    repeat = check(api, key, order()).json()
    assert repeat["decision"] == "accept" and repeat["reservation"]["quantity"] == "10"

    in_doubt.note(parked)
    check(api, key, order(order_id="o-2", quantity="5"))
    assert in_doubt.waiting() == 0
    assert reserved(api, key) == [("15", "0")]


def test_a_step_that_did_not_apply_leaves_a_fresh_attempt_alone(
    api, key, venue, cutter, redis_conn
):
    synced = bucket_key(steps.account_bucket("acc-sg"), "synced")
    redis_conn.delete(synced)  # the step answers "unsynced" and writes nothing
    lose_the_reply(api, key, cutter, order())
    redis_conn.set(synced, "1")
    parked = list(in_doubt._waiting)  # the retry reaches another worker first, later
    in_doubt._waiting.clear()
    venue.advance(timedelta(milliseconds=1))
    assert check(api, key, order()).json()["decision"] == "accept"

    in_doubt.note(parked)
    check(api, key, order(order_id="o-2", quantity="5"))
    assert reserved(api, key) == [("15", "0")]


def test_the_waiting_list_is_bounded(monkeypatch):
    monkeypatch.setattr(in_doubt, "LIMIT", 3)
    monkeypatch.setattr(in_doubt, "_waiting", type(in_doubt._waiting)())
    entry = in_doubt.Unanswered("a", "o", "AAPL-PERP", "fp", b"{}", b"{}", b"{}", 1)
    in_doubt.note([entry] * 2)
    in_doubt.note([entry] * 2)
    assert in_doubt.waiting() == 3
