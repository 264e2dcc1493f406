"""Generate the shipped replay tapes, deterministically:
``python risk/markets/tapes/make_tapes.py``.

Two tapes (issue 6, "Replay"), each a CSV ``ts,instrument,source,price`` in time order:

``quiet_week.csv`` -- Thursday 12 November 2026 20:00 ET to Sunday 15 November 20:30 ET:
an overnight, a full Friday (pre-market, regular, after-hours) and a weekend of thin book
prints, with prices wandering a few basis points. Two small events keep it honest: at
11:00:10 AAPL's feed ticks up 2.6% and its book prints through the upper band, back inside
8 s later (limit state, then open); and AAPL's feed skips three minutes after hours
(close-only while stale).

``crash_2025_10_10.csv`` -- Friday 10 October 2025, shaped like RULES.md §5:

- a gap: TSLA's feed gaps 12% down at 09:24 ET pre-market and its book follows 10 s later
  -> close-only while the two disagree, then the limit state, a 5-minute LULD pause, reopen;
- a cascade in the index: SPY falls 7% by 13:58 ET (market-wide level 1: every equity-like
  market halted 15 minutes) and 13% by 14:41 (level 2), recovering to -9% by the close;
- a stale feed: NVDA's oracle stops at 15:00 ET for ten minutes -> close-only;
- a cascade in BTC at 21:15 UTC (17:15 ET): -5% within a second (velocity pause), then
  through the band (limit state, LULD pause, reopen), about -14% in all;
- a thin market printing near zero: USTB-RWA's book prints 0.0100 (refused as absurd),
  then 88.0000, 12% under its oracle (close-only for the divergence, the LULD limit state
  beneath it), and is back 5 s later.

Prices are Decimal throughout; the noise is a seeded generator, so a re-run writes the same
bytes.
"""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
NEW_YORK = ZoneInfo("America/New_York")
TICKS = {
    "AAPL-PERP": Decimal("0.01"),
    "NVDA-PERP": Decimal("0.01"),
    "TSLA-PERP": Decimal("0.01"),
    "SPY-PERP": Decimal("0.01"),
    "BTC-PERP": Decimal("0.5"),
    "USTB-RWA": Decimal("0.0001"),
}
Row = tuple[datetime, int, str, str, Decimal]


def et(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    moment = start
    while moment < end:
        yield moment
        moment += step


def path(knots: list[tuple[str, str]]) -> Callable[[datetime], Decimal]:
    """A price path through (New York time, price) knots, linear in between."""
    points = [(et(moment), Decimal(price)) for moment, price in knots]

    def price_at(moment: datetime) -> Decimal:
        if moment <= points[0][0]:
            return points[0][1]
        for (t0, p0), (t1, p1) in itertools.pairwise(points):
            if moment <= t1:
                fraction = Decimal((moment - t0) // timedelta(milliseconds=1)) / Decimal(
                    (t1 - t0) // timedelta(milliseconds=1)
                )
                return p0 + (p1 - p0) * fraction
        return points[-1][1]

    return price_at


class Tape:
    def __init__(self, seed: int) -> None:
        self.rows: list[Row] = []
        self.random = random.Random(seed)

    def add(self, moment: datetime, symbol: str, source: str, price: Decimal) -> None:
        tick = TICKS[symbol]
        rounded = (price / tick).to_integral_value(ROUND_HALF_EVEN) * tick
        self.rows.append((moment, len(self.rows), symbol, source, rounded))

    def feed(
        self,
        symbol: str,
        source: str,
        moments: Iterator[datetime],
        price_at: Callable[[datetime], Decimal],
        noise_bp: int = 2,
    ) -> None:
        """Prices along a path with a few basis points of seeded noise."""
        for moment in moments:
            wobble = Decimal(self.random.randint(-noise_bp, noise_bp)) / Decimal(10_000)
            self.add(moment, symbol, source, price_at(moment) * (1 + wobble))

    def write(self, name: str, header: str) -> Path:
        target = HERE / name
        with target.open("w", newline="") as handle:
            for line in header.strip().removeprefix("-- ").splitlines():
                handle.write(f"# {line}\n")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["ts", "instrument", "source", "price"])
            for moment, _, symbol, source, price in sorted(self.rows):
                stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                writer.writerow([stamp, symbol, source, str(price)])
        return target


