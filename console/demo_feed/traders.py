"""The demo's traders: a few demo accounts sending orders through the pre-trade API from
their own IP addresses, at a gentle rate, and filling or cancelling what is accepted -- so
the decision pages, the rejects by reason and the positions fill in with real decisions.

Most orders are ordinary limit orders near the reference from accounts the rulebook allows
(SG, HK, GB residents from home). The others are refused for real reasons, by the venue's own
checks, never by the feed's say-so:

- ``outside_band``: a fat-fingered price beyond the band (``PRICE_OUTSIDE_BAND``);
- ``oversize``: more than the instrument's per-order cap (``ORDER_QUANTITY_LIMIT``);
- ``over_margin``: a GB retail client with 100k USDC asking for 150-250k of exposure unlevered
  (``INSUFFICIENT_MARGIN``) -- the same client who, trading ordinarily, keeps at most 40k of
  exposure per instrument, so its ordinary orders are not refused for margin;
- ``restricted``: a mainland-China resident, a US person, an Iranian resident, an SG fund
  controlled from the mainland, an SG client connecting from the US, a holder whose name is
  under sanctions review (``JURISDICTION_*``, ``SANCTIONS_REVIEW``); a GB retail client
  choosing the BTC perp is refused the same way (FCA PS20/10).

Orders placed while a market is paused or in its limit state are refused for that, too. Each
accepted order is later filled, filled in part and cancelled, or cancelled. Ordinary traders
lean against their own positions, so exposure (and margin) stays bounded in a demo that runs
for days. Every choice is a pure function of (seed, step): ``order_at`` and ``follow_up_for``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from console.demo_feed.markets import DemoInstrument, Quote
from console.demo_feed.walk import STEP_SECONDS, step_random
from core.decimals import plain


@dataclass(frozen=True, slots=True)
class Trader:
    account_id: str
    client_ip: str
    soft_position_notional: Decimal = Decimal(100000)
    """Above this exposure in one instrument the trader only reduces it: sized so that a
    position this large in every demo instrument fits the account's collateral at the
    weekend's leverage caps, so the trader is not refused for margin by its own drift."""


# Addresses from the shipped GeoLite2 build (RULES.md §7).
ORDINARY_TRADERS = (
    Trader("acc-sg", "165.21.83.88"),  # SG resident, from Singapore
    Trader("acc-hk", "203.198.7.66"),  # HK professional, from Hong Kong
    Trader("acc-gb", "81.2.69.142", Decimal(40000)),  # GB retail, 100k USDC, from London
)
RESTRICTED_TRADERS = (
    Trader("acc-cn", "114.114.114.114"),  # mainland resident (PRC notice 2026)
    Trader("acc-us", "8.8.8.8"),  # US person: perps are not offered
    Trader("acc-ir", "5.160.0.1"),  # Iran: OFAC comprehensive programme
    Trader("acc-sg-fund", "165.21.83.88"),  # SG fund controlled from the mainland
    Trader("acc-sg", "8.8.8.8"),  # an SG resident connecting from the US
    Trader("acc-de", "1.1.1.1"),  # a holder whose name awaits a sanctions decision
)
OVER_MARGIN_TRADER = Trader("acc-gb", "81.2.69.142")

ORDINARY_NOTIONAL = (Decimal(2000), Decimal(30000))
OVER_MARGIN_NOTIONAL = (Decimal(150000), Decimal(250000))
NEAR_REFERENCE = Decimal("0.003")
"""Ordinary limit prices lie within ±0.3% of the reference."""
FAT_FINGER = (Decimal("0.01"), Decimal("0.03"))
"""A fat-fingered price lies 1-3% beyond the band edge."""
OVERSIZE_FACTOR = (Decimal("1.2"), Decimal(2))
"""An oversized order asks for 1.2-2 times the per-order cap."""


class Intent(StrEnum):
    ORDINARY = "ordinary"
    MARKET = "market"
    OUTSIDE_BAND = "outside_band"
    OVERSIZE = "oversize"
    OVER_MARGIN = "over_margin"
    RESTRICTED = "restricted"


INTENT_WEIGHTS = (
    (Intent.ORDINARY, 58),
    (Intent.MARKET, 6),
    (Intent.OUTSIDE_BAND, 8),
    (Intent.OVERSIZE, 6),
    (Intent.OVER_MARGIN, 6),
    (Intent.RESTRICTED, 16),
)


@dataclass(frozen=True, slots=True)
class DemoOrder:
    order_id: str
    intent: Intent
    trader: Trader
    instrument: str
    side: str
    quantity: Decimal
    price: Decimal | None
    """None for a market order."""
    fill_price: Decimal
    """Where a fill would print: the limit price, or the reference a market order met."""
    leverage: Decimal | None = None

    def body(self) -> dict:
        """The ``POST /pretrade/check`` body: decimals as strings (API.md)."""
        body = {
            "order_id": self.order_id,
            "account_id": self.trader.account_id,
            "instrument": self.instrument,
            "side": self.side,
            "quantity": plain(self.quantity),
            "price": None if self.price is None else plain(self.price),
            "order_type": "limit" if self.price is not None else "market",
            "reduce_only": False,
            "client_ip": self.trader.client_ip,
        }
        if self.leverage is not None:
            body["leverage"] = plain(self.leverage)
        return body


def order_arrives(seed: int, step: int, mean_seconds: float) -> bool:
    """Whether an order is sent at ``step``: one every ``mean_seconds`` on average."""
    if mean_seconds <= 0:
        return False
    chance = min(1.0, STEP_SECONDS / mean_seconds)
    return step_random(seed, "", step, "order").random() < chance


