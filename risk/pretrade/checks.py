"""The pre-trade check's stateless stage: pure functions over an order, the policy
snapshot's view of its instrument and account, the market's conditions and the access
gate's verdicts. Nothing here touches Redis; the atomic stage (``risk/atomic.py``) then
checks and reserves what must be consistent per account.

Check order follows SEC Rule 15c3-5's control list (RULES.md §3) and ranks like
NautilusTrader's RiskEngine (trading state before precision before size). A reject lists
every failing check, so the stages keep going after a failure whenever their inputs still
make sense (an unknown instrument stops the price checks; nothing else does).

Units handed to the atomic stage are integers so Lua (whose numbers are doubles) never sees
a fraction: quantities in lots of the instrument, money in micro-units of the quote
currency, rounded towards safety (margin and notional up, limits down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

QUOTE_SCALE = Decimal(1_000_000)  # money in the atomic stage: micro-units of the quote

BUY, SELL = "buy", "sell"
LIMIT, MARKET = "limit", "market"

# Reason codes of the contract (API.md "Pre-trade check"), defined once.
KILL_SWITCH = "KILL_SWITCH"
ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
JURISDICTION_BLOCKED = "JURISDICTION_BLOCKED"
JURISDICTION_CLOSE_ONLY = "JURISDICTION_CLOSE_ONLY"
JURISDICTION_REVIEW = "JURISDICTION_REVIEW"
MARKET_HALTED = "MARKET_HALTED"
MARKET_PAUSED = "MARKET_PAUSED"
MARKET_CLOSE_ONLY = "MARKET_CLOSE_ONLY"
PRICE_OUTSIDE_BAND = "PRICE_OUTSIDE_BAND"
NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
TICK_SIZE = "TICK_SIZE"
LOT_SIZE = "LOT_SIZE"
ORDER_QUANTITY_LIMIT = "ORDER_QUANTITY_LIMIT"
ORDER_NOTIONAL_LIMIT = "ORDER_NOTIONAL_LIMIT"
POSITION_LIMIT = "POSITION_LIMIT"
OPEN_INTEREST_LIMIT = "OPEN_INTEREST_LIMIT"
LEVERAGE_LIMIT = "LEVERAGE_LIMIT"
INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
RATE_LIMIT = "RATE_LIMIT"
REDUCE_ONLY_VIOLATION = "REDUCE_ONLY_VIOLATION"
DEGRADED_FAIL_CLOSED = "DEGRADED_FAIL_CLOSED"

REASON_CODES = frozenset(
    {
        KILL_SWITCH, ACCOUNT_SUSPENDED, UNKNOWN_ACCOUNT, UNKNOWN_INSTRUMENT,
        JURISDICTION_BLOCKED, JURISDICTION_CLOSE_ONLY, JURISDICTION_REVIEW, MARKET_HALTED,
        MARKET_PAUSED, MARKET_CLOSE_ONLY, PRICE_OUTSIDE_BAND, NO_REFERENCE_PRICE, TICK_SIZE,
        LOT_SIZE, ORDER_QUANTITY_LIMIT, ORDER_NOTIONAL_LIMIT, POSITION_LIMIT,
        OPEN_INTEREST_LIMIT, LEVERAGE_LIMIT, INSUFFICIENT_MARGIN, RATE_LIMIT,
        REDUCE_ONLY_VIOLATION, DEGRADED_FAIL_CLOSED,
    }
)  # fmt: skip

# Which check each code belongs to (the contract's ``check`` field).
CHECK_OF = {
    KILL_SWITCH: "kill_switch", ACCOUNT_SUSPENDED: "account", UNKNOWN_ACCOUNT: "account",
    UNKNOWN_INSTRUMENT: "instrument", JURISDICTION_BLOCKED: "jurisdiction",
    JURISDICTION_CLOSE_ONLY: "jurisdiction", JURISDICTION_REVIEW: "jurisdiction",
    MARKET_HALTED: "market_state", MARKET_PAUSED: "market_state",
    MARKET_CLOSE_ONLY: "market_state", PRICE_OUTSIDE_BAND: "price_band",
    NO_REFERENCE_PRICE: "price_band", TICK_SIZE: "precision", LOT_SIZE: "precision",
    ORDER_QUANTITY_LIMIT: "order_size", ORDER_NOTIONAL_LIMIT: "order_size",
    POSITION_LIMIT: "position", OPEN_INTEREST_LIMIT: "open_interest",
    LEVERAGE_LIMIT: "leverage", INSUFFICIENT_MARGIN: "margin", RATE_LIMIT: "rate_limit",
    REDUCE_ONLY_VIOLATION: "reduce_only", DEGRADED_FAIL_CLOSED: "availability",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    detail: tuple[tuple[str, str], ...] = ()

    def as_contract(self) -> dict:
        return {
            "code": self.code,
            "check": CHECK_OF[self.code],
            "message": self.message,
            "detail": dict(self.detail),
        }


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
class InstrumentTerms:
    """The contract's per-instrument limits, from the policy snapshot."""

    symbol: str
    product_class: str
    tick_size: Decimal
    lot_size: Decimal
    max_leverage: Decimal
    max_order_quantity: Decimal
    max_order_notional: Decimal
    max_position_notional: Decimal
    open_interest_cap: Decimal
    kill_switch: bool = False