def quiet_week() -> Path:
    tape = Tape(seed=20261113)
    thursday_evening, friday_open = et("2026-11-12 20:00"), et("2026-11-13 09:30")
    friday_close, weekend = et("2026-11-13 16:00"), et("2026-11-13 20:00")
    sunday_evening, end = et("2026-11-15 20:00"), et("2026-11-15 20:30")
    levels = {"AAPL-PERP": "230.00", "SPY-PERP": "670.00"}
    seconds = timedelta(seconds=1)
    for symbol, level in levels.items():
        flat = path([("2026-11-12 20:00", level)])
        tape.add(thursday_evening, symbol, "close", Decimal(level))
        tape.feed(
            symbol, "book", every(thursday_evening, et("2026-11-13 04:00"), 600 * seconds), flat
        )
        premarket = every(et("2026-11-13 03:58"), et("2026-11-13 09:00"), 60 * seconds)
        tape.feed(symbol, "external", premarket, flat)
        tape.feed(symbol, "book", every(et("2026-11-13 04:00:30"), friday_open, 60 * seconds), flat)
        tape.feed(
            symbol, "external", every(et("2026-11-13 09:00"), friday_close, 20 * seconds), flat
        )
        tape.feed(
            symbol, "book", every(friday_open + 10 * seconds, friday_close, 20 * seconds), flat
        )
        tape.add(friday_close, symbol, "close", Decimal(level))
        after_hours = [
            m
            for m in every(friday_close, weekend, 60 * seconds)
            if symbol != "AAPL-PERP" or not et("2026-11-13 17:00") < m < et("2026-11-13 17:03")
        ]
        tape.feed(symbol, "external", iter(after_hours), flat)
        tape.feed(symbol, "book", every(friday_close + 30 * seconds, weekend, 60 * seconds), flat)
        tape.feed(symbol, "book", every(weekend, sunday_evening, 900 * seconds), flat)
        tape.feed(symbol, "book", every(sunday_evening, end + seconds, 600 * seconds), flat)
    spike = et("2026-11-13 11:00:10")
    tape.rows = [row for row in tape.rows if not (row[0] == spike and row[2] == "AAPL-PERP")]
    tape.add(spike, "AAPL-PERP", "external", Decimal("236.00"))
    tape.add(spike, "AAPL-PERP", "book", Decimal("241.60"))
    tape.add(et("2026-11-13 11:00:18"), "AAPL-PERP", "book", Decimal("230.05"))
    return tape.write("quiet_week.csv", __doc__.split("``crash")[0].split("``quiet_week.csv``")[1])


def crash() -> Path:
    tape = Tape(seed=20251010)
    start, gap, close, end = (
        et("2025-10-10 09:20"),
        et("2025-10-10 09:24"),
        et("2025-10-10 16:00"),
        et("2025-10-10 17:30"),
    )
    seconds = timedelta(seconds=1)
    closes = {
        "SPY-PERP": "671.00",
        "AAPL-PERP": "254.00",
        "NVDA-PERP": "192.50",
        "TSLA-PERP": "435.50",
    }
    index = path(
        [
            ("2025-10-10 09:20", "670.50"),
            ("2025-10-10 13:30", "668.00"),
            ("2025-10-10 13:58", "623.50"),
            ("2025-10-10 14:13", "612.00"),
            ("2025-10-10 14:41", "583.50"),
            ("2025-10-10 15:30", "610.60"),
            ("2025-10-10 17:30", "609.00"),
        ]
    )
    stock_moves = {
        symbol: path(
            [
                ("2025-10-10 09:20", level),
                ("2025-10-10 13:30", level),
                ("2025-10-10 14:41", str(Decimal(level) * Decimal("0.90"))),
                ("2025-10-10 15:30", str(Decimal(level) * Decimal("0.93"))),
            ]
        )
        for symbol, level in closes.items()
        if symbol != "SPY-PERP"
    }
    tsla = stock_moves["TSLA-PERP"]
    stock_moves["TSLA-PERP"] = lambda m: tsla(m) * (Decimal("0.88") if m >= gap else 1)
    for symbol, level in closes.items():
        price_at = index if symbol == "SPY-PERP" else stock_moves[symbol]
        externals = every(start, close, 20 * seconds)
        if symbol == "NVDA-PERP":
            stale = (et("2025-10-10 15:00"), et("2025-10-10 15:10"))
            externals = (m for m in externals if not stale[0] <= m < stale[1])
        tape.feed(symbol, "external", externals, price_at)
        tape.add(start, symbol, "close", Decimal(level))
        if symbol != "SPY-PERP":
            tape.feed(symbol, "book", every(start + 10 * seconds, close, 20 * seconds), price_at)
        tape.add(close, symbol, "close", price_at(close))
        tape.feed(symbol, "external", every(close + 20 * seconds, end, 60 * seconds), price_at)
        if symbol != "SPY-PERP":
            tape.feed(symbol, "book", every(close + 50 * seconds, end, 60 * seconds), price_at)
    btc = path(
        [
            ("2025-10-10 16:50", "121500"),
            ("2025-10-10 17:10", "121200"),
            ("2025-10-10 17:14:50", "119000"),
            ("2025-10-10 17:15:00", "117000"),
            ("2025-10-10 17:15:20", "103000"),
            ("2025-10-10 17:16:00", "104000"),
            ("2025-10-10 17:30", "104500"),
        ]
    )
    tape.feed("BTC-PERP", "external", every(et("2025-10-10 16:50"), end, 10 * seconds), btc)
    tape.feed("BTC-PERP", "book", every(et("2025-10-10 16:50:05"), end, 10 * seconds), btc)
    tape.add(et("2025-10-10 17:15:00.000"), "BTC-PERP", "book", Decimal("117000"))
    tape.add(et("2025-10-10 17:15:00.600"), "BTC-PERP", "book", Decimal("110800"))
    flat_bill = path([("2025-10-10 17:00", "100.0000")])
    tape.feed("USTB-RWA", "external", every(et("2025-10-10 17:00"), end, 30 * seconds), flat_bill)
    tape.feed("USTB-RWA", "book", every(et("2025-10-10 17:00:15"), end, 30 * seconds), flat_bill)
    tape.add(et("2025-10-10 17:16:01"), "USTB-RWA", "book", Decimal("0.0100"))
    tape.add(et("2025-10-10 17:17:01"), "USTB-RWA", "book", Decimal("88.0000"))
    tape.add(et("2025-10-10 17:17:06"), "USTB-RWA", "book", Decimal("99.9900"))
    header = __doc__.split("``crash_2025_10_10.csv``")[1].split("Prices are Decimal")[0]
    return tape.write("crash_2025_10_10.csv", header)


if __name__ == "__main__":
    for written in (quiet_week(), crash()):
        print(f"wrote {written}")
