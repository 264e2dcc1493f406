"""The market chart: reference price, band and state changes of one instrument over time,
from the samples and events the markets part records (``risk.models.PriceSample``,
``MarketEvent``), drawn by ``console.svg``."""

from __future__ import annotations

from datetime import datetime

from console.svg import Band, Marker, Series, line_chart

STATE_COLOURS = {
    "open": "#006d2c",
    "limit_state": "#b35900",
    "paused": "#b35900",
    "halted": "#b30000",
    "close_only": "#6a3d9a",
}


def market_history(symbol: str, *, since: datetime, limit: int = 2000):
    from risk.models import MarketEvent, PriceSample

    samples = list(
        PriceSample.objects.filter(instrument=symbol, at__gte=since).order_by("-at")[:limit]
    )
    samples.reverse()
    events = list(MarketEvent.objects.filter(instrument=symbol, at__gte=since).order_by("at"))
    return samples, events


def market_chart(symbol: str, samples, events, *, now: datetime) -> str:
    return line_chart(
        end=now,  # up to now: a halt after the last sample is still on the chart
        title=f"{symbol}: reference price and band",
        series=[
            Series("reference", [(s.at, s.reference_price) for s in samples], stroke="#1f4e8c")
        ],
        bands=[Band("band", [(s.at, s.band_lower, s.band_upper) for s in samples], fill="#9ecae1")],
        markers=[
            Marker(e.at, e.to_status, stroke=STATE_COLOURS.get(e.to_status, "#333333"))
            for e in events
        ],
    )