@dataclass(frozen=True, slots=True)
class MarketConditions:
    """The instrument's market at ``now``: state, reference and band, session limits."""

    state: str
    reference_price: Decimal | None
    band_lower: Decimal | None
    band_upper: Decimal | None
    session: str
    leverage_cap_fraction: Decimal = Decimal(1)
    position_limit_fraction: Decimal = Decimal(1)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AccountStanding:
    """What the snapshot knows of the account before Redis is asked."""

    known: bool
    status: str = "active"


@dataclass(frozen=True, slots=True)
class AccessVerdicts:
    """The jurisdiction gate's effects for opening and for reducing, with their reasons."""

    open_effect: str
    open_reasons: tuple[dict, ...] = ()
    reduce_effect: str = "allow"
    reduce_reasons: tuple[dict, ...] = ()


@dataclass(slots=True)
class Assessment:
    """The stateless stage's result and what the atomic stage must enforce."""

    reasons: list[Reason] = field(default_factory=list)
    jurisdiction_reasons: list[dict] = field(default_factory=list)
    unless_reducing: list[dict] = field(default_factory=list)
    priced_at: Decimal | None = None
    leverage: Decimal | None = None
    notional: Decimal | None = None
    margin: Decimal | None = None
    quantity_lots: int = 0
    margin_micro: int = 0
    max_position_lots: int = 0
    open_interest_cap_lots: int = 0

    @property
    def rejected(self) -> bool:
        return bool(self.reasons or self.jurisdiction_reasons)

    @property
    def must_reduce(self) -> bool:
        """The atomic stage must refuse the order unless it reduces the position."""
        return bool(self.unless_reducing)

    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def _reason(code: str, message: str, **detail: object) -> Reason:
    return Reason(code, message, tuple((k, str(v)) for k, v in detail.items()))


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step == 0


def _market_checks(order: Order, market: MarketConditions, out: Assessment) -> None:
    """Trading state (DESIGN.md "Breakers"): halts and pauses stop every order; close-only
    and LULD limit state let only orders that reduce exposure through (the atomic stage
    knows the position, so it enforces that)."""
    if market.state == "halted":
        out.reasons.append(_reason(MARKET_HALTED, "Trading is halted.", reason=market.reason))
    elif market.state == "paused":
        out.reasons.append(_reason(MARKET_PAUSED, "Trading is paused.", reason=market.reason))
    elif market.state in ("close_only", "limit_state"):
        out.unless_reducing.append(
            _reason(
                MARKET_CLOSE_ONLY,
                "Only orders that reduce exposure are accepted.",
                state=market.state,
                reason=market.reason,
            ).as_contract()
        )


def _price_checks(
    order: Order, terms: InstrumentTerms, market: MarketConditions, out: Assessment
) -> None:
    """Price collar against the reference (15c3-5 erroneous-order control): a limit price
    outside the band is refused; a market order is priced at the band edge on its side."""
    if market.reference_price is None or market.band_lower is None or market.band_upper is None:
        out.reasons.append(
            _reason(NO_REFERENCE_PRICE, "No usable reference price for this instrument.")
        )
        if order.price is not None:
            out.priced_at = order.price
        return
    if order.order_type == MARKET:
        out.priced_at = market.band_upper if order.side == BUY else market.band_lower
        return
    out.priced_at = order.price
    if not market.band_lower <= order.price <= market.band_upper:
        out.reasons.append(
            _reason(
                PRICE_OUTSIDE_BAND,
                "The limit price is outside the price band.",
                price=order.price,
                lower=market.band_lower,
                upper=market.band_upper,
            )
        )


