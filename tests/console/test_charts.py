"""The charts' figures: downsampling that keeps the picture's shape, the JSON blocks the pages
hand to the script (shape, bounds, prices at the tick as strings), the tables a browser
without script shows, and who may read them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console import charts
from console.charts import Sample
from core import clock
from tests.console.conftest import make_instrument, signed_in_client

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def s(n: int, reference: str | None, book: str | None = None, state: str = "open") -> Sample:
    value = None if reference is None else Decimal(reference)
    return Sample(
        minute(n),
        state,
        value,
        None if value is None else value - 5,
        None if value is None else value + 5,
        None if book is None else Decimal(book),
    )


# --- downsampling --------------------------------------------------------------------------


def test_a_window_within_the_limit_is_drawn_sample_for_sample():
    samples = [s(n, "100") for n in range(50)]
    assert charts.downsample(samples, minute(0), minute(50), max_points=50) == samples


def test_downsampling_keeps_first_last_extremes_and_gaps():
    samples = [s(n, f"{100 + n % 7}.00", book=f"{101 + n % 5}.00") for n in range(4320)]
    samples[1000] = s(1000, "250.00")  # a spike of the reference
    samples[2000] = s(2000, "100.00", book="40.00")  # a drop of the book price
    samples[3000] = s(3000, None)  # no reference for a minute
    kept = charts.downsample(samples, minute(0), minute(4320), max_points=400)
    assert len(kept) <= 400
    assert kept[0] == samples[0] and kept[-1] == samples[-1]
    assert samples[1000] in kept and samples[2000] in kept and samples[3000] in kept
    assert [k.at for k in kept] == sorted({k.at for k in kept})  # real samples, in order


references = st.one_of(st.none(), st.integers(1, 10_000).map(lambda n: f"{n / 100:.2f}"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(references, references), min_size=1, max_size=600),
    st.integers(8, 120),
)
def test_downsampling_never_loses_what_the_picture_needs(values, max_points):
    """Whatever the series: at most ``max_points``, the first and the last sample, the
    lowest and highest reference and book price, and a gap if there was one."""
    samples = [s(n, reference, book) for n, (reference, book) in enumerate(values)]
    kept = charts.downsample(samples, minute(0), minute(len(samples)), max_points=max_points)
    assert len(kept) <= max(max_points, 8)
    assert kept[0] == samples[0] and kept[-1] == samples[-1]
    assert all(a.at < b.at for a, b in pairwise(kept))
    for name in ("reference", "book"):
        present = [getattr(x, name) for x in samples if getattr(x, name) is not None]
        kept_values = [getattr(x, name) for x in kept]
        if present:
            assert min(present) in kept_values and max(present) in kept_values
        if len(present) < len(samples):
            assert None in kept_values


# --- the market chart's JSON and table -----------------------------------------------------


def event(at: datetime, to: str, reason: str = "MANUAL", until: datetime | None = None):
    return SimpleNamespace(at=at, from_status="open", to_status=to, reason=reason, until=until)


def test_the_market_chart_carries_prices_as_strings_at_the_tick():
    samples = [
        Sample(minute(0), "open", Decimal("110000.00000000"), Decimal("104500"), None, None),
        Sample(minute(1), "halted", None, None, None, Decimal("110012.5")),
    ]
    data = charts.market_chart(
        symbol="BTC-PERP",
        tick=Decimal("0.5"),
        samples=samples,
        events=[
            event(minute(1) + timedelta(milliseconds=250), "halted", until=minute(30)),
            event(minute(-5), "paused"),  # before the window
        ],
        start=minute(0),
        end=minute(60),
        hours=1,
    )
    assert data["tick"] == "0.5" and data["places"] == 1
    assert data["t"] == [int(minute(0).timestamp()), int(minute(1).timestamp())]
    assert data["window"] == {"start": minute(0).timestamp(), "end": minute(60).timestamp()}
    assert data["reference"] == ["110000.0", None]
    assert data["band_lower"] == ["104500.0", None] and data["band_upper"] == [None, None]
    assert data["book"] == [None, "110012.5"]
    assert data["state"] == ["open", "halted"]
    assert data["events"] == [
        {
            "t": minute(1).timestamp() + 0.25,
            "at": "2026-11-24T14:01:00.250Z",
            "from": "open",
            "to": "halted",
            "reason": "MANUAL",
            "until": "2026-11-24T14:30:00.000Z",
        }
    ]
    assert (data["samples"], data["downsampled"], data["truncated"]) == (2, False, False)
    json.dumps(data)  # nothing a JSON encoder refuses (no Decimal, no datetime)


def test_the_table_beside_the_market_chart_sums_up_each_step():
    samples = [s(0, "100.00"), s(1, "103.00", book="102.50"), s(2, "99.00"), s(5, None)]
    rows = charts.market_table(samples, minute(0), timedelta(minutes=5))
    assert [(r.at, r.samples) for r in rows] == [(minute(5), 1), (minute(0), 3)]
    newest, oldest = rows
    assert (newest.first, newest.low, newest.high, newest.last) == (None, None, None, None)
    assert (oldest.first, oldest.low, oldest.high, oldest.last) == (
        Decimal("100.00"),
        Decimal("99.00"),
        Decimal("103.00"),
        Decimal("99.00"),
    )
    assert (oldest.band_lower, oldest.book) == (Decimal("94.00"), None)  # at its last sample


HOURS_CASES = [
    ("1", 1),
    ("6", 6),
    ("24", 24),
    ("72", 72),
    (None, 24),
    ("", 24),
    ("48", 24),
    ("720", 24),
    ("-1", 24),
    ("6.0", 24),
]


@pytest.mark.parametrize(("asked", "hours"), HOURS_CASES)
def test_only_the_offered_windows_are_drawn(asked, hours):
    assert charts.hours_of(asked) == hours


# --- stacked counts ------------------------------------------------------------------------

QUARTER = timedelta(minutes=15)


def test_stacked_counts_fill_every_bucket_and_leave_the_future_empty():
    starts = charts.bucket_starts(T0, T0 + timedelta(hours=1), QUARTER)
    stacked = charts.stacked_counts(
        [(T0, "PRICE_BAND", 3), (T0, "MARGIN", 1), (T0 + QUARTER, "MARGIN", 4)],
        starts=starts,
        step=QUARTER,
        now=T0 + QUARTER + timedelta(minutes=1),
    )
    assert stacked.series == [("MARGIN", [1, 4, None, None]), ("PRICE_BAND", [3, 0, None, None])]
    assert stacked.totals == [4, 4, None, None]
    data = stacked.to_json(title="t", unit="rejects")
    assert data["step"] == 900 and len(data["t"]) == 4
    assert data["t"][0] == (T0 + QUARTER / 2).timestamp()  # each bar over its bucket's middle
    assert data["window"] == {
        "start": T0.timestamp(),
        "end": (T0 + timedelta(hours=1)).timestamp(),
    }
    assert [row["start"] for row in stacked.table()] == [T0 + QUARTER, T0]


def test_a_given_total_is_the_height_of_a_bucket():
    """A reject failing two checks counts under both reasons, and once in the total."""
    stacked = charts.stacked_counts(
        [(T0, "PRICE_BAND", 1), (T0, "MAX_ORDER_QUANTITY", 1)],
        starts=[T0],
        step=QUARTER,
        now=T0,
        totals={T0: 1},
    )
    assert stacked.totals == [1]


def test_keys_beyond_the_most_a_chart_shows_are_summed_as_other():
    groups = [(T0, f"K{n}", 10 - n) for n in range(6)]
    stacked = charts.stacked_counts(groups, starts=[T0], step=QUARTER, now=T0, max_series=4)
    assert stacked.labels == ["K0", "K1", "K2", "other"]
    assert stacked.series[-1] == ("other", [7 + 6 + 5])
    assert stacked.totals == [sum(10 - n for n in range(6))]


# --- on the pages --------------------------------------------------------------------------


def chart_json(html: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, f"no {element_id} block"
    return json.loads(found.group(1))


@pytest.fixture
def officer(make_officer):
    return signed_in_client(make_officer("charts", "compliance_officer", "risk_officer"))


def store_samples(symbol: str, now: datetime, minutes: int) -> None:
    from risk.models import PriceSample

    PriceSample.objects.bulk_create(
        PriceSample(
            instrument=symbol,
            at=now - timedelta(minutes=n),
            session="regular",
            state="open",
            reference_price=Decimal("230") + Decimal(n % 90) / 10,
            band_lower=Decimal("218.5"),
            band_upper=Decimal("241.5"),
            book_price=Decimal("230.004") if n % 2 else None,
        )
        for n in range(minutes)
    )


@pytest.mark.django_db
def test_72_hours_are_drawn_whole_and_bounded(officer):
    """At 72 h the old chart read only the newest 2,000 samples (33 h of them) and drew
    that as the window; now the whole window is read and thinned to at most 2,000 points."""
    make_instrument("AAPL-PERP")
    now = clock.now().replace(second=0, microsecond=0)
    store_samples("AAPL-PERP", now, 72 * 60)
    html = officer.get("/markets/AAPL-PERP/?hours=72").content.decode()
    data = chart_json(html, "market-chart-data")
    assert data["hours"] == 72 and data["samples"] == 72 * 60
    assert data["downsampled"] and len(data["t"]) <= charts.MAX_POINTS
    oldest, newest = now - timedelta(minutes=72 * 60 - 1), now
    assert data["t"][0] == oldest.timestamp() and data["t"][-1] == newest.timestamp()
    assert {"238.90", "230.00"} <= set(data["reference"])  # the extremes are kept
    assert set(data["book"]) == {None, "230.00"}  # at the tick, half-even
    assert all(len(column) == len(data["t"]) for column in (data["state"], data["band_upper"]))
    assert 'data-testid="chart-downsampled"' in html
    assert 'aria-current="true">72 h<' in html


@pytest.mark.django_db
def test_without_script_the_market_page_shows_the_figures_as_a_table(officer):
    make_instrument("AAPL-PERP")
    now = clock.now().replace(second=0, microsecond=0)
    store_samples("AAPL-PERP", now, 60)
    html = officer.get("/markets/AAPL-PERP/?hours=1").content.decode()
    table = re.search(
        r'<details class="chart-table"[^>]*market-chart-table[^>]*open>(.*?)</details>', html, re.S
    )
    assert table, "the table is open until a script draws the chart"
    rows = re.findall(r"<tr><td>", table.group(1))
    assert len(rows) == 60  # one-minute steps over one hour
    assert '<td class="num">230.00</td>' in table.group(1)  # prices at the tick
    assert "No samples" not in table.group(1)


@pytest.mark.django_db
def test_the_window_buttons_are_links_that_work_without_script(officer):
    make_instrument("AAPL-PERP")
    store_samples("AAPL-PERP", clock.now().replace(second=0, microsecond=0), 400)
    html = officer.get("/markets/AAPL-PERP/?hours=6").content.decode()
    links = re.findall(r'<a href="\?hours=(\d+)#market-chart" data-testid="range-\d+"', html)
    assert links == ["1", "6", "24", "72"]
    data = chart_json(html, "market-chart-data")
    assert data["hours"] == 6 and len(data["t"]) == 6 * 60
    assert 'aria-current="true">6 h<' in html


@pytest.mark.django_db
def test_text_from_outside_cannot_close_the_json_block(officer):
    """A halt's reason is an operator's words; in the JSON block it stays inert text."""
    from risk.models import MarketEvent

    make_instrument("AAPL-PERP")
    MarketEvent.objects.create(
        instrument="AAPL-PERP",
        at=clock.now() - timedelta(minutes=5),
        from_status="open",
        to_status="halted",
        reason="</script><script>alert(1)</script>",
        recorded_at=clock.now(),
    )
    html = officer.get("/markets/AAPL-PERP/").content.decode()
    assert "<script>alert(1)" not in html
    assert chart_json(html, "market-chart-data")["events"][0]["reason"].startswith("</script>")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/markets/AAPL-PERP/?hours=6", "/pretrade/", "/decisions/"])
def test_the_charts_are_for_officers_only(path, make_officer):
    from django.test import Client

    make_instrument("AAPL-PERP")
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "chart" not in anonymous.content.decode()
    no_role = signed_in_client(make_officer("nobody"))
    assert no_role.get(path).status_code == 403
    for role in ("auditor", "compliance_officer", "risk_officer", "administrator"):
        reader = signed_in_client(make_officer(f"reader-{role}", role))
        assert 'data-chart="' in reader.get(path).content.decode(), role


@pytest.mark.django_db
def test_the_pretrade_page_charts_todays_rejects_by_reason(officer):
    from risk.models import PretradeDecision

    now = clock.now()
    day = charts.day_start(now)
    for n, codes in enumerate(["PRICE_BAND", "PRICE_BAND,MARGIN", "MARGIN", ""]):
        PretradeDecision.objects.create(
            account_id="acc-1",
            order_id=f"o-{n}",
            instrument="AAPL-PERP",
            side="buy",
            quantity="1",
            order_type="limit",
            decision="reject" if codes else "accept",
            reason_codes=codes,
            policy_version="p",
            evaluated_at=day + timedelta(seconds=n),
            fingerprint="f",
        )
    html = officer.get("/pretrade/").content.decode()
    data = chart_json(html, "rejects-chart-data")
    assert len(data["t"]) == 96 and data["step"] == 900
    series = {s["label"]: s["counts"] for s in data["series"]}
    assert series["PRICE_BAND"][0] == 2 and series["MARGIN"][0] == 2
    assert data["totals"][0] == 3
    assert data["totals"][-1] is None or now >= day + timedelta(hours=23, minutes=45)
    table = re.search(
        r"<details class=\"chart-table\" data-chart-table open>(.*?)</details>", html, re.S
    )
    assert table and '<td class="num">3</td>' in table.group(1)


@pytest.mark.django_db
def test_the_decisions_page_charts_the_weeks_denials_by_jurisdiction(officer):
    from compliance.models import AccessDecision

    now = clock.now()
    today = charts.day_start(now)
    rows = [(today, "CN"), (today, "CN"), (today - timedelta(days=6), "IR"), (today, "")]
    rows.append((today - timedelta(days=7), "CN"))  # a week and a day ago: not charted
    for n, (day, code) in enumerate(rows):
        AccessDecision.objects.create(
            decision_id=f"d-{n}",
            decided_at=day + timedelta(minutes=1),
            product_class="rwa_token",
            action="open",
            effect="deny",
            deciding_jurisdiction=code,
            policy_version="p",
        )
    html = officer.get("/decisions/").content.decode()
    data = chart_json(html, "denials-chart-data")
    assert data["step"] == 86400 and len(data["t"]) == 7
    series = {s["label"]: s["counts"] for s in data["series"]}
    assert series == {"CN": [0, 0, 0, 0, 0, 0, 2], "IR": [1, 0, 0, 0, 0, 0, 0], "—": [0] * 6 + [1]}
    assert data["totals"] == [1, 0, 0, 0, 0, 0, 3]
