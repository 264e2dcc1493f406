"""The demo's live market (``make run`` starts it; ``DEMO_FEED=0`` or production settings
keep it off): ticks and demo traders' orders through the public API, once a second, until
stopped. What it does is in ``console/demo_feed/``; its log is ``var/log/demo-feed.log``."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.demo_feed.feed import EPOCH, DemoFeed, Tally, step_index
from console.demo_feed.keys import feed_keys
from console.demo_feed.markets import demo_instruments
from console.demo_feed.venue import HttpVenue
from console.demo_feed.walk import STEP_SECONDS
from core import clock

logger = logging.getLogger("gatehouse.demo_feed")
SUMMARY_SECONDS = 60
READY_WAIT_SECONDS = 300


class Command(BaseCommand):
    help = "Run the demo market feed and demo traders against a running Gatehouse."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=f"http://127.0.0.1:{settings.PORT}")
        parser.add_argument("--seed", type=int, default=settings.DEMO_FEED_SEED)
        parser.add_argument(
            "--steps", type=int, default=0, help="stop after this many steps (0: run until stopped)"
        )

    def handle(self, *args, url, seed, steps, **options):
        if not settings.DEMO_FEED:
            raise CommandError("the demo feed is off (DEMO_FEED=0, or production settings)")
        # make run starts the feed with the web server: wait for it before anything else
        venue = HttpVenue(url)
        if not venue.wait_until_ready(READY_WAIT_SECONDS):
            raise CommandError(f"{url}/readyz did not answer 200 within {READY_WAIT_SECONDS} s")
        instruments = demo_instruments()
        if not instruments:
            raise CommandError("no demo instruments: run load_demo_data first")
        now = clock.now()
        feed = DemoFeed(
            venue,
            feed_keys(settings.VAR_DIR / "demo-feed-keys.json", now),
            instruments,
            seed=seed,
            order_seconds=settings.DEMO_FEED_ORDER_SECONDS,
            episode_minutes=settings.DEMO_FEED_EPISODE_MINUTES,
            run_id=now.strftime("%Y%m%dT%H%M%S"),
        )
        feed.start(now)
        logger.info(
            "demo feed on %s: %d instruments, seed %d, an order every %.1f s, an episode every "
            "%.0f min per instrument",
            url,
            len(instruments),
            seed,
            settings.DEMO_FEED_ORDER_SECONDS,
            settings.DEMO_FEED_EPISODE_MINUTES,
        )
        tally, since, done = Tally(), time.monotonic(), 0
        while not steps or done < steps:
            tally.add(feed.step(clock.now()))
            done += 1
            elapsed = time.monotonic() - since
            if elapsed >= SUMMARY_SECONDS:
                level = logging.WARNING if tally.errors else logging.INFO
                logger.log(level, "last %.0f s: %s", elapsed, tally.summary(elapsed))
                tally, since = Tally(), time.monotonic()
            now = clock.now()
            next_step = EPOCH + timedelta(seconds=(step_index(now) + 1) * STEP_SECONDS)
            time.sleep(max(0.0, (next_step - now).total_seconds()))
