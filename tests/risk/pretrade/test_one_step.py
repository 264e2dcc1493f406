"""The check in one round trip (``order_step``) on this process's copy of the market
publication (``risk.pretrade.publications``): a copy out of date never decides. Each test
first lets a check take the copy, then changes the market or the global kill switch behind
it, and the very next check must decide on the change (read-your-writes, API.md). Over the
standalone Redis; the cluster pass runs the two-step check instead."""

from datetime import timedelta
from decimal import Decimal

import pytest
import redis

from risk.markets import halts, kill_switches
from risk.markets.live import live_controller
from risk.markets.ticks import PriceTick, TickSource
from risk.pretrade import publications, steps
from tests.risk.pretrade.test_check_api import check, codes, order
from tests.risk.pretrade.test_check_api import key as key
from tests.risk.pretrade.test_check_api import venue as venue

pytestmark = [pytest.mark.django_db, pytest.mark.standalone_redis]


def decide(api, key, order_id, **changes):
    response = check(api, key, order(order_id=order_id, **changes))
    assert response.status_code == 200, response.content
    return response.json()


def test_a_check_on_a_known_market_is_one_round_trip(api, key, venue, monkeypatch):
    decide(api, key, "warm")  # takes this process's copy of AAPL-PERP's publication
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        sent.append(b"".join(command) if isinstance(command, list) else command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    answer = decide(api, key, "o-2")
    assert answer["decision"] == "accept", answer
    assert len(sent) == 1, sent
    assert sent[0].count(b"EVALSHA") == 1 and steps.script("order_step").sha.encode() in sent[0]


def test_a_halt_behind_the_copy_is_in_force_for_the_next_check(api, key, venue):
    assert decide(api, key, "before")["decision"] == "accept"
    halts.halt_market(symbol="AAPL-PERP", reason="news pending", actor="officer")
    answer = decide(api, key, "after")
    assert codes(answer) == ["MARKET_HALTED"], answer


def test_a_tick_that_moves_the_band_behind_the_copy_decides_the_next_check(
    api,
    key,
    venue,
):
    """The first check takes the copy; a tick then lowers the band. A price inside the old
    band and above the new one must be refused."""
    before = live_controller().view("AAPL-PERP", venue.now())
    assert decide(api, key, "inside", price=str(before.band.upper))["decision"] == "accept"
    now = venue.advance(timedelta(seconds=2))  # past the velocity breaker's look-back
    copy = publications._copies["AAPL-PERP"]
    live_controller().apply_ticks(
        "AAPL-PERP",
        [
            PriceTick(TickSource.EXTERNAL, Decimal("220.00"), now),
            PriceTick(TickSource.BOOK, Decimal("220.00"), now),
        ],
        now,
    )
    after = live_controller().view("AAPL-PERP", now)
    assert after.state.value == "open" and after.band.upper < before.band.upper, after
    assert copy.describes(now) and publications._copies["AAPL-PERP"] is copy
    answer = decide(api, key, "outside", price=str(before.band.upper))
    assert codes(answer) == ["PRICE_OUTSIDE_BAND"], answer


def test_the_global_kill_switch_behind_the_copy_stops_the_next_check(api, key, venue):
    assert decide(api, key, "before")["decision"] == "accept"
    kill_switches.engage(scope="global", target="", actor="officer", reason="drill")
    answer = decide(api, key, "after")
    assert codes(answer) == ["KILL_SWITCH"], answer
    assert answer["reasons"][0]["detail"]["scope"] == "global"
    kill_switches.release(scope="global", target="", actor="officer")
    assert decide(api, key, "released")["decision"] == "accept"


def test_a_copy_of_a_market_rewritten_after_a_flush_is_not_trusted(
    api,
    key,
    venue,
    redis_conn,
):
    """A Redis that lost its data and got the market written again must not match a copy
    taken before (tokens are random, not counted from one)."""
    assert decide(api, key, "before")["decision"] == "accept"
    market = steps.instrument_keys("AAPL-PERP")[0]
    copied = publications._copies["AAPL-PERP"]
    redis_conn.delete(market)
    halts.halt_market(symbol="AAPL-PERP", reason="after a restart", actor="officer")
    assert redis_conn.hget(market, "pub_token").decode() != copied.token
    assert codes(decide(api, key, "after")) == ["MARKET_HALTED", "NO_REFERENCE_PRICE"]


def test_an_order_bounced_by_a_newer_market_leaves_no_reservation(
    api,
    key,
    venue,
    redis_conn,
):
    """A step that finds the copy out of date decides nothing: no open interest, no
    reservation, no record; the answer comes from the second step."""
    assert decide(api, key, "before", quantity="1")["decision"] == "accept"
    halts.halt_market(symbol="AAPL-PERP", reason="news", actor="officer")
    halts.resume_market(symbol="AAPL-PERP", reason="news out", actor="officer")
    answer = decide(api, key, "after", quantity="1")
    assert answer["decision"] == "accept", answer
    interest = redis_conn.hget(steps.open_interest_keys("AAPL-PERP")[0], "reserved")
    assert int(interest) == 200  # two orders of one contract, lots of 0.01
