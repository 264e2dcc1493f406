"""The pre-trade check's stateless stage and the one table of its reason codes: every code
the answer can carry, with its message, in the ranked order the check runs them
(``CHECK_ORDER``). NautilusTrader's RiskEngine is the model: one component, an explicit
ranked sequence. Nothing here touches Redis; the account step (``steps``, its Lua in
``lua/account_step.lua``) then checks and reserves what must be consistent per account,
and its codes are this table's (``steps`` refuses to load a script that disagrees).

Check order follows SEC Rule 15c3-5's control list (RULES.md §3) and ranks like
NautilusTrader's RiskEngine (trading state before precision before size). A reject lists
every failing check, in the table's order, so the stages keep going after a failure
whenever their inputs still make sense (an unknown instrument stops the price checks;
nothing else does).

Units handed to the atomic stage are integers so Lua (whose numbers are doubles) never sees
a fraction: quantities in lots of the instrument, money in micro-units of the quote
currency, rounded towards safety (margin and notional up, limits down).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType

from core.decimals import plain
from risk.markets.record import KILL_SWITCH_REASON
from risk.markets.snapshot import InstrumentTerms as InstrumentTerms
from risk.pretrade.facts import AccessVerdicts as AccessVerdicts
from risk.pretrade.facts import AccountStanding as AccountStanding
from risk.pretrade.facts import MarketConditions as MarketConditions
from risk.pretrade.facts import Order as Order

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
SANCTIONS_MATCH = "SANCTIONS_MATCH"
SANCTIONS_REVIEW = "SANCTIONS_REVIEW"
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

UNLESS_REDUCING = "UNLESS_REDUCING"
"""Not a contract code: the account step's mark for "refused unless the order reduces",
answered with the reasons the stateless stage deferred (``Assessment.unless_reducing``)."""

# Who decides a code: this module, the jurisdiction gate (``compliance.access`` writes the
# reason whole), the account step, or the edge when something is unavailable.
STATELESS, ACCESS_GATE, ACCOUNT_STEP, EDGE = "stateless", "access gate", "account step", "edge"


@dataclass(frozen=True, slots=True)
class Rank:
    """One place in the check order: a code, the contract's ``check`` it belongs to, who
    decides it (``decided_by``) and its message (``{name}`` is filled from the reason's
    detail; none when the gate writes it). ``scope`` tells the kill switches apart."""

    code: str
    check: str
    message: str = ""
    scope: str = ""
    decided_by: str = STATELESS


def _by(decided_by: str, *ranks: Rank) -> tuple[Rank, ...]:
    return tuple(Rank(r.code, r.check, r.message, r.scope, decided_by) for r in ranks)


CHECK_ORDER: tuple[Rank, ...] = (
    # In process (``assess``), in this order.
    Rank(KILL_SWITCH, "kill_switch", "The global kill switch is engaged.", "global"),
    Rank(KILL_SWITCH, "kill_switch", "The instrument's kill switch is engaged.", "instrument"),
    Rank(UNKNOWN_ACCOUNT, "account", "The account is not known."),
    Rank(ACCOUNT_SUSPENDED, "account", "The account is {status}."),
    Rank(UNKNOWN_INSTRUMENT, "instrument", "The instrument is not known."),
    Rank(MARKET_HALTED, "market_state", "Trading is halted."),
    Rank(MARKET_PAUSED, "market_state", "Trading is paused."),
    Rank(NO_REFERENCE_PRICE, "price_band", "No usable reference price for this instrument."),
    Rank(PRICE_OUTSIDE_BAND, "price_band", "The limit price is outside the price band."),
    Rank(TICK_SIZE, "precision", "The price is not a multiple of the tick size."),
    Rank(LOT_SIZE, "precision", "The quantity is not a multiple of the lot size."),
    Rank(ORDER_QUANTITY_LIMIT, "order_size", "The quantity exceeds the per-order maximum."),
    Rank(ORDER_NOTIONAL_LIMIT, "order_size", "The notional exceeds the per-order maximum."),
    Rank(LEVERAGE_LIMIT, "leverage", "The leverage exceeds this session's cap."),
    # Refused outright by the jurisdiction gate (sanctions: issue 15, not sent yet).
    *_by(
        ACCESS_GATE,
        Rank(JURISDICTION_BLOCKED, "jurisdiction"),
        Rank(JURISDICTION_CLOSE_ONLY, "jurisdiction"),
        Rank(JURISDICTION_REVIEW, "jurisdiction"),
        Rank(SANCTIONS_MATCH, "sanctions"),
        Rank(SANCTIONS_REVIEW, "sanctions"),
    ),
    # The account step, in this order (``lua/account_step.lua`` inserts them so).
    *_by(
        ACCOUNT_STEP,
        Rank(KILL_SWITCH, "kill_switch", "The account's kill switch is engaged.", "account"),
        Rank(RATE_LIMIT, "rate_limit", "Too many orders for this account; slow down."),
        Rank(REDUCE_ONLY_VIOLATION, "reduce_only", "A reduce-only order would increase exposure."),
        # Answered with what was deferred: the gate's verdicts reducing lifts, the market's.
        Rank(UNLESS_REDUCING, ""),
    ),
    Rank(MARKET_CLOSE_ONLY, "market_state", "Only orders that reduce exposure are accepted."),
    *_by(
        ACCOUNT_STEP,
        Rank(
            POSITION_LIMIT, "position",
            "The position with open orders would exceed the account's limit.",
        ),
        Rank(
            OPEN_INTEREST_LIMIT, "open_interest",
            "The platform's open-interest cap for this instrument is reached.",
        ),
        Rank(INSUFFICIENT_MARGIN, "margin", "Initial margin exceeds the available collateral."),
    ),
    # Alone, instead of every other reason, when something the gate needs is unavailable.
    *_by(
        EDGE,
        Rank(
            DEGRADED_FAIL_CLOSED, "availability",
            "The gate cannot decide: {component} is unavailable.",
        ),
    ),
)  # fmt: skip

REASON_CODES = frozenset(rank.code for rank in CHECK_ORDER if rank.check)
"""The closed set of the answer's reason codes (tested against API.md)."""

