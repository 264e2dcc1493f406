"""What the pre-trade check's stateless stage (``checks``) judges: an order as parsed at
the edge, and the facts it is judged on: the market's conditions, the account's standing
and the jurisdiction gate's verdicts. Plain values, built at the edges (``check``), read
by pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from risk.markets.view import MarketView


@dataclass(frozen=True, slots=True)
class Order:
    """An order as parsed at the edge (decimals already exact, enums already checked)."""

    order_id: str
    account_id: str
    instrument: str
    side: str
    quantity: Decimal
    order_type: str
    price: Decimal | None = None
    reduce_only: bool = False
    client_ip: str | None = None
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarketConditions:
    """The instrument's market at ``now``: state, reference and band, session limits, and
    whether its kill switch is engaged (the market hash carries it)."""

    state: str
    reference_price: Decimal | None
    band_lower: Decimal | None
    band_upper: Decimal | None
    session: str
    leverage_cap_fraction: Decimal = Decimal(1)
    position_limit_fraction: Decimal = Decimal(1)
    reason: str | None = None
    kill_switch: bool = False

    @classmethod
    def of(cls, view: MarketView) -> MarketConditions:
        band, params = view.band, view.session_params
        return cls(
            state=view.state.value,
            reference_price=view.reference_price,
            band_lower=None if band is None else band.lower,
            band_upper=None if band is None else band.upper,
            session=view.session.value,
            leverage_cap_fraction=params.leverage_cap_fraction,
            position_limit_fraction=params.position_limit_fraction,
            reason=view.reason,
            kill_switch=view.kill_switch,
        )


@dataclass(frozen=True, slots=True)
class AccountStanding:
    """What the snapshot knows of the account before Redis is asked."""

    known: bool
    status: str = "active"

    @classmethod
    def of(cls, profile) -> AccountStanding:
        """From the account's profile in the compliance snapshot (None: not known)."""
        return cls(known=False) if profile is None else cls(known=True, status=profile.status)


@dataclass(frozen=True, slots=True)
class AccessVerdicts:
    """The jurisdiction gate's effects for opening and for reducing, with their reasons."""

    open_effect: str
    open_reasons: tuple[dict, ...] = ()
    reduce_effect: str = "allow"
    reduce_reasons: tuple[dict, ...] = ()
