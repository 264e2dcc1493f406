"""Line charts as SVG, drawn on the server in plain Python.

The market page shows an instrument's reference price, its band and its state changes over
time (DESIGN.md, "Console": charts where a picture says more than a table). The chart is
markup the page embeds: no charting script to vendor, nothing for the Content-Security-Policy
to allow (colours are presentation attributes, not ``style``), and it prints and screenshots
the same everywhere. Values are turned into floats for *placement only*; nothing decides on
them.

Accessibility: the ``<svg>`` is ``role="img"`` with a ``<title>`` and a ``<desc>`` that says
in words what the chart shows (range, last value, the marked events), and colours are paired
with dash patterns so the lines are told apart without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

Number = float | int | Decimal

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 40


@dataclass(frozen=True)
class Series:
    """A line; a ``None`` value is a gap (no reference at that instant)."""

    name: str
    points: Sequence[tuple[datetime, Number | None]]
    stroke: str = "#1f4e8c"
    dash: str = ""
    width: float = 2.0


@dataclass(frozen=True)
class Band:
    """A shaded range between a lower and an upper line (the price band)."""

    name: str
    points: Sequence[tuple[datetime, Number | None, Number | None]]
    fill: str = "#9ecae1"
    opacity: float = 0.35


@dataclass(frozen=True)
class Marker:
    """A vertical line at an instant (a state change), labelled at the top."""

    at: datetime
    label: str
    stroke: str = "#b30000"


def _f(value: Number) -> float:
    return float(value)


def nice_step(span: float, target_ticks: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step giving about ``target_ticks`` ticks."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(target_ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return multiple * power
    return 10 * power


def value_ticks(low: float, high: float, target_ticks: int = 5) -> list[float]:
    step = nice_step(high - low, target_ticks)
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


_TIME_STEPS = [
    timedelta(seconds=s)
    for s in (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400)
]


def time_ticks(start: datetime, end: datetime, target_ticks: int = 6) -> list[datetime]:
    span = end - start
    step = next((s for s in _TIME_STEPS if span / s <= target_ticks), _TIME_STEPS[-1])
    while span / step > target_ticks:
        step *= 2
    seconds = step.total_seconds()
    epoch = start.timestamp()
    first = math.ceil(epoch / seconds) * seconds
    ticks, moment = [], start + timedelta(seconds=first - epoch)
    while moment <= end:
        ticks.append(moment)
        moment += step
    return ticks


def _time_label(moment: datetime, span: timedelta) -> str:
    return moment.strftime("%m-%d %H:%M" if span > timedelta(days=1) else "%H:%M")


def _fmt(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _runs(points):
    """Split a sequence into runs without gaps (a ``None`` anywhere in a point ends a run)."""
    run = []
    for point in points:
        if any(value is None for value in point[1:]):
            if run:
                yield run
            run = []
        else:
            run.append(point)
    if run:
        yield run


@dataclass(frozen=True)
class _Frame:
    """The plot area and the scales that map an instant and a value into it."""

    start: datetime
    end: datetime
    low: float
    high: float
    width: float
    height: float

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        return MARGIN_LEFT + (moment - self.start).total_seconds() / span * self.width

    def y(self, value: Number) -> float:
        return MARGIN_TOP + (self.high - _f(value)) / (self.high - self.low) * self.height


def line_chart(
    *,
    title: str,
    series: Sequence[Series] = (),
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    width: int = 760,
    height: int = 280,
    unit: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """The chart as one ``<svg>`` element (text, safe to embed: every label is escaped).
    The time axis spans the data and the markers, or [start, end] when given (a fixed
    window: a halt after the last sample is still drawn)."""
    instants = [p[0] for s in series for p in s.points] + [p[0] for b in bands for p in b.points]
    values = [_f(p[1]) for s in series for p in s.points if p[1] is not None]
    values += [_f(v) for b in bands for p in b.points for v in p[1:] if v is not None]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc" class="chart">'
        f'<title id="chart-title">{escape(title)}</title>'
    )
    if not instants or not values:
        return (
            head + '<desc id="chart-desc">No data to draw yet.</desc>'
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#444">'
            "No samples yet</text></svg>"
        )
    start = start or min(instants + [m.at for m in markers])
    end = end or max(instants + [m.at for m in markers])
    if end <= start:
        end = start + timedelta(minutes=1)
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.01 or 1.0
        low, high = low - pad, high + pad
    pad = (high - low) * 0.08
    frame = _Frame(
        start=start,
        end=end,
        low=low - pad,
        high=high + pad,
        width=width - MARGIN_LEFT - MARGIN_RIGHT,
        height=height - MARGIN_TOP - MARGIN_BOTTOM,
    )
    parts = [head, f'<desc id="chart-desc">{escape(_description(series, markers, unit))}</desc>']
    parts += _axes(frame)
    parts += _band_shapes(frame, bands)
    parts += _series_lines(frame, series)
    parts += _marker_lines(frame, markers)
    parts.append(_legend(series, bands, width))
    parts.append("</svg>")
    return "".join(parts)


def _axes(frame: _Frame) -> list[str]:
    """The plot's box, the value grid with its labels and the time ticks with theirs."""
    bottom = MARGIN_TOP + frame.height
    parts = [
        f'<rect x="{MARGIN_LEFT}" y="{MARGIN_TOP}" width="{frame.width}" height="{frame.height}" '
        'fill="#ffffff" stroke="#767676" stroke-width="1"/>'
    ]
    for tick in value_ticks(frame.low, frame.high):
        ty = frame.y(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + frame.width}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}" stroke="#e0e0e0" stroke-width="1"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#333">{escape(_fmt(tick))}</text>'
        )
    for tick in time_ticks(frame.start, frame.end):
        tx = frame.x(tick)
        label = _time_label(tick, frame.end - frame.start)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{bottom}" '
            f'y2="{bottom + 4}" stroke="#333" stroke-width="1"/>'
            f'<text x="{tx:.1f}" y="{bottom + 17}" text-anchor="middle" '
            f'font-size="11" fill="#333">{escape(label)}</text>'
        )
    return parts