CHECK_OF: Mapping[str, str] = MappingProxyType(
    {rank.code: rank.check for rank in CHECK_ORDER if rank.check}
)
"""Which check each code belongs to (the contract's ``check`` field)."""

ACCOUNT_STEP_CODES = tuple(r.code for r in CHECK_ORDER if r.decided_by == ACCOUNT_STEP)
"""What the account step may answer, in the order it checks them."""

ACCOUNT_STEP_MESSAGES: Mapping[str, str] = MappingProxyType(
    {r.code: r.message for r in CHECK_ORDER if r.decided_by == ACCOUNT_STEP and r.message}
)
_MESSAGES: Mapping[tuple[str, str], str] = MappingProxyType(
    {(r.code, r.scope): r.message for r in CHECK_ORDER if r.decided_by in (STATELESS, EDGE)}
)
"""Messages of the codes decided in process, by (code, kill-switch scope)."""


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


def reason(code: str, **detail: object) -> Reason:
    """The reason of a code decided here or at the edge, its message from ``CHECK_ORDER``
    (a kill switch's by its ``scope``)."""
    message = _MESSAGES[code, detail.get("scope", "")]
    if "{" in message:
        message = message.format_map(detail)
    return Reason(code, message, tuple((k, str(v)) for k, v in detail.items()))


def account_step_reason(code: str) -> dict:
    """The contract reason of a code the account step answered (no detail)."""
    return Reason(code, ACCOUNT_STEP_MESSAGES[code]).as_contract()


def quote_amount(micro: int) -> str:
    """Micro-units of the quote currency as the contract writes money."""
    return plain(Decimal(micro) / QUOTE_SCALE)