def _between(draw, bounds: tuple[Decimal, Decimal]) -> Decimal:
    low, high = bounds
    return low + (high - low) * Decimal(draw.random())


def order_at(
    seed: int,
    step: int,
    run_id: str,
    instruments: Mapping[str, DemoInstrument],
    quotes: Mapping[str, Quote],
    prices: Mapping[str, Decimal],
    positions: Mapping[tuple[str, str], Decimal],
) -> DemoOrder:
    """The order sent at ``step``. ``prices``: the feed's current price of each instrument,
    used where the venue has no reference to price against; ``positions``: (account,
    instrument) -> position, as the fills answered."""
    draw = step_random(seed, "", step, "order-intent")
    intent = draw.choices([i for i, _ in INTENT_WEIGHTS], [w for _, w in INTENT_WEIGHTS])[0]
    symbols = sorted(instruments)
    if intent is Intent.OVER_MARGIN:
        symbols = [s for s in symbols if instruments[s].product_class == "equity_perp"] or symbols
    symbol = draw.choice(symbols)
    instrument, quote = instruments[symbol], quotes.get(symbol)
    base = quote.reference if quote is not None and quote.reference is not None else prices[symbol]
    if intent is Intent.OUTSIDE_BAND and (quote is None or quote.band is None):
        intent = Intent.ORDINARY
    order_id = f"demo-{run_id}-{step}"
    trader = draw.choice(ORDINARY_TRADERS)
    if intent is Intent.RESTRICTED:
        trader = draw.choice(RESTRICTED_TRADERS)
    elif intent is Intent.OVER_MARGIN:
        trader = OVER_MARGIN_TRADER
    side = _side(draw, positions.get((trader.account_id, symbol), Decimal(0)) * base, trader)
    price = instrument.on_tick(base * (1 + (2 * Decimal(draw.random()) - 1) * NEAR_REFERENCE))
    quantity = instrument.lots(_between(draw, ORDINARY_NOTIONAL) / base)
    leverage = None
    if intent is Intent.MARKET:
        price = None
    elif intent is Intent.OUTSIDE_BAND:
        assert quote is not None and quote.band is not None
        beyond = _between(draw, FAT_FINGER)
        edge = quote.band.upper * (1 + beyond) if side == "buy" else quote.band.lower * (1 - beyond)
        price = instrument.on_tick(edge)
    elif intent is Intent.OVERSIZE:
        quantity = instrument.lots(instrument.max_order_quantity * _between(draw, OVERSIZE_FACTOR))
    elif intent is Intent.OVER_MARGIN:
        quantity = instrument.lots(_between(draw, OVER_MARGIN_NOTIONAL) / base)
        leverage = Decimal(1)
    fill_price = price if price is not None else instrument.on_tick(base)
    return DemoOrder(order_id, intent, trader, symbol, side, quantity, price, fill_price, leverage)


def _side(draw, exposure: Decimal, trader: Trader) -> str:
    """Lean against the position: above the soft limit only the reducing side."""
    if exposure > trader.soft_position_notional:
        return "sell"
    if exposure < -trader.soft_position_notional:
        return "buy"
    return "buy" if draw.random() < 0.5 else "sell"


class FollowUpKind(StrEnum):
    FILL = "fill"
    PARTIAL_FILL = "partial_fill"
    """Half is filled, the rest cancelled."""
    CANCEL = "cancel"


FOLLOW_UP_WEIGHTS = (
    (FollowUpKind.FILL, 55),
    (FollowUpKind.PARTIAL_FILL, 20),
    (FollowUpKind.CANCEL, 25),
)
FOLLOW_UP_DELAY_STEPS = (2, 10)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What happens to an accepted order, and at which step."""

    due_step: int
    order: DemoOrder
    kind: FollowUpKind

    def fill_quantity(self, lot_size: Decimal) -> Decimal:
        if self.kind is FollowUpKind.FILL:
            return self.order.quantity
        half = int(self.order.quantity / lot_size / 2)
        return half * lot_size


def follow_up_for(seed: int, order: DemoOrder, accepted_step: int) -> FollowUp:
    draw = step_random(seed, order.order_id, accepted_step, "follow-up")
    kinds = [kind for kind, _ in FOLLOW_UP_WEIGHTS]
    kind = draw.choices(kinds, [weight for _, weight in FOLLOW_UP_WEIGHTS])[0]
    delay = draw.randint(*FOLLOW_UP_DELAY_STEPS)
    return FollowUp(accepted_step + delay, order, kind)


# Visitors looking at the venue before they sign in (API.md: the access gate without an
# account is about the location alone): from Hong Kong and Singapore, which may trade, and
# from the mainland, the US and Iran, which the rulebook keeps out of some products.
VISITORS = ("203.198.7.66", "165.21.83.88", "114.114.114.114", "8.8.8.8", "5.160.0.1")
VISITOR_PRODUCTS = ("rwa_token", "equity_perp", "crypto_perp")


def access_checks_at(seed: int, step: int, order: DemoOrder, product_class: str) -> list[dict]:
    """The access checks asked at ``step`` with its order: the trader's own (may this
    account open this product from here?) and, one step in two, an anonymous visitor's --
    so the access gate's decisions, its denials by jurisdiction and their chart fill in."""
    checks = [
        {
            "account_id": order.trader.account_id,
            "client_ip": order.trader.client_ip,
            "product_class": product_class,
            "action": "open",
        }
    ]
    draw = step_random(seed, "", step, "visitor")
    if draw.random() < 0.5:
        checks.append(
            {
                "client_ip": draw.choice(VISITORS),
                "product_class": draw.choice(VISITOR_PRODUCTS),
                "action": "view" if draw.random() < 0.3 else "open",
            }
        )
    return checks
