"""The pre-trade check's stateless stage: one row per reason code (the row names the rule)."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from risk.pretrade import checks as p

TERMS = p.InstrumentTerms(
    symbol="AAPL-PERP",
    product_class="equity_perp",
    tick_size=D("0.01"),
    lot_size=D("0.01"),
    max_leverage=D("20"),
    max_order_quantity=D("1000"),
    max_order_notional=D("100000"),
    max_position_notional=D("500000"),
    open_interest_cap=D("100000"),
)
OPEN_MARKET = p.MarketConditions(
    state="open",
    reference_price=D("190.00"),
    band_lower=D("180.50"),
    band_upper=D("199.50"),
    session="regular",
)
ALLOW = p.AccessVerdicts("allow")
ACTIVE = p.AccountStanding(True)


def order(**changes):
    fields = dict(
        order_id="o-1",
        account_id="acc-1",
        instrument="AAPL-PERP",
        side="buy",
        quantity=D("10"),
        order_type="limit",
        price=D("190.00"),
    )
    fields.update(changes)
    return p.Order(**fields)


def assess(
    the_order=None,
    *,
    terms=TERMS,
    account=ACTIVE,
    market=OPEN_MARKET,
    access=ALLOW,
    global_kill=False,
):
    return p.assess(
        the_order or order(),
        terms=terms,
        account=account,
        market=market,
        access=access,
        global_kill=global_kill,
    )


def test_a_clean_order_passes_with_exact_integers_for_the_atomic_stage():
    result = assess()
    assert not result.rejected and not result.must_reduce
    assert result.quantity_lots == 1000
    assert result.notional == D("1900.0000") and result.leverage == D("20")
    assert result.margin_micro == 95_000_000  # 1900 / 20 = 95.00
    assert result.max_position_lots == 263_157  # 500000 / (190 * 0.01), rounded down
    assert result.open_interest_cap_lots == 10_000_000


ROWS = [
    ("global-kill-switch", dict(global_kill=True), p.KILL_SWITCH),
    ("instrument-kill-switch", dict(market=replace(OPEN_MARKET, kill_switch=True)), p.KILL_SWITCH),
    ("unknown-account", dict(account=p.AccountStanding(False)), p.UNKNOWN_ACCOUNT),
    ("suspended-account", dict(account=p.AccountStanding(True, "suspended")), p.ACCOUNT_SUSPENDED),
    ("closed-account", dict(account=p.AccountStanding(True, "closed")), p.ACCOUNT_SUSPENDED),
    ("unknown-instrument", dict(terms=None), p.UNKNOWN_INSTRUMENT),
    (
        "halted",
        dict(market=p.MarketConditions("halted", D("190"), D("180"), D("200"), "regular")),
        p.MARKET_HALTED,
    ),
    (
        "paused",
        dict(market=p.MarketConditions("paused", D("190"), D("180"), D("200"), "regular")),
        p.MARKET_PAUSED,
    ),
    (
        "no-reference",
        dict(market=p.MarketConditions("open", None, None, None, "weekend")),
        p.NO_REFERENCE_PRICE,
    ),
    ("price-above-band", dict(the_order=order(price=D("199.51"))), p.PRICE_OUTSIDE_BAND),
    ("price-below-band", dict(the_order=order(price=D("180.49"))), p.PRICE_OUTSIDE_BAND),
    ("tick-size", dict(the_order=order(price=D("190.005"))), p.TICK_SIZE),
    ("lot-size", dict(the_order=order(quantity=D("10.005"))), p.LOT_SIZE),
    ("quantity-cap", dict(the_order=order(quantity=D("1000.01"))), p.ORDER_QUANTITY_LIMIT),
    ("notional-cap", dict(the_order=order(quantity=D("600"))), p.ORDER_NOTIONAL_LIMIT),
    ("leverage-above-regular-cap", dict(the_order=order(leverage=D("21"))), p.LEVERAGE_LIMIT),
    (
        "leverage-above-weekend-cap",
        dict(
            the_order=order(leverage=D("10")),
            market=p.MarketConditions(
                "open", D("190"), D("180"), D("200"), "weekend", leverage_cap_fraction=D("0.25")
            ),
        ),
        p.LEVERAGE_LIMIT,
    ),
]


@pytest.mark.parametrize(("kwargs", "code"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_stateless_reason(kwargs, code):
    result = assess(**kwargs)
    assert result.rejected and code in result.codes()
    reason = next(r for r in result.reasons if r.code == code).as_contract()
    assert reason["check"] == p.CHECK_OF[code] and reason["message"]


def test_a_reject_lists_every_failing_check():
    result = assess(
        order(price=D("250.005"), quantity=D("2000.001"), leverage=D("50")), global_kill=True
    )
    assert set(result.codes()) >= {
        p.KILL_SWITCH,
        p.PRICE_OUTSIDE_BAND,
        p.TICK_SIZE,
        p.LOT_SIZE,
        p.ORDER_QUANTITY_LIMIT,
        p.ORDER_NOTIONAL_LIMIT,
        p.LEVERAGE_LIMIT,
    }


def test_market_orders_are_priced_at_the_band_edge_of_their_side():
    buy = assess(order(order_type="market", price=None))
    sell = assess(order(order_type="market", price=None, side="sell"))
    assert buy.priced_at == D("199.50") and sell.priced_at == D("180.50")


@pytest.mark.parametrize("state", ["close_only", "limit_state"])
def test_close_only_and_limit_state_admit_only_reducing_orders(state):
    market = p.MarketConditions(state, D("190"), D("180"), D("200"), "regular")
    result = assess(market=market)
    assert not result.rejected and result.must_reduce
    assert result.unless_reducing[0]["code"] == p.MARKET_CLOSE_ONLY


BLOCKED = {"code": "JURISDICTION_BLOCKED", "check": "jurisdiction", "message": "m", "detail": {}}
CLOSE = {"code": "JURISDICTION_CLOSE_ONLY", "check": "jurisdiction", "message": "m", "detail": {}}


def test_jurisdiction_blocked_when_even_reducing_is_denied():
    access = p.AccessVerdicts("deny", (BLOCKED,), "deny", (BLOCKED,))
    result = assess(access=access)
    assert result.rejected and result.jurisdiction_reasons == [BLOCKED]


def test_jurisdiction_close_only_lets_a_reducing_order_through():
    access = p.AccessVerdicts("deny", (BLOCKED,), "close_only", (CLOSE,))
    result = assess(access=access)
    assert not result.rejected and result.unless_reducing == [BLOCKED, CLOSE]
    reduce_only = assess(order(reduce_only=True), access=access)
    assert not reduce_only.rejected and not reduce_only.must_reduce


def test_margin_and_limits_round_towards_safety():
    result = assess(order(quantity=D("0.01"), price=D("190.01"), leverage=D("3")))
    assert result.margin_micro == 633_367  # 1.9001 / 3 = 0.63336666… rounded up
    assert result.max_position_lots == 263_144  # 263144.04… rounded down
