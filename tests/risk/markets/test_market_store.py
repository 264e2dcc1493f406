"""The live store: one Redis hash per instrument, optimistic transactions that lose no
update under concurrency, and a transitions stream drained into the database once."""

import threading
from datetime import timedelta
from types import MappingProxyType

import pytest

from core.redis_client import instrument_key
from risk import demo
from risk.markets import sweeper
from risk.markets.controller import MarketController, MarketSnapshot
from risk.markets.record import parse_market_hash
from risk.markets.store import RedisMarketStore
from risk.models import MarketEvent
from tests.risk.clock import et, ms
from tests.risk.market_fixtures import BOOK, CLOSE, EXTERNAL, tick

AAPL = "AAPL-PERP"
T0 = et("2026-11-24 10:00")


@pytest.fixture
def controller(redis_conn):
    from core.redis_client import get_redis

    snapshot = MarketSnapshot(MappingProxyType(demo.definitions()))
    return MarketController(RedisMarketStore(get_redis), lambda: snapshot)


def test_everything_of_an_instrument_is_one_hash_in_its_slot(controller, redis_conn):
    controller.apply_ticks(
        AAPL,
        [
            tick(CLOSE, "100", et("2026-11-23 16:00")),
            tick(EXTERNAL, "100", T0),
            tick(BOOK, "100", T0),
        ],
        T0,
    )
    keys = sorted(key.decode() for key in redis_conn.keys("*"))
    assert keys == [instrument_key(AAPL, "market")]
    fields = redis_conn.hgetall(instrument_key(AAPL, "market"))
    assert fields[b"pub_state"] == b"open" and fields[b"def_calendar"] == b"XNYS"
    assert parse_market_hash(AAPL, fields).reference.price is not None
    assert controller.view(AAPL, T0, raw=fields) == controller.view(AAPL, T0)


def test_two_threads_posting_to_one_instrument_lose_nothing(controller):
    """One thread feeds the oracle, the other the book, each 150 ticks in its own order; the
    WATCH/MULTI/EXEC retry means every tick lands: the LULD window holds all the feed's
    prices and both sources' last ticks are the last ones sent."""
    controller.apply_ticks(AAPL, [tick(CLOSE, "100", et("2026-11-23 16:00"))], T0)
    count, errors = 150, []
    now = T0 + ms(count * 10 + 10)

    def post(source, offset):
        try:
            for i in range(count):
                at = T0 + ms(i * 10 + offset)
                update = controller.apply_ticks(AAPL, [tick(source, "100.00", at)], now)
                assert update.ignored == ()
        except Exception as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=post, args=(EXTERNAL, 1)),
        threading.Thread(target=post, args=(BOOK, 2)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    record = parse_market_hash(AAPL, controller.store.read(AAPL))
    assert len(record.reference.window) == count
    assert record.reference.external.at == T0 + ms((count - 1) * 10 + 1)
    assert record.reference.book.at == T0 + ms((count - 1) * 10 + 2)


def test_transitions_are_drained_into_market_events_exactly_once(controller, db):
    controller.apply_ticks(
        AAPL,
        [
            tick(CLOSE, "100", et("2026-11-23 16:00")),
            tick(EXTERNAL, "100", T0),
            tick(BOOK, "100", T0),
        ],
        T0,
    )
    controller.apply_ticks(
        AAPL, [tick(EXTERNAL, "100", T0 + ms(1)), tick(BOOK, "105", T0 + ms(1))], T0 + ms(1)
    )
    controller.sweep(AAPL, T0 + timedelta(minutes=10))
    pending = controller.store.pending_transitions(AAPL, 100)
    assert len(pending) == 3
    assert sweeper.drain_transitions(controller.store, [AAPL]) == 3
    # the same entries announced again (a retried drain) write nothing new
    for _, fields in pending:
        controller.store._client().xadd(RedisMarketStore.stream_key(AAPL), fields)
    assert sweeper.drain_transitions(controller.store, [AAPL]) == 0
    events = list(MarketEvent.objects.order_by("at").values_list("to_status", "reason"))
    assert events == [
        ("limit_state", "LULD_LIMIT_STATE_UPPER"),
        ("paused", "LULD_PAUSE"),
        ("close_only", "ORACLE_STALE"),
    ]
