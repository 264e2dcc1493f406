"""The demo traders' orders (pure): on the tick and in whole lots, a gentle rate, the mix of
intents, prices beyond the band for fat fingers, and traders that lean against their
positions."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.demo_feed import traders
from console.demo_feed.markets import Band, DemoInstrument, Quote
from console.demo_feed.traders import Intent

D = Decimal
INSTRUMENTS = {
    "AAPL-PERP": DemoInstrument(
        "AAPL-PERP", "equity_perp", "XNYS", D("0.01"), D("0.01"), D("10000"), False, D("230")
    ),
    "BTC-PERP": DemoInstrument(
        "BTC-PERP", "crypto_perp", "24x7", D("0.5"), D("0.001"), D("100"), False, D("110000")
    ),
    "USTB-RWA": DemoInstrument(
        "USTB-RWA", "rwa_token", "24x7", D("0.0001"), D("1"), D("1000000"), False, D("100")
    ),
}
QUOTES = {
    "AAPL-PERP": Quote("open", "weekend", D("230.00"), Band(D("207.00"), D("253.00"))),
    "BTC-PERP": Quote("open", "continuous", D("110000.0"), Band(D("99000.0"), D("121000.0"))),
    "USTB-RWA": Quote("open", "continuous", None, None),
}
PRICES = {"AAPL-PERP": D("230.12"), "BTC-PERP": D("110321.5"), "USTB-RWA": D("100.0012")}


def order(step: int, positions=None, quotes=QUOTES):
    return traders.order_at(0, step, "run", INSTRUMENTS, quotes, PRICES, positions or {})


@settings(max_examples=400, deadline=None)
@given(step=st.integers(min_value=0, max_value=2**40))
def test_every_order_is_on_the_tick_in_whole_lots_and_pure(step):
    placed = order(step)
    instrument = INSTRUMENTS[placed.instrument]
    assert placed.quantity > 0 and placed.quantity % instrument.lot_size == 0
    if placed.price is not None:
        assert placed.price > 0 and placed.price % instrument.tick_size == 0
    assert placed.fill_price > 0 and placed.fill_price % instrument.tick_size == 0
    assert placed.order_id == f"demo-run-{step}"
    assert placed == order(step)
    body = placed.body()
    assert all(isinstance(body[name], str) for name in ("quantity", "order_id", "client_ip"))
    assert body["order_type"] == ("market" if placed.price is None else "limit")


def test_orders_arrive_at_a_gentle_rate():
    sent = sum(traders.order_arrives(0, step, 3.0) for step in range(30_000))
    assert 9_000 <= sent <= 11_000  # one every 3 s on average
    assert not any(traders.order_arrives(0, step, 0) for step in range(100))


def test_the_mix_of_intents():
    intents = Counter(order(step).intent for step in range(5_000))
    assert set(intents) == set(Intent)
    assert 0.5 <= intents[Intent.ORDINARY] / 5_000 <= 0.7
    assert intents[Intent.RESTRICTED] > intents[Intent.OUTSIDE_BAND] > 0


INTENT_ROWS = [
    # intent, what makes the venue refuse it (or not)
    (Intent.OUTSIDE_BAND, "price beyond the band edge"),
    (Intent.OVERSIZE, "more than the per-order cap"),
    (Intent.OVER_MARGIN, "unlevered exposure above the 100k collateral"),
    (Intent.RESTRICTED, "a restricted account or location"),
    (Intent.ORDINARY, "a limit near the reference from an allowed trader"),
]


@pytest.mark.parametrize(("intent", "why"), INTENT_ROWS, ids=[r[0].value for r in INTENT_ROWS])
def test_each_intent_carries_its_reason(intent, why):
    placed = [o for o in (order(step) for step in range(3_000)) if o.intent is intent]
    assert placed, why
    for each in placed:
        instrument, quote = INSTRUMENTS[each.instrument], QUOTES[each.instrument]
        base = quote.reference or PRICES[each.instrument]
        if intent is Intent.OUTSIDE_BAND:
            assert each.price > quote.band.upper or each.price < quote.band.lower
            assert (each.price > quote.band.upper) == (each.side == "buy")
        elif intent is Intent.OVERSIZE:
            assert each.quantity > instrument.max_order_quantity
        elif intent is Intent.OVER_MARGIN:
            assert each.trader == traders.OVER_MARGIN_TRADER and each.leverage == 1
            assert each.quantity * base > D(100_000)
            assert instrument.product_class == "equity_perp"
        elif intent is Intent.RESTRICTED:
            assert each.trader in traders.RESTRICTED_TRADERS
        else:
            assert each.trader in traders.ORDINARY_TRADERS
            assert abs(each.price / base - 1) <= D("0.0031")


def test_no_band_means_no_fat_finger_order():
    """USTB has no reference or band in QUOTES: a fat finger there becomes ordinary."""
    placed = [order(step) for step in range(3_000)]
    assert not [o for o in placed if o.instrument == "USTB-RWA" and o.intent is Intent.OUTSIDE_BAND]


def test_traders_lean_against_a_large_position():
    long = {(t.account_id, s): D(10_000) for t in traders.ORDINARY_TRADERS for s in INSTRUMENTS}
    sides = Counter(
        o.side for o in (order(step, long) for step in range(2_000)) if o.intent is Intent.ORDINARY
    )
    assert sides["buy"] == 0 and sides["sell"] > 0


def test_follow_ups_are_pure_and_soon():
    accepted = order(7)
    follow_up = traders.follow_up_for(0, accepted, 7)
    assert follow_up == traders.follow_up_for(0, accepted, 7)
    assert 9 <= follow_up.due_step <= 17
    kinds = Counter(traders.follow_up_for(0, order(s), s).kind for s in range(2_000))
    assert set(kinds) == set(traders.FollowUpKind)


def test_a_partial_fill_is_half_in_whole_lots():
    placed = order(7)
    half = traders.FollowUp(0, placed, traders.FollowUpKind.PARTIAL_FILL)
    lot = INSTRUMENTS[placed.instrument].lot_size
    assert half.fill_quantity(lot) % lot == 0
    assert half.fill_quantity(lot) <= placed.quantity / 2
    full = traders.FollowUp(0, placed, traders.FollowUpKind.FILL)
    assert full.fill_quantity(lot) == placed.quantity


def test_an_ordinary_traders_positions_fit_its_collateral_at_the_weekend_leverage():
    """Every demo instrument at the soft limit, at the weekend's leverage caps (the equity
    perps' quartered, the 24x7 instruments' whole): ordinary orders are not refused for
    margin by the traders' own drift."""
    from custody.demo import DEMO_BALANCES
    from risk.demo import INSTRUMENTS as DEMO_INSTRUMENTS
    from risk.markets.sessions import DEFAULTS, SessionName

    weekend = DEFAULTS[SessionName.WEEKEND].leverage_cap_fraction
    leverages = [D(row[7]) * (weekend if row[3] == "XNYS" else 1) for row in DEMO_INSTRUMENTS]
    for trader in traders.ORDINARY_TRADERS:
        margin = sum(trader.soft_position_notional / leverage for leverage in leverages)
        assert margin <= D(DEMO_BALANCES[trader.account_id]), trader


def test_each_order_comes_with_its_traders_access_check_and_some_visitors():
    """The demo asks the access gate as a venue's web front would: the trader's own check
    before each order, and an anonymous visitor one step in two (none with an account)."""
    from console.demo_feed import traders as demo_traders

    order = demo_traders.DemoOrder.__new__(demo_traders.DemoOrder)
    object.__setattr__(order, "trader", demo_traders.ORDINARY_TRADERS[0])
    visitors = 0
    for step in range(200):
        checks = demo_traders.access_checks_at(7, step, order, "equity_perp")
        assert checks == demo_traders.access_checks_at(7, step, order, "equity_perp")
        assert checks[0] == {
            "account_id": "acc-sg", "client_ip": "165.21.83.88",
            "product_class": "equity_perp", "action": "open",
        }  # fmt: skip
        for visitor in checks[1:]:
            assert "account_id" not in visitor and visitor["client_ip"] in demo_traders.VISITORS
            visitors += 1
    assert 60 <= visitors <= 140