def _band_shapes(frame: _Frame, bands: Sequence[Band]) -> list[str]:
    parts = []
    for band in bands:
        for run in _runs(band.points):
            upper = [f"{frame.x(t):.1f},{frame.y(hi):.1f}" for t, _, hi in run]
            lower = [f"{frame.x(t):.1f},{frame.y(lo):.1f}" for t, lo, _ in reversed(run)]
            parts.append(
                f'<polygon points="{" ".join(upper + lower)}" fill="{escape(band.fill)}" '
                f'fill-opacity="{band.opacity}" stroke="none"><title>{escape(band.name)}</title>'
                "</polygon>"
            )
    return parts


def _series_lines(frame: _Frame, series: Sequence[Series]) -> list[str]:
    """Each series as polylines over its runs of known values; a lone point as a dot."""
    parts = []
    for line in series:
        dash = f' stroke-dasharray="{escape(line.dash)}"' if line.dash else ""
        for run in _runs(line.points):
            if len(run) == 1:
                t, v = run[0]
                colour = escape(line.stroke)
                parts.append(
                    f'<circle cx="{frame.x(t):.1f}" cy="{frame.y(v):.1f}" r="2.5" fill="{colour}"/>'
                )
                continue
            coords = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in run)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{escape(line.stroke)}" '
                f'stroke-width="{line.width}"{dash}><title>{escape(line.name)}</title></polyline>'
            )
    return parts


def _marker_lines(frame: _Frame, markers: Sequence[Marker]) -> list[str]:
    parts = []
    for marker in markers:
        if not frame.start <= marker.at <= frame.end:
            continue
        mx = frame.x(marker.at)
        parts.append(
            f'<g class="marker"><line x1="{mx:.1f}" x2="{mx:.1f}" y1="{MARGIN_TOP}" '
            f'y2="{MARGIN_TOP + frame.height}" stroke="{escape(marker.stroke)}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/><text x="{mx + 3:.1f}" '
            f'y="{MARGIN_TOP - 8}" font-size="11" fill="{escape(marker.stroke)}">'
            f"{escape(marker.label)}</text>"
            f"<title>{escape(marker.label)} at {marker.at.isoformat()}</title></g>"
        )
    return parts


def _legend(series: Sequence[Series], bands: Sequence[Band], width: int) -> str:
    items, cursor = [], MARGIN_LEFT
    for band in bands:
        items.append(
            f'<rect x="{cursor}" y="6" width="14" height="10" fill="{escape(band.fill)}" '
            f'fill-opacity="{band.opacity}"/><text x="{cursor + 18}" y="15" font-size="11" '
            f'fill="#333">{escape(band.name)}</text>'
        )
        cursor += 26 + 7 * len(band.name)
    for line in series:
        dash = f' stroke-dasharray="{escape(line.dash)}"' if line.dash else ""
        items.append(
            f'<line x1="{cursor}" x2="{cursor + 14}" y1="11" y2="11" '
            f'stroke="{escape(line.stroke)}" stroke-width="{line.width}"{dash}/>'
            f'<text x="{cursor + 18}" y="15" font-size="11" fill="#333">{escape(line.name)}</text>'
        )
        cursor += 26 + 7 * len(line.name)
    return '<g class="legend">' + "".join(items) + "</g>" if items else ""


def _description(series: Sequence[Series], markers: Sequence[Marker], unit: str) -> str:
    sentences = []
    for line in series:
        known = [(t, _f(v)) for t, v in line.points if v is not None]
        if not known:
            sentences.append(f"{line.name}: no values.")
            continue
        low = min(v for _, v in known)
        high = max(v for _, v in known)
        last_at, last = known[-1]
        sentences.append(
            f"{line.name} from {_fmt(low)} to {_fmt(high)}{unit}, last {_fmt(last)}{unit} "
            f"at {last_at:%Y-%m-%d %H:%M} UTC."
        )
    if markers:
        sentences.append(
            "Marked: " + "; ".join(f"{m.label} at {m.at:%H:%M:%S}" for m in markers) + "."
        )
    return " ".join(sentences)
