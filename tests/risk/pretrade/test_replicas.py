"""REDIS_MIN_REPLICAS (issue 16): an accept is answered only once Redis WAIT says enough
replicas hold its write. The test Redis has no replica, so WAIT always times out short:
every accept must become DEGRADED_FAIL_CLOSED with nothing left reserved, its repeat must
answer the same, and the drained decision must be that reject. (The same runs in the
cluster pass, where WAIT goes to each node the batch wrote to.)"""

import pytest

from risk.models import PretradeDecision
from risk.pretrade import decisions, steps
from tests.conftest import auth
from tests.risk.pretrade.test_check_api import check, codes, order
from tests.risk.pretrade.test_check_api import key as key
from tests.risk.pretrade.test_check_api import venue as venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def wants_a_replica(settings):
    settings.REDIS_MIN_REPLICAS = 1
    settings.REDIS_WAIT_TIMEOUT_MS = 20


def reserved(api, key):
    risk = api.get("/api/v1/accounts/acc-sg/risk", **auth(key)).json()
    return [(row["reserved_buy"], row["reserved_sell"]) for row in risk["instruments"]]


def test_an_unconfirmed_accept_fails_closed_and_reserves_nothing(
    api, key, venue, wants_a_replica, redis_conn
):
    answer = check(api, key, order()).json()
    assert answer["decision"] == "reject" and codes(answer) == ["DEGRADED_FAIL_CLOSED"]
    assert answer["reasons"][0]["detail"]["component"] == "redis replicas"
    assert answer["reservation"] is None
    assert reserved(api, key) in ([], [("0", "0")])
    interest = redis_conn.hgetall(steps.open_interest_keys("AAPL-PERP")[0])
    assert int(interest.get(b"reserved", 0)) == 0, interest
    again = check(api, key, order()).json()
    assert (again["decision"], codes(again)) == ("reject", ["DEGRADED_FAIL_CLOSED"])
    assert again["evaluated_at"] == answer["evaluated_at"]
    assert check(api, key, order(quantity="11")).status_code == 409  # still its order_id


def test_a_reject_is_answered_for_its_own_reason(api, key, venue, wants_a_replica):
    answer = check(api, key, order(order_id="o-band", price="1.00")).json()
    assert codes(answer) == ["PRICE_OUTSIDE_BAND"]


def test_the_drained_decision_is_the_reject_that_was_answered(api, key, venue, wants_a_replica):
    check(api, key, order())
    assert decisions.drain(claim_idle_ms=0) == 2  # the accept, then its void
    row = PretradeDecision.objects.get(order_id="o-1")
    assert (row.decision, row.reason_codes, row.reservation) == (
        "reject",
        "DEGRADED_FAIL_CLOSED",
        None,
    )


def test_without_the_setting_the_same_order_is_accepted(api, key, venue):
    answer = check(api, key, order()).json()
    assert answer["decision"] == "accept"
    assert reserved(api, key) == [("10", "0")]
