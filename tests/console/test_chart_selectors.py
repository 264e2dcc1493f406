"""The charts' reads: pre-trade rejects per 15-minute bucket and reason, access denials per
day and jurisdiction, and the market's samples and state changes. Real database (SQLite and
PostgreSQL), one grouped query each, however many rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from compliance.models import AccessDecision
from console import selectors
from console.compliance.selectors import denials_per_day
from console.risk.selectors import rejects_per_quarter_hour
from risk.models import MarketEvent, PretradeDecision, PriceSample

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 24, tzinfo=UTC)
NEXT_DAY = DAY + timedelta(days=1)


def at(hours: int = 0, minutes: int = 0, seconds: float = 0) -> datetime:
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def pretrade(n: int, when: datetime, decision: str = "reject", codes: str = "PRICE_BAND"):
    return PretradeDecision(
        account_id="acc-1",
        order_id=f"o-{n}",
        instrument="AAPL-PERP",
        side="buy",
        quantity="1",
        order_type="limit",
        decision=decision,
        reason_codes=codes if decision == "reject" else "",
        policy_version="rb1.p1",
        evaluated_at=when,
        fingerprint="f",
    )


REJECT_CASES = [
    (
        "a_reject_counts_in_the_quarter_hour_it_began_in",
        [(at(0, 0), "reject", "PRICE_BAND"), (at(0, 14, 59.999), "reject", "PRICE_BAND")],
        {(at(0, 0), "PRICE_BAND"): 2},
        {at(0, 0): 2},
    ),
    (
        "the_next_quarter_begins_at_fifteen_minutes",
        [(at(9, 14, 59.999), "reject", "MARGIN"), (at(9, 15), "reject", "MARGIN")],
        {(at(9, 0), "MARGIN"): 1, (at(9, 15), "MARGIN"): 1},
        {at(9, 0): 1, at(9, 15): 1},
    ),
    (
        "a_reject_failing_two_checks_counts_under_each_and_once_in_the_total",
        [(at(13, 40), "reject", "PRICE_BAND,MAX_ORDER_QUANTITY"), (at(13, 44), "reject", "MARGIN")],
        {
            (at(13, 30), "PRICE_BAND"): 1,
            (at(13, 30), "MAX_ORDER_QUANTITY"): 1,
            (at(13, 30), "MARGIN"): 1,
        },
        {at(13, 30): 2},
    ),
    (
        "accepts_are_not_rejects",
        [(at(10, 0), "accept", ""), (at(10, 1), "reject", "MARKET_HALTED")],
        {(at(10, 0), "MARKET_HALTED"): 1},
        {at(10, 0): 1},
    ),
    (
        "only_the_day_asked_for_counts",
        [
            (DAY - timedelta(microseconds=1000), "reject", "MARGIN"),
            (at(23, 59, 59.999), "reject", "MARGIN"),
            (NEXT_DAY, "reject", "MARGIN"),
        ],
        {(at(23, 45), "MARGIN"): 1},
        {at(23, 45): 1},
    ),
    ("no_rejects_no_rows", [], {}, {}),
]


@pytest.mark.parametrize(
    ("rows", "per_reason", "totals"),
    [case[1:] for case in REJECT_CASES],
    ids=[case[0] for case in REJECT_CASES],
)
def test_rejects_per_quarter_hour(rows, per_reason, totals, django_assert_num_queries):
    PretradeDecision.objects.bulk_create(
        pretrade(n, when, decision, codes) for n, (when, decision, codes) in enumerate(rows)
    )
    with django_assert_num_queries(1):
        groups, found_totals = rejects_per_quarter_hour(since=DAY, until=NEXT_DAY)
    assert {(start, code): n for start, code, n in groups} == per_reason
    assert found_totals == totals
    assert all(start.tzinfo is not None for start, _, _ in groups)


def test_rejects_are_grouped_by_the_database_not_read_one_by_one(django_assert_num_queries):
    """A busy day is still one query with a row per bucket and reason combination."""
    PretradeDecision.objects.bulk_create(
        pretrade(n, at(n % 24, n % 60), codes=("PRICE_BAND", "MARGIN,PRICE_BAND")[n % 2])
        for n in range(600)
    )
    with django_assert_num_queries(1):
        groups, totals = rejects_per_quarter_hour(since=DAY, until=NEXT_DAY)
    assert sum(totals.values()) == 600
    assert sum(n for _, code, n in groups if code == "PRICE_BAND") == 600
    assert sum(n for _, code, n in groups if code == "MARGIN") == 300


def access(n: int, when: datetime, effect: str, jurisdiction: str) -> AccessDecision:
    return AccessDecision(
        decision_id=f"d-{n}",
        decided_at=when,
        product_class="rwa_token",
        action="open",
        effect=effect,
        deciding_jurisdiction=jurisdiction,
        policy_version="rb1.p1",
    )


WEEK = DAY - timedelta(days=6)

DENIAL_CASES = [
    (
        "denials_per_day_and_jurisdiction",
        [(at(1), "deny", "CN"), (at(2), "deny", "CN"), (at(3), "deny", "US-NY")],
        {(DAY.date(), "CN"): 2, (DAY.date(), "US-NY"): 1},
    ),
    (
        "a_day_is_a_utc_day",
        [(at(23, 59, 59.999), "deny", "IR"), (NEXT_DAY - timedelta(days=1), "deny", "IR")],
        {(DAY.date(), "IR"): 2},
    ),
    (
        "only_deny_is_a_denial",
        [(at(1), "allow", ""), (at(1), "review", "GB"), (at(1), "close_only", "CN")],
        {},
    ),
    (
        "a_denial_without_a_jurisdiction_counts_under_a_dash",
        [(at(4), "deny", "")],
        {(DAY.date(), "—"): 1},
    ),
    (
        "only_the_week_asked_for_counts",
        [
            (WEEK - timedelta(microseconds=1000), "deny", "CN"),
            (WEEK, "deny", "CN"),
            (NEXT_DAY, "deny", "CN"),
        ],
        {(WEEK.date(), "CN"): 1},
    ),
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [case[1:] for case in DENIAL_CASES],
    ids=[case[0] for case in DENIAL_CASES],
)
def test_denials_per_day(rows, expected, django_assert_num_queries):
    AccessDecision.objects.bulk_create(
        access(n, when, effect, jurisdiction) for n, (when, effect, jurisdiction) in enumerate(rows)
    )
    with django_assert_num_queries(1):
        found = denials_per_day(since=WEEK, until=NEXT_DAY)
    assert {(day, code): n for day, code, n in found} == expected


def sample(minute: int, price: str | None = "100.00", **fields) -> PriceSample:
    value = None if price is None else Decimal(price)
    return PriceSample(
        instrument=fields.pop("instrument", "AAPL-PERP"),
        at=DAY + timedelta(minutes=minute),
        session="regular",
        state=fields.pop("state", "open"),
        reference_price=value,
        band_lower=None if value is None else value - 5,
        band_upper=None if value is None else value + 5,
        book_price=fields.pop("book", None),
    )


def test_price_history_reads_the_window_in_time_order(django_assert_num_queries):
    PriceSample.objects.bulk_create(
        [sample(m, f"{100 + m}.00") for m in range(-2, 63)] + [sample(5, instrument="TSLA-PERP")]
    )
    MarketEvent.objects.create(
        instrument="AAPL-PERP",
        at=DAY + timedelta(minutes=30, milliseconds=250),
        from_status="open",
        to_status="halted",
        reason="MANUAL",
        recorded_at=DAY,
    )
    with django_assert_num_queries(2):
        samples, truncated, events = selectors.price_history(
            "AAPL-PERP", since=DAY, until=DAY + timedelta(hours=1)
        )
    assert [s.at for s in samples] == [DAY + timedelta(minutes=m) for m in range(61)]
    assert samples[0].reference == Decimal("100") and samples[0].band_upper == Decimal("105")
    assert not truncated
    assert [e.to_status for e in events] == ["halted"]


def test_price_history_keeps_the_newest_samples_when_there_are_too_many(monkeypatch):
    from console import charts

    monkeypatch.setattr(charts, "MAX_SAMPLES_READ", 10)
    PriceSample.objects.bulk_create(sample(m) for m in range(30))
    samples, truncated, _ = selectors.price_history(
        "AAPL-PERP", since=DAY, until=DAY + timedelta(hours=1)
    )
    assert truncated
    assert [s.at for s in samples] == [DAY + timedelta(minutes=m) for m in range(20, 30)]
