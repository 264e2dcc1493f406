"""One step of the demo's outside world: the fair prices walk, episodes start and play, the
ticks due in each instrument's session go to ``POST /market-data/ticks``, maybe one trader's
order goes to ``POST /pretrade/check``, and accepted orders whose time has come are filled or
cancelled (``POST /orders/{id}/fills``, ``/cancel``).

``DemoFeed.step(now)`` is the unit: the command calls it once a second with the system clock;
the tests call it with a manual clock against the real views and a real Redis. Everything
random is drawn from (seed, instrument, step) (``walk``, ``episodes``, ``traders``); what the
feed keeps between steps is only what a real feed would: its prices, the venue's last answers,
the episodes under way and the orders it is still to fill or cancel.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from console.demo_feed import episodes, schedule, traders
from console.demo_feed.keys import FeedKeys
from console.demo_feed.markets import DemoInstrument, Quote
from console.demo_feed.venue import Venue
from console.demo_feed.walk import STEP_SECONDS, WALKS, step_random, to_ticks, walk_step
from core.decimals import plain

logger = logging.getLogger("gatehouse.demo_feed")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CATCH_UP_STEPS = 3600
"""After a long stall (a suspended laptop) the walk catches up at most an hour of steps."""
GAP = timedelta(milliseconds=500)
"""Where the first print of a sudden move goes when there was no step before it."""
BOOK_PREMIUM = Decimal("0.0002")
"""The venue's book mark sits within ±2 bp of the underlying's price."""


def step_index(now: datetime) -> int:
    """The step an instant falls in: whole ``STEP_SECONDS`` since the Unix epoch."""
    return (now - EPOCH) // timedelta(seconds=STEP_SECONDS)


@dataclass(frozen=True, slots=True)
class Decision:
    order: traders.DemoOrder
    decision: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StepReport:
    step: int
    ticks_sent: int = 0
    ticks_ignored: int = 0
    states: dict[str, str] = field(default_factory=dict)
    episodes_started: tuple[episodes.Episode, ...] = ()
    decisions: tuple[Decision, ...] = ()
    fills: int = 0
    cancels: int = 0
    errors: tuple[str, ...] = ()


class DemoFeed:
    def __init__(
        self,
        venue: Venue,
        keys: FeedKeys,
        instruments: Iterable[DemoInstrument],
        *,
        seed: int,
        order_seconds: float,
        episode_minutes: float,
        run_id: str,
    ) -> None:
        self.venue, self.keys = venue, keys
        self.instruments = {instrument.symbol: instrument for instrument in instruments}
        self.seed, self.order_seconds, self.episode_minutes = seed, order_seconds, episode_minutes
        self.run_id = run_id
        self.price_ticks: dict[str, int] = {}
        self.quotes: dict[str, Quote] = {}
        self.episodes: dict[str, episodes.Episode] = {}
        self.pending: episodes.PendingEpisode | None = None
        self.follow_ups: list[traders.FollowUp] = []
        self.positions: dict[tuple[str, str], Decimal] = {}
        self.last_step: int | None = None
        self.last_now: datetime | None = None

    # --- state ----------------------------------------------------------------------------

    def price(self, symbol: str) -> Decimal:
        """The fair price of ``symbol`` now (the walk, before any episode)."""
        return self.price_ticks[symbol] * self.instruments[symbol].tick_size

    def start(self, now: datetime) -> None:
        """Anchor each walk at the venue's current reference (so a restarted feed carries on
        where the market is), else at the instrument's opening price; schedule the first
        episode a minute from now."""
        for symbol, instrument in self.instruments.items():
            status, body = self.venue.request(
                "GET", f"/api/v1/markets/{symbol}/state", self.keys.marketdata
            )
            anchor = instrument.opening_price
            if status == 200:
                self.quotes[symbol] = Quote.from_contract(body)
                anchor = self.quotes[symbol].reference or anchor
            self.price_ticks[symbol] = to_ticks(anchor, instrument.tick_size)
        self.last_step = step_index(now) - 1
        eligible = [
            symbol
            for symbol, instrument in self.instruments.items()
            if episodes.has_episodes(instrument.product_class, instrument.is_market_index)
        ]
        self.pending = episodes.first_episode(self.seed, eligible, step_index(now))

    # --- one step -------------------------------------------------------------------------

    def step(self, now: datetime) -> StepReport:
        if self.last_step is None:
            self.start(now)
        assert self.last_step is not None
        step = step_index(now)
        self._walk_to(step)
        started = self._start_episodes(step)
        ticks = [tick for symbol in self.instruments for tick in self._ticks(symbol, step, now)]
        errors: list[str] = []
        ignored = 0
        states: dict[str, str] = {}
        if ticks:
            try:
                status, body = self.venue.request(
                    "POST", "/api/v1/market-data/ticks", self.keys.marketdata, {"ticks": ticks}
                )
            except OSError as exc:
                status, body = 0, {"error": {"message": str(exc)}}
            if status == 200:
                for state in body["states"]:
                    self.quotes[state["symbol"]] = Quote.from_contract(state)
                    states[state["symbol"]] = state["state"]
                ignored = len(body["ignored"])
            else:
                errors.append(f"ticks: {status} {body.get('error', {}).get('message', '')}")
        decisions = self._trade(step, errors)
        fills, cancels = self._follow_up(step, errors)
        self.last_step, self.last_now = max(step, self.last_step), now
        return StepReport(
            step, len(ticks), ignored, states, started, decisions, fills, cancels, tuple(errors)
        )

    def _walk_to(self, step: int) -> None:
        assert self.last_step is not None
        first = max(self.last_step + 1, step - MAX_CATCH_UP_STEPS + 1)
        for symbol, instrument in self.instruments.items():
            params = WALKS.get(instrument.product_class, WALKS["equity_perp"])
            for each in range(first, step + 1):
                self.price_ticks[symbol] = walk_step(
                    self.seed, symbol, each, self.price_ticks[symbol], params
                )

    def _start_episodes(self, step: int) -> tuple[episodes.Episode, ...]:
        """End the episodes that are over; start new ones on open markets with a band."""
        started = []
        for symbol, instrument in self.instruments.items():
            running = self.episodes.get(symbol)
            if running is not None and running.is_over(step):
                del self.episodes[symbol]
                running = None
            quote = self.quotes.get(symbol)
            if (
                running is not None
                or quote is None
                or quote.state != "open"
                or quote.band is None
                or not episodes.has_episodes(instrument.product_class, instrument.is_market_index)
            ):
                continue
            pending = self.pending
            if pending is not None and pending.symbol == symbol and step >= pending.not_before:
                episode = pending.start(step)
                self.pending = None
            else:
                episode = episodes.episode_starting(self.seed, symbol, step, self.episode_minutes)
            if episode is not None:
                self.episodes[symbol] = episode
                started.append(episode)
                logger.info(
                    "episode: %s %s %s",
                    symbol,
                    episode.kind.value,
                    "up" if episode.direction > 0 else "down",
                )
        return tuple(started)

    def _ticks(self, symbol: str, step: int, now: datetime) -> list[dict]:
        instrument = self.instruments[symbol]
        fair = self.price(symbol)
        episode = self.episodes.get(symbol)
        quote = self.quotes.get(symbol)
        band = quote.band if quote is not None else None
        price = episode.price(step, fair, band) if episode is not None else fair
        due = schedule.ticks_due(instrument.calendar, self.last_now, now, step)
        premium = (2 * Decimal(step_random(self.seed, symbol, step, "book").random()) - 1) * (
            BOOK_PREMIUM
        )

        def tick(source: str, value: Decimal, at: datetime) -> dict:
            return {
                "instrument": symbol,
                "price": plain(instrument.on_tick(value)),
                "ts": _stamp(at),
                "source": source,
            }

        ticks = []
        if due.close_at is not None:
            ticks.append(tick("close", fair, due.close_at))
        if episode is not None and episode.is_gap(step):
            # The sudden move in two prints half a step apart, both inside the velocity
            # look-back: the last price before it, then the price after it.
            gap_at = now - (now - self.last_now) / 2 if self.last_now else now - GAP
            before = episode.price(step - 1, fair, band)
            if due.external:
                ticks.append(tick("external", before, gap_at))
            ticks.append(tick("book", before, gap_at))
        if due.external:
            ticks.append(tick("external", price, now))
        ticks.append(tick("book", price * (1 + premium), now))
        return ticks

    def _trade(self, step: int, errors: list[str]) -> tuple[Decision, ...]:
        if not traders.order_arrives(self.seed, step, self.order_seconds):
            return ()
        prices = {symbol: self.price(symbol) for symbol in self.instruments}
        order = traders.order_at(
            self.seed, step, self.run_id, self.instruments, self.quotes, prices, self.positions
        )
        product = self.instruments[order.instrument].product_class
        try:
            for check in traders.access_checks_at(self.seed, step, order, product):
                status, body = self.venue.request(
                    "POST", "/api/v1/access/check", self.keys.pretrade, check
                )
                if status != 200:
                    errors.append(f"access check {check}: {status} {body}")
            status, body = self.venue.request(
                "POST", "/api/v1/pretrade/check", self.keys.pretrade, order.body()
            )
        except OSError as exc:
            errors.append(f"order {order.order_id}: {exc}")
            return ()
        if status != 200:
            errors.append(f"order {order.order_id}: {status} {body}")
            return ()
        codes = tuple(reason["code"] for reason in body["reasons"])
        if body["decision"] == "accept":
            self.follow_ups.append(traders.follow_up_for(self.seed, order, step))
        return (Decision(order, body["decision"], codes),)

    def _follow_up(self, step: int, errors: list[str]) -> tuple[int, int]:
        due = [f for f in self.follow_ups if f.due_step <= step]
        self.follow_ups = [f for f in self.follow_ups if f.due_step > step]
        fills = cancels = 0
        for follow_up in due:
            order = follow_up.order
            account = order.trader.account_id
            lot = self.instruments[order.instrument].lot_size
            quantity = follow_up.fill_quantity(lot)
            try:
                if follow_up.kind is not traders.FollowUpKind.CANCEL and quantity > 0:
                    status, body = self.venue.request(
                        "POST",
                        f"/api/v1/orders/{order.order_id}/fills",
                        self.keys.pretrade,
                        {
                            "fill_id": f"{order.order_id}-1",
                            "account_id": account,
                            "quantity": plain(quantity),
                            "price": plain(order.fill_price),
                        },
                    )
                    if status == 200:
                        self.positions[(account, order.instrument)] = Decimal(body["position"])
                        fills += 1
                    else:
                        errors.append(f"fill {order.order_id}: {status} {body}")
                if follow_up.kind is not traders.FollowUpKind.FILL:
                    status, body = self.venue.request(
                        "POST",
                        f"/api/v1/orders/{order.order_id}/cancel",
                        self.keys.pretrade,
                        {"account_id": account},
                    )
                    if status == 200:
                        cancels += 1
                    else:
                        errors.append(f"cancel {order.order_id}: {status} {body}")
            except OSError as exc:
                errors.append(f"follow-up {order.order_id}: {exc}")
        return fills, cancels


def _stamp(at: datetime) -> str:
    """RFC 3339 UTC with microseconds: two prints within a millisecond stay distinct."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Tally:
    """What the feed did since the last summary, for its log (one line a minute)."""

    def __init__(self) -> None:
        self.steps = self.ticks = self.ignored = self.fills = self.cancels = 0
        self.decisions: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.episodes: list[str] = []
        self.errors: list[str] = []

    def add(self, report: StepReport) -> None:
        self.steps += 1
        self.ticks += report.ticks_sent
        self.ignored += report.ticks_ignored
        self.fills += report.fills
        self.cancels += report.cancels
        for decision in report.decisions:
            self.decisions[decision.decision] += 1
            self.rejects.update(decision.codes)
        self.episodes += [f"{e.symbol} {e.kind.value}" for e in report.episodes_started]
        self.errors += report.errors

    def summary(self, seconds: float) -> str:
        rejects = ", ".join(f"{code} {n}" for code, n in self.rejects.most_common())
        line = (
            f"{self.ticks} ticks ({self.ticks / max(seconds, 1):.1f}/s, {self.ignored} ignored), "
            f"{sum(self.decisions.values())} orders ({self.decisions['accept']} accepted, "
            f"{self.decisions['reject']} rejected{'; reasons: ' + rejects if rejects else ''}), "
            f"{self.fills} fills, {self.cancels} cancels"
        )
        if self.episodes:
            line += f"; episodes: {', '.join(self.episodes)}"
        if self.errors:
            line += f"; {len(self.errors)} errors, last: {self.errors[-1]}"
        return line
