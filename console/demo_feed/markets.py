"""What the demo feed knows of a market: the instrument's terms it prices with, and the state,
reference and band the venue last answered (the ticks API answers them for every instrument
a batch touched, so the feed never has to ask separately)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from console.demo_feed.walk import to_ticks


@dataclass(frozen=True, slots=True)
class DemoInstrument:
    symbol: str
    product_class: str
    calendar: str
    tick_size: Decimal
    lot_size: Decimal
    max_order_quantity: Decimal
    is_market_index: bool
    opening_price: Decimal
    """Where the walk starts when the venue has no reference yet."""

    def on_tick(self, price: Decimal) -> Decimal:
        """``price`` rounded to the nearest tick (half-even), never below one tick."""
        return to_ticks(price, self.tick_size) * self.tick_size

    def lots(self, quantity: Decimal) -> Decimal:
        """``quantity`` rounded down to whole lots, at least one lot."""
        whole = int(quantity / self.lot_size)
        return max(1, whole) * self.lot_size


@dataclass(frozen=True, slots=True)
class Band:
    lower: Decimal
    upper: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """A market as the venue last answered it (``GET /markets/{symbol}/state``'s shape)."""

    state: str
    session: str
    reference: Decimal | None
    band: Band | None
    reason: str | None = None

    @classmethod
    def from_contract(cls, body: dict) -> Quote:
        band = body.get("band")
        reference = body.get("reference_price")
        return cls(
            state=body["state"],
            session=body["session"],
            reference=None if reference is None else Decimal(reference),
            band=None if band is None else Band(Decimal(band["lower"]), Decimal(band["upper"])),
            reason=body.get("reason"),
        )


def demo_instruments() -> list[DemoInstrument]:
    """The demo's instruments as the database defines them now (an officer's change of tick
    or cap is respected from the feed's next start), with the demo's opening prices."""
    from risk.demo import DEMO_PRICES
    from risk.models import Instrument

    rows = Instrument.objects.filter(symbol__in=DEMO_PRICES).order_by("symbol")
    return [
        DemoInstrument(
            symbol=row.symbol,
            product_class=row.product_class,
            calendar=row.calendar,
            tick_size=row.tick_size.normalize(),
            lot_size=row.lot_size.normalize(),
            max_order_quantity=row.max_order_quantity.normalize(),
            is_market_index=row.is_market_index,
            opening_price=Decimal(DEMO_PRICES[row.symbol]),
        )
        for row in rows
    ]