def _is_multiple(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step == 0


def _account_checks(account: AccountStanding, out: Assessment) -> None:
    if not account.known:
        out.reasons.append(reason(UNKNOWN_ACCOUNT))
    elif account.status != "active":
        out.reasons.append(reason(ACCOUNT_SUSPENDED, status=account.status))


def _market_checks(order: Order, market: MarketConditions, out: Assessment) -> None:
    """Trading state (DESIGN.md "Breakers"): halts and pauses stop every order; close-only
    and LULD limit state let only orders that reduce exposure through (the atomic stage
    knows the position, so it enforces that). The halt an instrument's kill switch
    publishes is reported once, as ``KILL_SWITCH`` (``assess``)."""
    if market.state == "halted":
        if not (market.kill_switch and market.reason == KILL_SWITCH_REASON):
            out.reasons.append(reason(MARKET_HALTED, reason=market.reason))
    elif market.state == "paused":
        out.reasons.append(reason(MARKET_PAUSED, reason=market.reason))
    elif market.state in ("close_only", "limit_state"):
        out.unless_reducing.append(
            reason(MARKET_CLOSE_ONLY, state=market.state, reason=market.reason).as_contract()
        )


def _price_checks(order: Order, market: MarketConditions, out: Assessment) -> None:
    """Price collar against the reference (15c3-5 erroneous-order control): a limit price
    outside the band is refused; a market order is priced at the band edge on its side."""
    if market.reference_price is None or market.band_lower is None or market.band_upper is None:
        out.reasons.append(reason(NO_REFERENCE_PRICE))
        if order.price is not None:
            out.priced_at = order.price
        return
    if order.order_type == MARKET:
        out.priced_at = market.band_upper if order.side == BUY else market.band_lower
        return
    out.priced_at = order.price
    if not market.band_lower <= order.price <= market.band_upper:
        out.reasons.append(
            reason(
                PRICE_OUTSIDE_BAND,
                price=order.price,
                lower=market.band_lower,
                upper=market.band_upper,
            )
        )


def _precision_checks(order: Order, terms: InstrumentTerms, out: Assessment) -> None:
    if order.price is not None and not _is_multiple(order.price, terms.tick_size):
        out.reasons.append(reason(TICK_SIZE, tick_size=terms.tick_size))
    if not _is_multiple(order.quantity, terms.lot_size):
        out.reasons.append(reason(LOT_SIZE, lot_size=terms.lot_size))


def _size_checks(
    order: Order, terms: InstrumentTerms, market: MarketConditions, out: Assessment
) -> None:
    """Per-order caps (15c3-5 credit and capital thresholds) and the session's leverage."""
    if order.quantity > terms.max_order_quantity:
        out.reasons.append(
            reason(ORDER_QUANTITY_LIMIT, max_order_quantity=terms.max_order_quantity)
        )
    if out.priced_at is not None:
        out.notional = order.quantity * out.priced_at
        if out.notional > terms.max_order_notional:
            out.reasons.append(
                reason(
                    ORDER_NOTIONAL_LIMIT,
                    notional=out.notional,
                    max_order_notional=terms.max_order_notional,
                )
            )
    cap = terms.max_leverage * market.leverage_cap_fraction
    out.leverage = cap if order.leverage is None else order.leverage
    if order.leverage is not None and order.leverage > cap:
        out.reasons.append(
            reason(LEVERAGE_LIMIT, leverage=order.leverage, cap=cap, session=market.session)
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
    order: Order,
    terms: InstrumentTerms,
    market: MarketConditions,
    out: Assessment,
    lots: int | None,
) -> None:
    """Exact integers for Lua, rounded towards safety."""
    out.quantity_lots = terms.lots(order.quantity) if lots is None else lots
    if out.notional is not None and out.leverage and out.leverage > 0:
        out.margin = out.notional / out.leverage
        out.margin_micro = int((out.margin * QUOTE_SCALE).to_integral_value(ROUND_CEILING))
    if out.priced_at:
        cap = terms.max_position_notional * market.position_limit_fraction
        lot_value = out.priced_at * terms.lot_size
        out.max_position_lots = int((cap / lot_value).to_integral_value(ROUND_FLOOR))
    out.open_interest_cap_lots = terms.open_interest_cap_lots


_NO_MARKET = MarketConditions("open", None, None, None, "")


def assess(
    order: Order,
    *,
    terms: InstrumentTerms | None,
    account: AccountStanding,
    market: MarketConditions | None,
    access: AccessVerdicts | None,
    global_kill: bool,
    lots: int | None = None,
) -> Assessment:
    """Every stateless check of one order, in ``CHECK_ORDER``; ``lots``: the quantity in
    lots when the caller worked it out already (the instrument step needs it first)."""
    out = Assessment()
    if global_kill:
        out.reasons.append(reason(KILL_SWITCH, scope="global"))
    if market is not None and market.kill_switch and terms is not None:
        out.reasons.append(reason(KILL_SWITCH, scope="instrument", target=terms.symbol))
    _account_checks(account, out)
    if terms is None:
        out.reasons.append(reason(UNKNOWN_INSTRUMENT, instrument=order.instrument))
        return out
    if access is not None:
        _jurisdiction(access, order, out)
    if market is not None:
        _market_checks(order, market, out)
        _price_checks(order, market, out)
    _precision_checks(order, terms, out)
    _size_checks(order, terms, market or _NO_MARKET, out)
    _to_integers(order, terms, market or _NO_MARKET, out, lots)
    return out
