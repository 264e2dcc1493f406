"""What the console's charts draw, built from rows the selectors read (DESIGN.md, "Console":
charts where a picture says more than a table).

The pages draw with uPlot, vendored beside ``console.js`` (``console/static/console/``), from
a ``<script type="application/json">`` block written by ``json_script``: the
Content-Security-Policy lets it stand because it is never executed, and the drawing code is
our own static file (``charts.js``). Beside every chart the page keeps a table of the same
figures, open when no script runs.

Prices travel as strings, written at the instrument's tick by ``risk.markets.display`` (the
function every page and report writes prices with), so a hover shows exactly what the
tables show; the script turns them into numbers only to place them on the canvas. Nothing
here turns a price into a float. Instants travel as Unix seconds (a float carries a
millisecond exactly enough to place an event; no instant is decided on here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from core.clock import isoformat_z
from risk.markets import display

# --- the market chart --------------------------------------------------------------------

RANGES = (1, 6, 24, 72)
"""The windows an officer can pick on the market page, in hours (the drag-zoom goes finer)."""
DEFAULT_HOURS = 24

MAX_POINTS = 2000
"""The most samples one market chart carries. The sweeper samples once a minute, so 24 h is
1,440 and goes as it is; 72 h (4,320) is thinned by :func:`downsample`."""

MAX_SAMPLES_READ = 20_000
"""The most samples read for one chart: 72 h at the sweeper's rate is 4,320, so this bounds
the read only if something ever samples far faster (the chart then says it was cut)."""

TABLE_STEPS = {
    1: timedelta(minutes=1),
    6: timedelta(minutes=5),
    24: timedelta(minutes=15),
    72: timedelta(hours=1),
}
"""The step of the table beside the chart: 60 to 96 rows whatever the window."""


class Sample(NamedTuple):
    """One ``risk.models.PriceSample``, as the chart reads it (``values_list`` order)."""

    at: datetime
    state: str
    reference: Decimal | None
    band_lower: Decimal | None
    band_upper: Decimal | None
    book: Decimal | None


SAMPLE_FIELDS = ("at", "state", "reference_price", "band_lower", "band_upper", "book_price")

_EXTREMES_OF = ("reference", "book")
"""The lines whose lowest and highest point in each bucket survive downsampling: the
reference (the band moves with it) and the venue's own price, whose spike into the band is
what trips a limit state."""

_KEPT_PER_BUCKET = 2 + 3 * len(_EXTREMES_OF)
"""First and last, then per line its lowest, its highest and its first gap."""


def hours_of(value: str | None) -> int:
    """The window asked for (``?hours=``); anything else is the default."""
    return int(value) if value in {str(h) for h in RANGES} else DEFAULT_HOURS


def downsample(
    samples: Sequence[Sample], start: datetime, end: datetime, max_points: int = MAX_POINTS
) -> list[Sample]:
    """At most ``max_points`` of ``samples`` (in time order), chosen so the picture keeps
    its shape: the window is cut into equal buckets and each keeps its first and last
    sample, the samples where the reference and the book price are lowest and highest, and
    the first sample where either is missing, so a gap stays a gap (M4 aggregation, Jugel
    et al., VLDB 2014, with gaps). Every kept point is a real sample, never an average."""
    if len(samples) <= max_points:
        return list(samples)
    buckets = max(1, max_points // _KEPT_PER_BUCKET)
    width = (end - start) / buckets
    grouped: list[list[Sample]] = [[] for _ in range(buckets)]
    for sample in samples:
        index = int((sample.at - start) / width) if width else 0
        grouped[min(max(index, 0), buckets - 1)].append(sample)
    kept: list[Sample] = []
    for rows in grouped:
        if rows:
            kept.extend(rows[i] for i in sorted(_kept_indexes(rows)))
    return kept


def _kept_indexes(rows: Sequence[Sample]) -> set[int]:
    indexes = {0, len(rows) - 1}
    for name in _EXTREMES_OF:
        known = [(getattr(row, name), i) for i, row in enumerate(rows)]
        present = [(value, i) for value, i in known if value is not None]
        if present:
            indexes.add(min(present)[1])
            indexes.add(max(present, key=lambda pair: (pair[0], -pair[1]))[1])
        gap = next((i for value, i in known if value is None), None)
        if gap is not None:
            indexes.add(gap)
    return indexes


def _epoch(moment: datetime) -> float | int:
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def _price(value: Decimal | None, tick: Decimal) -> str | None:
    return None if value is None else display.price(value, tick)


def tick_places(tick: Decimal) -> int:
    return max(0, -tick.normalize().as_tuple().exponent)


def market_chart(
    *,
    symbol: str,
    tick: Decimal,
    samples: Sequence[Sample],
    events: Iterable,
    start: datetime,
    end: datetime,
    hours: int,
    truncated: bool = False,
) -> dict:
    """The JSON the market page's chart draws: the window, each kept sample's instant,
    state and prices (strings at the tick), and the state changes (``MarketEvent``)."""
    points = downsample(samples, start, end)
    return {
        "symbol": symbol,
        "tick": display.price(tick, tick),
        "places": tick_places(tick),
        "hours": hours,
        "window": {"start": _epoch(start), "end": _epoch(end)},
        "t": [_epoch(p.at) for p in points],
        "state": [p.state for p in points],
        "reference": [_price(p.reference, tick) for p in points],
        "band_lower": [_price(p.band_lower, tick) for p in points],
        "band_upper": [_price(p.band_upper, tick) for p in points],
        "book": [_price(p.book, tick) for p in points],
        "events": [
            {
                "t": _epoch(e.at),
                "at": isoformat_z(e.at),
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
                "until": isoformat_z(e.until) if e.until else None,
            }
            for e in events
            if start <= e.at <= end
        ],
        "samples": len(samples),
        "downsampled": len(points) < len(samples),
        "truncated": truncated,
    }


@dataclass(frozen=True)
class MarketTableRow:
    """One step of the table beside the market chart (what a browser without script
    shows): the reference's first, lowest, highest and last value in the step, and the
    band, book price and state at its last sample."""

    at: datetime
    samples: int
    first: Decimal | None
    low: Decimal | None
    high: Decimal | None
    last: Decimal | None
    band_lower: Decimal | None
    band_upper: Decimal | None
    book: Decimal | None
    state: str


def market_table(samples: Sequence[Sample], start: datetime, step: timedelta):
    """The samples summed up per ``step`` from ``start``, newest step first; steps without
    a sample are left out."""
    steps: dict[int, list[Sample]] = {}
    for sample in samples:
        steps.setdefault(int((sample.at - start) / step), []).append(sample)
    rows = []
    for index in sorted(steps, reverse=True):
        group = steps[index]
        known = [s.reference for s in group if s.reference is not None]
        last = group[-1]
        rows.append(
            MarketTableRow(
                at=start + index * step,
                samples=len(group),
                first=known[0] if known else None,
                low=min(known) if known else None,
                high=max(known) if known else None,
                last=known[-1] if known else None,
                band_lower=last.band_lower,
                band_upper=last.band_upper,
                book=last.book,
                state=last.state,
            )
        )
    return rows


# --- counts per bucket, stacked ----------------------------------------------------------

MAX_SERIES = 8
"""The most stacked series a chart shows; the rest are summed as "other" (colours stay
tellable apart and the legend fits)."""

OTHER = "other"


@dataclass(frozen=True)
class StackedCounts:
    """Counts per bucket and per key (a reject's reason, a denial's jurisdiction), ready to
    stack: ``series`` in stacking order (largest total at the bottom), ``totals`` per
    bucket, and ``None`` for the buckets still ahead of now."""

    starts: list[datetime]
    step: timedelta
    series: list[tuple[str, list[int | None]]]
    totals: list[int | None]

    def to_json(self, *, title: str, unit: str, note: str = "") -> dict:
        half = self.step / 2
        return {
            "title": title,
            "unit": unit,
            "note": note,
            "step": int(self.step.total_seconds()),
            # each bar stands over the middle of its bucket, so the hover finds the bucket
            # the pointer is over
            "t": [_epoch(start + half) for start in self.starts],
            "window": {
                "start": _epoch(self.starts[0]) if self.starts else 0,
                "end": _epoch(self.starts[-1] + self.step) if self.starts else 0,
            },
            "series": [{"label": label, "counts": counts} for label, counts in self.series],
            "totals": self.totals,
        }

    def table(self) -> list[dict]:
        """The buckets that counted anything, newest first, for the page's table."""
        rows = []
        for i in reversed(range(len(self.starts))):
            if self.totals[i]:
                rows.append(
                    {
                        "start": self.starts[i],
                        "counts": [counts[i] for _, counts in self.series],
                        "total": self.totals[i],
                    }
                )
        return rows

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.series]


