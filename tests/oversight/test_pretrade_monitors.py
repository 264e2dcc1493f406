"""Risk monitors raise de-duplicated alerts: market-state changes, reject-rate spikes, limit
breaches and near-breaches; custody's report sections list breaks and large withdrawals."""

from datetime import UTC, datetime, timedelta

import pytest

from oversight.models import Alert
from oversight.monitors import pretrade as monitors
from risk.models import MarketEvent, PretradeDecision
from risk.pretrade import steps

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def event(to_status, reason="LULD_PAUSE", instrument="AAPL-PERP", minutes=0):
    return MarketEvent(
        instrument=instrument,
        at=NOW + timedelta(minutes=minutes),
        from_status="open",
        to_status=to_status,
        reason=reason,
        recorded_at=NOW,
    )


def test_market_state_changes_raise_one_alert_per_state_and_reason():
    monitors.announce_market_events(
        [
            event("paused"),
            event("paused", minutes=1),
            event("open"),
            event("halted", reason="MWCB_LEVEL_1"),
        ],
        now=NOW,
    )
    alerts = {a.dedup_key: a for a in Alert.objects.all()}
    assert set(alerts) == {
        "market.AAPL-PERP.paused.LULD_PAUSE",
        "market.AAPL-PERP.halted.MWCB_LEVEL_1",
    }
    assert alerts["market.AAPL-PERP.halted.MWCB_LEVEL_1"].severity == "critical"
    assert alerts["market.AAPL-PERP.paused.LULD_PAUSE"].occurrences == 2


def decision(index, account, decision_, codes=""):
    return PretradeDecision(
        account_id=account,
        order_id=f"o{index}",
        instrument="AAPL-PERP",
        side="buy",
        quantity="1",
        order_type="limit",
        decision=decision_,
        reason_codes=codes,
        policy_version="p1",
        evaluated_at=NOW - timedelta(minutes=1),
        fingerprint="f",
    )


@pytest.mark.parametrize(
    ("rejects", "total", "spike"),
    [(10, 20, True), (9, 20, False), (19, 19, False), (40, 50, True)],
    ids=["half-of-20", "under-half", "too-few-orders", "most-of-50"],
)
def test_what_counts_as_a_reject_spike(rejects, total, spike):
    assert monitors.is_spike(rejects, total) is spike


def test_reject_spikes_and_limit_breaches_are_alerted():
    rows = [decision(i, "acc-a", "reject", "POSITION_LIMIT") for i in range(15)]
    rows += [decision(100 + i, "acc-a", "accept") for i in range(10)]
    rows += [decision(200 + i, "acc-b", "accept") for i in range(30)]
    PretradeDecision.objects.bulk_create(rows)
    assert monitors.watch_rejects(now=NOW) == 2
    keys = set(Alert.objects.values_list("dedup_key", flat=True))
    # 15 of 55 orders refused for POSITION_LIMIT is no platform-wide spike; acc-a's is.
    assert keys == {"pretrade.reject_spike.acc-a", "pretrade.limit_breach.acc-a.AAPL-PERP"}


def test_a_reason_refusing_most_orders_is_a_spike():
    PretradeDecision.objects.bulk_create(
        [decision(i, f"acc-{i}", "reject", "NO_REFERENCE_PRICE") for i in range(25)]
    )
    monitors.watch_rejects(now=NOW)
    assert Alert.objects.filter(dedup_key="pretrade.reason_spike.NO_REFERENCE_PRICE").exists()


@pytest.mark.parametrize(
    ("lots", "cap", "near"), [(90, 100, True), (89, 100, False), (-95, 100, True), (5, 0, False)]
)
def test_near_breach_is_90_percent_of_the_cap(lots, cap, near):
    assert monitors.near_breach(lots, cap) is near


def test_positions_near_their_cap_are_alerted(demo_instruments, redis_conn):
    from risk import demo
    from risk.markets.snapshot import holder

    demo.seed_market_prices(NOW)
    holder.reset()
    # AAPL-PERP: cap 5,000,000 at the demo reference 230.00, lot 0.01 → 2,173,913 lots.
    redis_conn.hset(steps.risk_key("acc-big"), "p:AAPL-PERP", 2_000_000)
    redis_conn.hset(steps.risk_key("acc-small"), "p:AAPL-PERP", 1_000)
    assert monitors.watch_positions(now=NOW) == 1
    alert = Alert.objects.get()
    assert alert.dedup_key == "pretrade.near_breach.acc-big.AAPL-PERP"


def test_custody_sections_list_large_withdrawals_and_breaks():
    from custody import services
    from custody.sections import large_withdrawals, reconciliation_breaks

    for index, amount in enumerate((150_000, 99_000)):
        services.deposit(
            id=f"d{index}",
            account_id=f"acc-{index}",
            asset="USDC",
            amount=amount * 10**6,
            custody_wallet="wallet-a",
            now=NOW,
        )
        services.withdraw(
            id=f"w{index}",
            account_id=f"acc-{index}",
            asset="USDC",
            amount=amount * 10**6,
            custody_wallet="wallet-a",
            now=NOW,
        )
    columns, rows = large_withdrawals(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert [row[1] for row in rows] == ["w0"] and rows[0][-1] == "150000.000000"
    columns, rows = reconciliation_breaks(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert rows == [] and columns[0] == "opened_at"


def test_limit_breaches_and_reject_spikes_of_many_accounts_are_one_incident_each():
    """Issue 18: a demo's traders pressing on limits on ten instruments opened ten incidents;
    attempts on a limit are one incident whichever the account and instrument, as are the
    reject spikes, and each alert keeps its own account and instrument."""
    from oversight.models import Incident

    rows = []
    for n, (account, symbol) in enumerate(
        [("acc-a", "AAPL-PERP"), ("acc-b", "TSLA-PERP"), ("acc-c", "BTC-PERP")]
    ):
        rows += [decision(100 * n + i, account, "reject", "POSITION_LIMIT") for i in range(25)]
        for row in rows[-25:]:
            row.instrument = symbol
    PretradeDecision.objects.bulk_create(rows)
    monitors.watch_rejects(now=NOW)
    breaches = Alert.objects.filter(kind="limit_breach")
    assert {(a.detail["account_id"], a.detail["instrument"]) for a in breaches} == {
        ("acc-a", "AAPL-PERP"), ("acc-b", "TSLA-PERP"), ("acc-c", "BTC-PERP"),
    }  # fmt: skip
    incidents = Incident.objects.filter(kind__in=("limit_breach", "reject_spike"))
    assert sorted(incidents.values_list("kind", "alert_count")) == [
        ("limit_breach", 3),
        ("reject_spike", 4),  # three accounts and the reason, platform-wide
    ]
