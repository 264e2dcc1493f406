"""The markets of the demo (``make run``; loaded by ``console.demo``): instruments, accounts
in six jurisdictions, and a close, external and book price for each instrument so its
reference and band mean something from the first request. Loaded once; officers' later
changes are never overwritten, and an instrument that already has prices gets none."""

from __future__ import annotations

from decimal import Decimal

from compliance import services as compliance_services
from compliance.models import AccountProfile
from risk.markets import services as risk_services
from risk.markets.record import InstrumentDefinition
from risk.markets.sessions import CONTINUOUS_CALENDAR, session_at
from risk.markets.ticks import PriceTick, TickSource
from risk.models import Instrument

ACTOR = "system:demo"

INSTRUMENTS = [
    # symbol, class, underlying, calendar, tier, tick, lot, leverage, max qty, max notional,
    # max position notional, open-interest cap, market index
    (
        "AAPL-PERP",
        "equity_perp",
        "AAPL",
        "XNYS",
        1,
        "0.01",
        "0.01",
        "20",
        "10000",
        "2000000",
        "5000000",
        "500000",
        False,
    ),
    (
        "NVDA-PERP",
        "equity_perp",
        "NVDA",
        "XNYS",
        1,
        "0.01",
        "0.01",
        "20",
        "10000",
        "2000000",
        "5000000",
        "500000",
        False,
    ),
    (
        "TSLA-PERP",
        "equity_perp",
        "TSLA",
        "XNYS",
        1,
        "0.01",
        "0.01",
        "10",
        "5000",
        "1000000",
        "3000000",
        "300000",
        False,
    ),
    (
        "SPY-PERP",
        "equity_perp",
        "SPY",
        "XNYS",
        1,
        "0.01",
        "0.01",
        "25",
        "20000",
        "5000000",
        "10000000",
        "1000000",
        True,
    ),
    (
        "BTC-PERP",
        "crypto_perp",
        "BTC",
        "24x7",
        1,
        "0.5",
        "0.001",
        "50",
        "100",
        "5000000",
        "10000000",
        "5000",
        False,
    ),
    (
        "USTB-RWA",
        "rwa_token",
        "US-TBILL",
        "24x7",
        2,
        "0.0001",
        "1",
        "1",
        "1000000",
        "1000000",
        "5000000",
        "100000000",
        False,
    ),
]

DEMO_PRICES = {
    "AAPL-PERP": "230.00",
    "NVDA-PERP": "180.00",
    "TSLA-PERP": "430.00",
    "SPY-PERP": "670.00",
    "BTC-PERP": "110000.0",
    "USTB-RWA": "100.0000",
}

ACCOUNTS = [
    # account id, residence, subdivision, nationalities, entity type, controlling, category
    ("acc-sg", "SG", "", ["SG"], "individual", [], "retail"),
    ("acc-hk", "HK", "", ["HK"], "individual", [], "professional"),
    ("acc-cn", "CN", "", ["CN"], "individual", [], "retail"),
    ("acc-us", "US", "US-NY", ["US"], "individual", [], "retail"),
    ("acc-gb", "GB", "", ["GB"], "individual", [], "retail"),
    ("acc-ir", "IR", "", ["IR"], "individual", [], "retail"),
    ("acc-sg-fund", "SG", "", [], "entity", ["CN"], "professional"),
    ("acc-de", "DE", "", ["DE"], "individual", [], "retail"),
]

SCREENED_NAMES = {"acc-de": ("Gerhard Wiser", "1962-05-14")}
"""A demo holder whose name is one letter from a listed person's (OFAC SDN "WISSER,
Gerhard", born 1939): screening opens a case on the first load, for the console's screening
page; the date of birth contradicts the entry's, as an officer clearing it would note."""


def _fields(row: tuple) -> dict:
    (_, product, underlying, calendar, tier, tick, lot, lev, qty, notional, position, oi, index) = (
        row
    )
    return {
        "product_class": product,
        "underlying": underlying,
        "calendar": calendar,
        "tier": tier,
        "tick_size": Decimal(tick),
        "lot_size": Decimal(lot),
        "max_leverage": Decimal(lev),
        "max_order_quantity": Decimal(qty),
        "max_order_notional": Decimal(notional),
        "max_position_notional": Decimal(position),
        "open_interest_cap": Decimal(oi),
        "is_market_index": index,
    }


def definitions() -> dict[str, InstrumentDefinition]:
    """The demo instruments as the market controller sees them (replay uses them when the
    database defines none)."""
    found = {}
    for row in INSTRUMENTS:
        fields = _fields(row)
        found[row[0]] = InstrumentDefinition(
            symbol=row[0],
            product_class=fields["product_class"],
            calendar=fields["calendar"],
            tier=fields["tier"],
            tick_size=fields["tick_size"],
            max_leverage=fields["max_leverage"],
            is_market_index=fields["is_market_index"],
        )
    return found


def load_instruments() -> int:
    """Create the demo instruments that do not exist yet; returns how many."""
    created = 0
    for row in INSTRUMENTS:
        symbol = row[0]
        if Instrument.objects.filter(symbol=symbol).exists():
            continue
        if row[-1] and Instrument.objects.filter(is_market_index=True).exists():
            continue
        risk_services.put_instrument(symbol=symbol, fields=_fields(row), actor=ACTOR)
        created += 1
    return created


def seed_market_prices(now) -> int:
    """A close (stamped at the last official close), an external and a book price for each
    demo instrument that has no prices yet; returns how many instruments were seeded."""
    from risk.markets.live import live_controller

    controller = live_controller()
    seeded = 0
    for symbol, price in DEMO_PRICES.items():
        row = Instrument.objects.filter(symbol=symbol).first()
        if row is None:
            continue
        stored = controller.store.read(symbol)
        if stored.get("ref_close") or stored.get("ref_external") or stored.get("ref_book"):
            continue
        close_at = now
        if row.calendar != CONTINUOUS_CALENDAR:
            close_at = session_at(now, row.calendar).last_official_close or now
        value = Decimal(price)
        ticks = [
            PriceTick(TickSource.CLOSE, value, close_at),
            PriceTick(TickSource.EXTERNAL, value, now),
            PriceTick(TickSource.BOOK, value, now),
        ]
        controller.apply_ticks(symbol, ticks, now)
        seeded += 1
    return seeded


def load_accounts() -> int:
    """Create the demo accounts' profiles that do not exist yet; returns how many."""
    created = 0
    for account_id, country, subdivision, nationalities, kind, controlling, category in ACCOUNTS:
        if AccountProfile.objects.filter(account_id=account_id).exists():
            continue
        fields = {
            "residence_country": country,
            "residence_subdivision": subdivision,
            "nationalities": nationalities,
            "entity_type": kind,
            "controlling_countries": controlling,
            "investor_category": category,
            "status": "active",
        }
        if account_id in SCREENED_NAMES:
            fields["full_name"], fields["date_of_birth"] = SCREENED_NAMES[account_id]
        compliance_services.put_account_profile(account_id=account_id, facts=fields, actor=ACTOR)
        created += 1
    return created