def _size_checks(
    order: Order, terms: InstrumentTerms, market: MarketConditions, out: Assessment
) -> None:
    if order.price is not None and not _is_multiple(order.price, terms.tick_size):
        out.reasons.append(
            _reason(
                TICK_SIZE,
                "The price is not a multiple of the tick size.",
                tick_size=terms.tick_size,
            )
        )
    if not _is_multiple(order.quantity, terms.lot_size):
        out.reasons.append(
            _reason(
                LOT_SIZE, "The quantity is not a multiple of the lot size.", lot_size=terms.lot_size
            )
        )
    if order.quantity > terms.max_order_quantity:
        out.reasons.append(
            _reason(
                ORDER_QUANTITY_LIMIT,
                "The quantity exceeds the per-order maximum.",
                max_order_quantity=terms.max_order_quantity,
            )
        )
    if out.priced_at is not None:
        out.notional = order.quantity * out.priced_at
        if out.notional > terms.max_order_notional:
            out.reasons.append(
                _reason(
                    ORDER_NOTIONAL_LIMIT,
                    "The notional exceeds the per-order maximum.",
                    notional=out.notional,
                    max_order_notional=terms.max_order_notional,
                )
            )
    cap = terms.max_leverage * market.leverage_cap_fraction
    out.leverage = cap if order.leverage is None else order.leverage
    if order.leverage is not None and order.leverage > cap:
        out.reasons.append(
            _reason(
                LEVERAGE_LIMIT,
                "The leverage exceeds this session's cap.",
                leverage=order.leverage,
                cap=cap,
                session=market.session,
            )
        )


def _jurisdiction(access: AccessVerdicts, order: Order, out: Assessment) -> None:
    """An order is judged by what it does: if reducing is permitted where opening is not
    (the wind-down's ``close_only``, a product ban that leaves ``reduce`` alone), the
    opening verdict only applies when the atomic stage finds the order adds exposure.
    ``JURISDICTION_CLOSE_ONLY`` therefore lets a reducing order through."""
    if order.reduce_only:
        if access.reduce_effect not in ("allow", "close_only"):
            out.jurisdiction_reasons.extend(access.reduce_reasons)
        return
    if access.open_effect == "allow":
        return
    if access.reduce_effect in ("allow", "close_only"):
        # Refused unless reducing: the opening verdict and, when reducing itself is only
        # allowed as close-only (the wind-down), that verdict too.
        out.unless_reducing.extend(access.open_reasons)
        if access.reduce_effect == "close_only":
            out.unless_reducing.extend(access.reduce_reasons)
    else:
        out.jurisdiction_reasons.extend(access.open_reasons)


def _to_integers(
    order: Order, terms: InstrumentTerms, market: MarketConditions, out: Assessment
) -> None:
    """Exact integers for Lua, rounded towards safety."""
    lots = order.quantity / terms.lot_size
    out.quantity_lots = int(lots.to_integral_value(ROUND_CEILING))
    if out.notional is not None and out.leverage and out.leverage > 0:
        out.margin = out.notional / out.leverage
        out.margin_micro = int((out.margin * QUOTE_SCALE).to_integral_value(ROUND_CEILING))
    if out.priced_at:
        cap = terms.max_position_notional * market.position_limit_fraction
        lot_value = out.priced_at * terms.lot_size
        out.max_position_lots = int((cap / lot_value).to_integral_value(ROUND_FLOOR))
    out.open_interest_cap_lots = int(
        (terms.open_interest_cap / terms.lot_size).to_integral_value(ROUND_FLOOR)
    )


def assess(
    order: Order,
    *,
    terms: InstrumentTerms | None,
    account: AccountStanding,
    market: MarketConditions | None,
    access: AccessVerdicts | None,
    global_kill: bool,
) -> Assessment:
    """Every stateless check of one order; see the module docstring."""
    out = Assessment()
    if global_kill:
        out.reasons.append(
            _reason(KILL_SWITCH, "The global kill switch is engaged.", scope="global")
        )
    if terms is not None and terms.kill_switch:
        out.reasons.append(
            _reason(
                KILL_SWITCH,
                "The instrument's kill switch is engaged.",
                scope="instrument",
                target=terms.symbol,
            )
        )
    if not account.known:
        out.reasons.append(_reason(UNKNOWN_ACCOUNT, "The account is not known."))
    elif account.status != "active":
        out.reasons.append(
            _reason(ACCOUNT_SUSPENDED, f"The account is {account.status}.", status=account.status)
        )
    if terms is None:
        out.reasons.append(
            _reason(UNKNOWN_INSTRUMENT, "The instrument is not known.", instrument=order.instrument)
        )
        return out
    if access is not None:
        _jurisdiction(access, order, out)
    if market is not None:
        _market_checks(order, market, out)
        _price_checks(order, terms, market, out)
    _size_checks(order, terms, market or MarketConditions("open", None, None, None, ""), out)
    _to_integers(order, terms, market or MarketConditions("open", None, None, None, ""), out)
    return out
