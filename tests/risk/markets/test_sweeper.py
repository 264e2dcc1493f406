"""The sweeper makes transitions durable exactly once and samples prices once a minute; it
is never needed for a state to be right."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from core.redis_client import instrument_key
from risk import tasks
from risk.markets import sweeper
from risk.markets.live import live_controller
from risk.models import MarketEvent, PriceSample
from tests.risk.clock import et, ms
from tests.risk.market_fixtures import BOOK, CLOSE, EXTERNAL, tick

pytestmark = pytest.mark.django_db

T0 = et("2026-11-24 10:00")
PRIOR_CLOSE = et("2026-11-23 16:00")


def open_all(controller, at=T0):
    for symbol, price in (("AAPL-PERP", "100"), ("SPY-PERP", "5000"), ("TSLA-PERP", "400")):
        controller.apply_ticks(
            symbol,
            [tick(CLOSE, price, PRIOR_CLOSE), tick(EXTERNAL, price, at), tick(BOOK, price, at)],
            at,
        )


def test_sweeps_announce_deadline_transitions_exactly_once(demo_instruments):
    controller = live_controller()
    open_all(controller)
    controller.apply_ticks(
        "AAPL-PERP", [tick(EXTERNAL, "100", T0 + ms(5)), tick(BOOK, "105", T0 + ms(5))], T0 + ms(5)
    )
    assert MarketEvent.objects.count() == 0
    report = sweeper.sweep(T0 + timedelta(seconds=20))
    assert report.events_written >= 2
    aapl = list(
        MarketEvent.objects.filter(instrument="AAPL-PERP")
        .order_by("at")
        .values_list("to_status", "reason", "at")
    )
    assert aapl[:2] == [
        ("limit_state", "LULD_LIMIT_STATE_UPPER", T0 + ms(5)),
        ("paused", "LULD_PAUSE", T0 + ms(15_005)),
    ]
    count = MarketEvent.objects.count()
    assert sweeper.sweep(T0 + timedelta(seconds=20)).events_written == 0
    assert MarketEvent.objects.count() == count


def test_prices_are_sampled_once_a_minute(demo_instruments):
    controller = live_controller()
    open_all(controller)
    sweeper.sweep(T0 + timedelta(seconds=1))
    sweeper.sweep(T0 + timedelta(seconds=2))
    samples = PriceSample.objects.filter(instrument="AAPL-PERP")
    assert samples.count() == 1
    sample = samples.get()
    assert (sample.at, sample.reference_price, sample.band_lower) == (T0, 100, 95)
    sweeper.sweep(T0 + timedelta(seconds=61))
    assert samples.count() == 2
    assert PriceSample.objects.count() == 2 * len(demo_instruments)


def test_a_sample_keeps_the_book_price_while_it_is_fresh(demo_instruments):
    """The chart draws the venue's own price beside the reference and band; a book mark
    older than the reference counts one (a minute) is a gap, not a flat line."""
    controller = live_controller()
    open_all(controller)
    controller.apply_ticks("AAPL-PERP", [tick(BOOK, "100.37", T0 + ms(500))], T0 + ms(500))
    sweeper.sweep(T0 + timedelta(seconds=30))
    sweeper.sweep(T0 + timedelta(seconds=121))  # the book mark is 2 minutes old by now
    books = list(
        PriceSample.objects.filter(instrument="AAPL-PERP")
        .order_by("at")
        .values_list("at", "book_price")
    )
    assert books == [(T0, Decimal("100.37")), (T0 + timedelta(minutes=2), None)]
    never_booked = PriceSample.objects.filter(instrument="NVDA-PERP").first()
    assert never_booked is not None and never_booked.book_price is None


def test_an_interrupted_market_wide_fan_out_is_repaired(demo_instruments, redis_conn):
    controller = live_controller()
    open_all(controller)
    drop = T0 + ms(10)
    hash_key = instrument_key("TSLA-PERP", "market")
    before_fan_out = redis_conn.hgetall(hash_key)
    update = controller.apply_ticks("SPY-PERP", [tick(EXTERNAL, "4600", drop)], drop)
    assert update.market_wide_level == 1
    redis_conn.delete(hash_key)
    redis_conn.hset(hash_key, mapping=before_fan_out)
    assert controller.view("TSLA-PERP", drop + ms(1)).reason != "MWCB_LEVEL_1"
    sweeper.sweep(drop + ms(2))
    assert controller.view("TSLA-PERP", drop + ms(2)).reason == "MWCB_LEVEL_1"


def test_the_task_and_its_schedule(demo_instruments):
    assert tasks.realtime_sweep_markets.run() >= 0
    scheduled = PeriodicTask.objects.get(task="risk.tasks.realtime_sweep_markets")
    assert (scheduled.queue, scheduled.interval.every, scheduled.interval.period) == (
        "realtime",
        1,
        "seconds",
    )


def test_a_sweep_in_progress_is_not_doubled(demo_instruments, redis_conn):
    redis_conn.set(sweeper.SWEEP_LOCK, "1")
    assert sweeper.sweep(T0).skipped
