"""The pure-Python SVG line chart: well-formed, scaled, gaps kept, labels escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from console.svg import Band, Marker, Series, line_chart, nice_step, time_ticks, value_ticks

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output)


def test_reference_band_and_markers_are_drawn():
    prices = [(at(m), Decimal(100) + m) for m in range(10)]
    svg = line_chart(
        title="AAPL-PERP",
        series=[Series("reference", prices)],
        bands=[Band("band", [(t, p - 5, p + 5) for t, p in prices])],
        markers=[Marker(at(4), "halted"), Marker(at(60), "outside the window")],
        end=at(9),
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "AAPL-PERP"
    polyline = root.find(f".//{SVG}polyline")
    assert len(polyline.get("points").split()) == 10
    assert len(root.findall(f".//{SVG}polygon")) == 1
    markers = [g for g in root.iter(f"{SVG}g") if g.get("class") == "marker"]
    assert len(markers) == 1 and "halted" in ET.tostring(markers[0], encoding="unicode")
    desc = root.find(f"{SVG}desc").text
    assert "reference from 100 to 109, last 109" in desc and "halted at 14:34:00" in desc


def test_the_line_rises_as_the_price_rises():
    svg = line_chart(title="t", series=[Series("p", [(at(0), 1), (at(1), 2)])])
    points = parse(svg).find(f".//{SVG}polyline").get("points").split()
    (x0, y0), (x1, y1) = (tuple(map(float, p.split(","))) for p in points)
    assert x1 > x0 and y1 < y0  # SVG's y grows downwards


def test_gaps_split_lines_and_bands():
    points = [(at(0), 1), (at(1), 2), (at(2), None), (at(3), 3), (at(4), 4)]
    band = [(at(0), 0, 2), (at(1), None, 3), (at(2), 1, 3), (at(3), 2, 4)]
    root = parse(line_chart(title="t", series=[Series("p", points)], bands=[Band("b", band)]))
    assert len(root.findall(f".//{SVG}polyline")) == 2
    assert len(root.findall(f".//{SVG}polygon")) == 2


def test_a_single_point_is_a_dot():
    root = parse(line_chart(title="t", series=[Series("p", [(at(0), 5)])]))
    assert root.find(f".//{SVG}circle") is not None


def test_labels_are_escaped():
    svg = line_chart(
        title="<script>alert(1)</script>",
        series=[Series('a"b<c', [(at(0), 1), (at(1), 2)])],
        markers=[Marker(at(0), "<b>&")],
    )
    assert "<script>" not in svg and "<b>" not in svg
    parse(svg)


def test_no_data_says_so():
    root = parse(line_chart(title="empty"))
    assert "No samples yet" in ET.tostring(root, encoding="unicode")
    root = parse(line_chart(title="gaps only", series=[Series("p", [(at(0), None)])]))
    assert "No samples yet" in ET.tostring(root, encoding="unicode")


def test_flat_series_still_has_a_scale():
    root = parse(line_chart(title="flat", series=[Series("p", [(at(0), 7), (at(5), 7)])]))
    ys = {p.split(",")[1] for p in root.find(f".//{SVG}polyline").get("points").split()}
    assert len(ys) == 1


@pytest.mark.parametrize(("span", "step"), [(10, 2), (1, 0.2), (0.037, 0.01), (730, 200), (0, 1.0)])
def test_nice_steps(span, step):
    assert nice_step(span) == pytest.approx(step)


def test_value_ticks_cover_the_range_on_round_numbers():
    assert value_ticks(98.3, 111.2) == [100, 105, 110]


def test_time_ticks_fall_on_round_instants():
    ticks = time_ticks(at(0), at(60))
    assert ticks[0] == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    assert all(t.second == 0 and t.minute % 15 == 0 for t in ticks)
    assert 3 <= len(ticks) <= 6


def test_a_marker_after_the_last_sample_is_drawn_when_the_axis_runs_to_now():
    svg = line_chart(
        title="t",
        series=[Series("p", [(at(0), 1), (at(10), 2)])],
        markers=[Marker(at(12), "halted")],
        end=at(15),
    )
    assert 'class="marker"' in svg