def bucket_starts(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    starts, moment = [], start
    while moment < end:
        starts.append(moment)
        moment += step
    return starts


def stacked_counts(
    groups: Iterable[tuple[datetime, str, int]],
    *,
    starts: Sequence[datetime],
    step: timedelta,
    now: datetime,
    max_series: int = MAX_SERIES,
    totals: dict[datetime, int] | None = None,
) -> StackedCounts:
    """``groups`` are (bucket start, key, count) rows of a grouped query; every bucket of
    ``starts`` gets a count (0, or ``None`` once it begins after ``now``). ``totals``: the
    height of each bucket when it is not the sum of its keys (a reject failing two checks
    counts under both reasons, and once in the total)."""
    per_key: dict[str, Counter] = {}
    for start, key, n in groups:
        per_key.setdefault(key, Counter())[start] += n
    ranked = sorted(per_key, key=lambda key: (-sum(per_key[key].values()), key))
    shown, rest = ranked[:max_series], ranked[max_series:]
    if rest:  # "other" takes the place of the last shown key, so at most max_series in all
        shown, rest = ranked[: max_series - 1], ranked[max_series - 1 :]
        per_key[OTHER] = sum((per_key[key] for key in rest), Counter())
        shown.append(OTHER)
    ahead = [start > now for start in starts]
    series = [
        (key, [None if ahead[i] else per_key[key][start] for i, start in enumerate(starts)])
        for key in shown
    ]
    summed = [
        None
        if ahead[i]
        else (totals.get(start, 0) if totals is not None else sum(c[i] for _, c in series))
        for i, start in enumerate(starts)
    ]
    return StackedCounts(list(starts), step, series, summed)


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day (the console's days are UTC days)."""
    return datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)


def as_instant(day: date | datetime) -> datetime:
    """A grouped day (``TruncDate`` gives a ``date``) as the instant it began, UTC."""
    if isinstance(day, datetime):
        return day.astimezone(UTC)
    return datetime.combine(day, time.min, tzinfo=UTC)
