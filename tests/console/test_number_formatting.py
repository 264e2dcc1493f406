"""Numbers written once (issue 18): prices at the instrument's tick, quantities at its lot,
amounts at the asset's scale — by one function per kind, used by the console's template
filters and by the report sections. Before, the board printed references as stored
(``230.00000000`` next to ``110000.0``), the pre-trade pages the database's ten places
(``100.0000000000``) and the custody page's breaks in minor units."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template

from core import clock
from custody import money
from risk.markets import display
from tests.console.conftest import signed_in_client

D = Decimal


@pytest.mark.parametrize(
    ("value", "tick", "written"),
    [
        ("230.00000000", "0.01", "230.00"),  # a reference as stored: eight places
        ("230.12345678", "0.01", "230.12"),  # a blended reference rounds to the tick
        ("230.125", "0.01", "230.12"),  # half-even: to the even neighbour
        ("230.135", "0.01", "230.14"),
        ("110000", "0.5", "110000.0"),  # the tick's places, not multiples of it
        ("110000.0000000000", "0.5", "110000.0"),  # a DecimalField's ten places
        ("100", "0.0001", "100.0000"),
        ("1E+3", "0.01", "1000.00"),  # never an exponent
        ("-3.5", "1", "-4"),
        ("0.000000004", "0.01", "0.00"),
    ],
)
def test_a_price_is_written_at_its_tick(value, tick, written):
    assert display.price(D(value), D(tick)) == written
    assert display.price(value, tick) == written  # decimal strings too


@pytest.mark.parametrize(
    ("value", "lot", "written"),
    [
        ("10", "0.01", "10.00"),
        ("0.5000000000", "0.001", "0.500"),
        ("3", "1", "3"),
        ("-2.25", "0.01", "-2.25"),
    ],
)
def test_a_quantity_is_written_at_its_lot(value, lot, written):
    assert display.quantity(D(value), D(lot)) == written


@pytest.mark.parametrize("bad", [1.5, 2, None, b"1", "1.2.3", "NaN", "Infinity"])
def test_prices_refuse_what_is_not_a_decimal(bad):
    with pytest.raises((TypeError, ValueError)):
        display.price(bad, D("0.01"))


@pytest.mark.parametrize(
    ("asset", "value", "written"),
    [
        ("USDC", "95.25", "95.250000"),
        ("USDC", D("1E+2"), "100.000000"),
        ("USD", "0.005", "0.00"),  # display rounds half-even; booking would refuse
        ("USD", "0.015", "0.02"),
        ("BTC", "0.5", "0.50000000"),
        ("ETH", "-1", "-1.000000000"),
    ],
)
def test_an_amount_in_whole_units_is_written_at_its_assets_scale(asset, value, written):
    assert money.amount_at_scale(asset, value) == written


@pytest.mark.parametrize("bad", [95.25, 95, True, "ninety", "sNaN"])
def test_amounts_refuse_floats_ints_and_text(bad):
    with pytest.raises((TypeError, ValueError)):
        money.amount_at_scale("USDC", bad)


FILTER_CASES = [
    # (template, context, written)
    ("{{ v|price:t }}", {"v": D("230.00000000"), "t": D("0.01")}, "230.00"),
    ("{{ v|price:t }}", {"v": None, "t": D("0.01")}, "—"),
    ("{{ v|price:t }}", {"v": D("12.5"), "t": None}, "12.5"),  # no tick known: plain
    ("{{ v|price:t }}", {"v": "not a price", "t": D("0.01")}, "not a price"),
    ("{{ v|quantity:l }}", {"v": "10", "l": D("0.01")}, "10.00"),
    ("{{ v|amount:'USDC' }}", {"v": "95.25"}, "95.250000"),
    ("{{ v|amount:'XXX' }}", {"v": "95.25"}, "95.25"),  # an unknown asset: as given
    ("{{ v|minor_amount:'BTC' }}", {"v": 1}, "0.00000001"),
    ("{{ v|minor_amount:'USDC' }}", {"v": -2500000}, "-2.500000"),
    ("{{ v|minor_amount:'USDC' }}", {"v": None}, "—"),
    ("{{ v|minor_amount:'USDC' }}", {"v": "1.5"}, "1.5"),  # not minor units: as given
]


@pytest.mark.parametrize(("source", "context", "written"), FILTER_CASES)
def test_the_console_filters_pick_the_one_function_and_never_fail_a_page(source, context, written):
    template = Template("{% load console %}" + source)
    assert template.render(Context(context)) == written


# --- on the pages ------------------------------------------------------------------------


@pytest.fixture
def officer(make_officer):
    return signed_in_client(make_officer("numbers", "compliance_officer", "risk_officer"))


@pytest.mark.django_db
def test_the_board_writes_each_reference_and_band_at_its_tick(officer, demo_instruments):
    from risk import demo

    demo.seed_market_prices(clock.now())
    html = officer.get("/markets/board").content.decode()
    references = dict(re.findall(r'data-testid="reference-([A-Z-]+)">([^<]*)<', html))
    assert references["AAPL-PERP"] == "230.00"  # stored as 230.00000000
    assert references["BTC-PERP"] == "110000.0"  # tick 0.5
    assert references["USTB-RWA"] == "100.0000"  # tick 0.0001
    assert "00000000" not in html
    detail = officer.get("/markets/AAPL-PERP/").content.decode()
    assert 'data-testid="reference">230.00<' in detail
    assert "tick 0.01 · lot 0.01" in detail


@pytest.mark.django_db
def test_the_pretrade_pages_write_prices_at_the_tick_and_quantities_at_the_lot(
    officer, demo_instruments
):
    from risk.models import PretradeDecision

    decision = PretradeDecision.objects.create(
        account_id="acc-1",
        order_id="o-fmt",
        instrument="BTC-PERP",
        side="buy",
        quantity=D("0.5"),
        price=D("110000"),
        order_type="limit",
        decision="accept",
        reason_codes="",
        reasons=[],
        reservation={"quantity": "0.5", "margin": "1100"},
        policy_version="rb1",
        evaluated_at=clock.now() - timedelta(minutes=1),
        fingerprint="f" * 64,
    )
    listing = officer.get("/pretrade/").content.decode()
    assert '<td class="num">0.500</td><td class="num">110000.0</td>' in listing
    assert "0000000000" not in listing  # the column's ten places
    detail = officer.get(f"/pretrade/{decision.pk}/").content.decode()
    assert "buy 0.500 BTC-PERP limit at 110000.0" in detail
    assert "1100.000000 USDC" in detail  # the margin at the collateral asset's scale


@pytest.mark.django_db
def test_the_custody_page_writes_breaks_at_the_assets_scale(officer):
    from custody import reconciliation, services

    services.deposit(
        id="dep-1",
        account_id="acc-1",
        asset="BTC",
        amount=150_000_000,
        custody_wallet="w-1",
        now=clock.now() - timedelta(minutes=1),
    )
    reconciliation.record_statement(
        custodian="anchorage",
        as_of=clock.now() - timedelta(seconds=1),
        balances=[reconciliation.StatementBalance("w-1", "BTC", 149_999_999)],
        actor="test",
    )
    html = officer.get("/custody/").content.decode()
    assert "1.49999999" in html and "1.50000000" in html and "-0.00000001" in html
    assert "149999999" not in html


@pytest.mark.django_db
def test_report_sections_write_amounts_at_the_assets_scale():
    """The report's custody sections write minor units with ``custody.money.from_minor``,
    the function the console's ``minor_amount`` filter calls."""
    from custody import reconciliation, services
    from custody.sections import reconciliation_breaks

    now = clock.now()
    services.deposit(
        id="dep-r",
        account_id="acc-1",
        asset="USDC",
        amount=5,
        custody_wallet="w-2",
        now=now - timedelta(minutes=1),
    )
    reconciliation.record_statement(
        custodian="bitgo",
        as_of=now - timedelta(seconds=1),
        balances=[reconciliation.StatementBalance("w-2", "USDC", 7)],
        actor="test",
    )
    columns, rows = reconciliation_breaks(now - timedelta(days=1), now + timedelta(days=1))
    (row,) = rows
    by_column = dict(zip(columns, row, strict=True))
    assert (by_column["statement"], by_column["ledger"], by_column["break"]) == (
        "0.000007",
        "0.000005",
        "0.000002",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asset", "summary"),
    [
        ("USDC", "Adjust 1.500000 USDC: suspense:venue → custody_wallet:w-1"),
        # an asset the ledger does not know: said as given, never a broken page
        ("XXX", "Adjust 1500000 minor units of XXX: suspense:venue → custody_wallet:w-1"),
    ],
)
def test_a_ledger_adjustment_proposal_names_its_amount_at_the_assets_scale(
    make_officer, asset, summary
):
    """Before: ``Adjust 1500000 USDC``, the form's minor units read as whole dollars."""
    from console import maker_checker

    maker = make_officer("mia", "compliance_officer")
    proposal = maker_checker.propose(
        kind="ledger.adjustment",
        payload={
            "id": "adj-1",
            "debit_account_id": "suspense:venue",
            "credit_account_id": "custody_wallet:w-1",
            "asset": asset,
            "amount": 1_500_000,
        },
        reason="custodian fee",
        maker=maker,
    )
    html = signed_in_client(maker).get(f"/proposals/{proposal.pk}/").content.decode()
    assert f"Proposal {proposal.pk}: {summary}" in html
