"""The platform-wide open-interest cap, driven end to end through the pre-trade API with
real Redis (issue 12: nothing failed if ``>`` became ``>=`` in ``instrument_step.lua`` or if
the release of unneeded tentative reservations was deleted, which would leak a reservation
per rejected order until the platform is blocked)."""

from decimal import Decimal

import pytest

from compliance import services as compliance_services
from core.clock import use_clock
from core.redis_client import get_redis
from risk import demo
from risk.markets import services
from risk.positions import collateral, orders
from risk.pretrade import steps
from tests.risk.pretrade.test_check_api import check, codes, key, order, venue  # noqa: F401

pytestmark = pytest.mark.django_db
TRADERS = ("oi-a", "oi-b", "oi-c")


@pytest.fixture
def capped(venue, django_capture_on_commit_callbacks):  # noqa: F811
    """AAPL-PERP with an open-interest cap of 10 contracts; three funded SG traders."""
    row = next(r for r in demo.INSTRUMENTS if r[0] == "AAPL-PERP")
    fields = {**demo._fields(row), "open_interest_cap": Decimal("10")}
    facts = {
        "residence_country": "SG",
        "residence_subdivision": "",
        "nationalities": [],
        "entity_type": "individual",
        "controlling_countries": [],
        "investor_category": "retail",
        "status": "active",
    }
    with use_clock(venue), django_capture_on_commit_callbacks(execute=True):
        services.put_instrument(symbol="AAPL-PERP", fields=fields, actor="test")
        for trader in TRADERS:
            compliance_services.put_account_profile(account_id=trader, facts=facts, actor="t")
            collateral.set_collateral(trader, Decimal("1000000"))
    return venue


def buy(api, key, order_id, account, quantity, **extra):  # noqa: F811
    body = order(order_id=order_id, account_id=account, quantity=quantity, **extra)
    response = check(api, key, body)
    assert response.status_code == 200, response.content
    return response.json()


def reserved_open_interest() -> int:
    return int(get_redis().hget(steps.open_interest_keys("AAPL-PERP")[0], "reserved") or 0)


def test_the_cap_is_reached_exactly_and_never_passed(api, key, capped):  # noqa: F811
    assert buy(api, key, "a-1", "oi-a", "6")["decision"] == "accept"
    assert codes(buy(api, key, "b-1", "oi-b", "5")) == ["OPEN_INTEREST_LIMIT"]
    assert buy(api, key, "b-2", "oi-b", "4")["decision"] == "accept"  # 6 + 4 = the cap
    assert codes(buy(api, key, "c-1", "oi-c", "0.01")) == ["OPEN_INTEREST_LIMIT"]
    assert reserved_open_interest() == 1000  # lots of 0.01: 10 contracts


def test_rejected_orders_leave_no_reservation_behind(api, key, capped):  # noqa: F811
    collateral.set_collateral("oi-a", Decimal("1"))  # every order of oi-a lacks margin
    for n in range(20):
        answer = buy(api, key, f"poor-{n}", "oi-a", "1")
        assert codes(answer) == ["INSUFFICIENT_MARGIN"], answer
    assert reserved_open_interest() == 0
    assert buy(api, key, "b-1", "oi-b", "10")["decision"] == "accept"


def test_a_repeated_accepted_order_keeps_its_reservation(api, key, capped):  # noqa: F811
    """A bug found while fixing issue 12: the repeat of an accepted order released the
    original order's reservation (its tentative step found the reservation and answered
    ``ok``, and the duplicate's unneeded reservation was then released)."""
    first = buy(api, key, "a-1", "oi-a", "6")
    again = buy(api, key, "a-1", "oi-a", "6")
    assert first["decision"] == again["decision"] == "accept"
    assert reserved_open_interest() == 600
    assert codes(buy(api, key, "b-1", "oi-b", "5")) == ["OPEN_INTEREST_LIMIT"]


def test_a_cancel_gives_the_room_back(api, key, capped):  # noqa: F811
    buy(api, key, "a-1", "oi-a", "6")
    orders.cancel(order_id="a-1", account_id="oi-a", now=capped.now())
    assert reserved_open_interest() == 0
    assert buy(api, key, "b-1", "oi-b", "10")["decision"] == "accept"


def test_a_fill_turns_the_reservation_into_open_interest(api, key, capped):  # noqa: F811
    buy(api, key, "a-1", "oi-a", "6")
    orders.record_fill(
        order_id="a-1",
        fill_id="f-1",
        account_id="oi-a",
        quantity=Decimal("6"),
        price=Decimal("230.00"),
        now=capped.now(),
    )
    oi = get_redis().hgetall(steps.open_interest_keys("AAPL-PERP")[0])
    assert (int(oi[b"filled"]), int(oi[b"reserved"])) == (600, 0)
    assert codes(buy(api, key, "b-1", "oi-b", "5")) == ["OPEN_INTEREST_LIMIT"]
    # Closing the position needs no room: 6 filled + 6 more would pass the cap if it did.
    closing = buy(api, key, "a-2", "oi-a", "6", side="sell")
    assert closing["decision"] == "accept", closing
