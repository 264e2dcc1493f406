"""The ledger's vocabulary and its rules: accounts, flags, transfer codes and the wall.

Semantics follow TigerBeetle (docs/reference/account.md, transfer.md): every account keeps
four non-negative counters, ``debits_pending``, ``debits_posted``, ``credits_pending`` and
``credits_posted``; a transfer of ``amount`` adds to the debit account's debits and to the
credit account's credits, so per asset the sum over all accounts of ``credits - debits`` is
zero at every instant, posted and pending alike. That is double entry with no sign bugs to
make: counters only grow, and a balance is derived.

**Sign convention.** The signed balance of any account is ``credits_posted - debits_posted``.
Credit-normal accounts (what the venue owes: client liabilities, clearing, suspense, house
revenue, insurance fund) have a non-negative signed balance in normal operation;
debit-normal accounts (what the venue holds: custody wallets, house wallets) have a
non-positive one, and we report them as ``debits - credits``. See :func:`balance_view`.

**The segregation wall.** Accounts sit on one of two sides. The client side is money held for
customers: their liability accounts, the clearing account that holds client money between a
reservation and its settlement, the segregated custody wallets holding the assets that back
those liabilities, and the suspense account where reconciliation breaks wait (presumed to be
client money until shown otherwise, so it can never be a bridge to the house). The house side
is the venue's own: revenue (fees, house PnL), the insurance fund and the house wallets.
Which (debit kind, credit kind, code) triples are legal is decided in one table,
:data:`WALL`; anything not in it is refused. Value leaves the client side on exactly five
edges, each under named codes (:data:`CLIENT_TO_HOUSE`): a client claim is reduced in
favour of house revenue (``fee``, ``realised_loss``, ``funding``), or of the insurance fund
(``liquidation``); and segregated assets move to a house wallet only as a ``sweep``, which
the posting rules additionally cap at the segregation excess (assets above client claims),
so a sweep takes only what the house already earned. ``adjustment`` never moves value out
of the client side. There is no override code.

**Margin reservations** (for the pre-trade part) are pending transfers with code
``margin_reservation`` from the client's liability account to the asset's clearing account:
the pending debit is the ``reserved`` amount, so ``available`` falls at once and the client
can never withdraw reserved margin. A cancel voids it; a timeout lets an unfilled order's
reservation lapse on its own; a resize is a linked void plus a new pending transfer; a fill
posts it (fully or partly), after which the margin sits in clearing, still client money,
until ``margin_release``, ``trade_settlement`` or a wall-crossing ``realised_loss``/``fee``.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from custody.errors import SegregationViolation


class AccountKind(enum.StrEnum):
    """What an account is; the kind fixes its side of the wall and its normal balance."""

    CLIENT_LIABILITY = "client_liability"
    """What the venue owes one customer in one asset."""
    CLEARING = "clearing"
    """Client money in transit: margin reservations and settlements between clients."""
    CUSTODY_WALLET = "custody_wallet"
    """Segregated assets held for clients at a custodian or on a chain."""
    SUSPENSE = "suspense"
    """Reconciliation breaks awaiting resolution; treated as client money."""
    BLOCKED_PROPERTY = "blocked_property"
    """A client's funds frozen as a sanctioned person's property (a deposit from a listed
    address): held by a pending ``blocking`` transfer from the client's liability, never
    posted by the venue on its own; still client money (31 CFR 501.603: blocked property is
    kept and reported, not taken)."""
    HOUSE_REVENUE = "house_revenue"
    """The venue's earnings and losses: fees, house PnL, funding it pays or receives."""
    INSURANCE_FUND = "insurance_fund"
    """The venue's fund that absorbs losses of bankrupt liquidations."""
    HOUSE_WALLET = "house_wallet"
    """The venue's own assets at custodians or on chains."""


class Side(enum.StrEnum):
    """The two sides of the segregation wall."""

    CLIENT = "client"
    HOUSE = "house"


SIDE: Mapping[AccountKind, Side] = MappingProxyType(
    {
        AccountKind.CLIENT_LIABILITY: Side.CLIENT,
        AccountKind.CLEARING: Side.CLIENT,
        AccountKind.CUSTODY_WALLET: Side.CLIENT,
        AccountKind.SUSPENSE: Side.CLIENT,
        AccountKind.BLOCKED_PROPERTY: Side.CLIENT,
        AccountKind.HOUSE_REVENUE: Side.HOUSE,
        AccountKind.INSURANCE_FUND: Side.HOUSE,
        AccountKind.HOUSE_WALLET: Side.HOUSE,
    }
)

DEBIT_NORMAL = frozenset({AccountKind.CUSTODY_WALLET, AccountKind.HOUSE_WALLET})
"""Asset accounts: their balance is ``debits - credits``; every other kind is credit-normal."""


class AccountFlags(enum.Flag):
    """Balance constraints, as TigerBeetle's ``Account.flags`` (mutually exclusive)."""

    NONE = 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = enum.auto()
    """``debits_pending + debits_posted <= credits_posted`` after every transfer."""
    CREDITS_MUST_NOT_EXCEED_DEBITS = enum.auto()
    """``credits_pending + credits_posted <= debits_posted`` after every transfer."""


REQUIRED_FLAGS: Mapping[AccountKind, AccountFlags] = MappingProxyType(
    {
        AccountKind.CLIENT_LIABILITY: AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        AccountKind.CLEARING: AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        AccountKind.CUSTODY_WALLET: AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
        AccountKind.SUSPENSE: AccountFlags.NONE,
        AccountKind.BLOCKED_PROPERTY: AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        AccountKind.HOUSE_REVENUE: AccountFlags.NONE,
        AccountKind.INSURANCE_FUND: AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        AccountKind.HOUSE_WALLET: AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS,
    }
)
"""The flag each kind must carry. A client can never owe the venue (its liability and the
clearing account never go negative); a wallet can never send more than it holds; the
insurance fund cannot pay out more than it has. House revenue may run negative (the venue's
own loss) and suspense holds breaks of either sign."""


_BOTH_FLAGS = (
    AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
).value


@dataclass(frozen=True, slots=True)
class Account:
    """A ledger account: one owner's position in one asset. Immutable, as in TigerBeetle."""

    id: str
    asset: str
    kind: AccountKind
    flags: AccountFlags

    def __post_init__(self) -> None:
        # Plain ints: the writer builds an Account for every row it loads, and ``&`` of two
        # Flag members builds a new member.
        flags = self.flags.value
        if flags & _BOTH_FLAGS == _BOTH_FLAGS:
            raise ValueError(f"account {self.id}: balance flags are mutually exclusive")
        required = REQUIRED_FLAGS[self.kind]
        if flags & required.value != required.value:
            raise ValueError(f"account {self.id}: a {self.kind} account requires {required}")

    @classmethod
    def open(cls, id: str, asset: str, kind: AccountKind) -> "Account":
        """An account of ``kind`` with exactly the flags its kind requires."""
        return cls(id=id, asset=asset, kind=kind, flags=REQUIRED_FLAGS[kind])


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's four counters (TigerBeetle's ``Account`` amount fields)."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0


@dataclass(frozen=True, slots=True)
class BalanceView:
    """What the API shows (API.md, balances): ``available = total - reserved``."""

    total: int
    reserved: int
    available: int


def balance_view(account: Account, balance: Balance) -> BalanceView:
    """Total, reserved and available on the account's normal side.

    ``reserved`` is what pending transfers would take out (pending debits of a credit-normal
    account, pending credits of a wallet). Incoming pending amounts are not counted: money
    is not spendable until it is posted. For a client liability the flag guarantees
    ``available >= 0``.
    """
    if account.kind in DEBIT_NORMAL:
        total = balance.debits_posted - balance.credits_posted
        reserved = balance.credits_pending
    else:
        total = balance.credits_posted - balance.debits_posted
        reserved = balance.debits_pending
    return BalanceView(total=total, reserved=reserved, available=total - reserved)


class TransferCode(enum.StrEnum):
    """What a transfer is for (TigerBeetle's ``Transfer.code``); the wall is keyed by it."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRADE_SETTLEMENT = "trade_settlement"
    FEE = "fee"
    FUNDING = "funding"
    REALISED_LOSS = "realised_loss"
    REALISED_PROFIT = "realised_profit"
    LIQUIDATION = "liquidation"
    MARGIN_RESERVATION = "margin_reservation"
    MARGIN_RELEASE = "margin_release"
    INSURANCE_FUND = "insurance_fund"
    REBALANCE = "rebalance"
    SWEEP = "sweep"
    ADJUSTMENT = "adjustment"
    BLOCKING = "blocking"


_K = AccountKind
_C = TransferCode

WALL: Mapping[tuple[AccountKind, AccountKind], frozenset[TransferCode]] = MappingProxyType(
    {
        # Inside the client side.
        (_K.CUSTODY_WALLET, _K.CLIENT_LIABILITY): frozenset({_C.DEPOSIT}),
        (_K.CLIENT_LIABILITY, _K.CUSTODY_WALLET): frozenset({_C.WITHDRAWAL}),
        (_K.CLIENT_LIABILITY, _K.CLIENT_LIABILITY): frozenset({_C.TRADE_SETTLEMENT, _C.ADJUSTMENT}),
        (_K.CLIENT_LIABILITY, _K.CLEARING): frozenset(
            {_C.MARGIN_RESERVATION, _C.TRADE_SETTLEMENT, _C.REALISED_LOSS, _C.FUNDING}
        ),
        (_K.CLEARING, _K.CLIENT_LIABILITY): frozenset(
            {_C.MARGIN_RELEASE, _C.TRADE_SETTLEMENT, _C.REALISED_PROFIT, _C.FUNDING}
        ),
        (_K.CLIENT_LIABILITY, _K.BLOCKED_PROPERTY): frozenset({_C.BLOCKING}),
        (_K.CUSTODY_WALLET, _K.CUSTODY_WALLET): frozenset({_C.REBALANCE}),
        (_K.CUSTODY_WALLET, _K.SUSPENSE): frozenset({_C.ADJUSTMENT}),
        (_K.SUSPENSE, _K.CUSTODY_WALLET): frozenset({_C.ADJUSTMENT}),
        (_K.SUSPENSE, _K.CLIENT_LIABILITY): frozenset({_C.ADJUSTMENT}),
        (_K.CLIENT_LIABILITY, _K.SUSPENSE): frozenset({_C.ADJUSTMENT}),
        # Client side to house side: the only ways value leaves client money.
        (_K.CLIENT_LIABILITY, _K.HOUSE_REVENUE): frozenset({_C.FEE, _C.REALISED_LOSS, _C.FUNDING}),
        (_K.CLEARING, _K.HOUSE_REVENUE): frozenset({_C.FEE, _C.REALISED_LOSS, _C.FUNDING}),
        (_K.CLIENT_LIABILITY, _K.INSURANCE_FUND): frozenset({_C.LIQUIDATION}),
        (_K.CLEARING, _K.INSURANCE_FUND): frozenset({_C.LIQUIDATION}),
        (_K.HOUSE_WALLET, _K.CUSTODY_WALLET): frozenset({_C.SWEEP}),
        # House side to client side: value only added to client money.
        (_K.HOUSE_REVENUE, _K.CLIENT_LIABILITY): frozenset({_C.REALISED_PROFIT, _C.FUNDING}),
        (_K.HOUSE_REVENUE, _K.CLEARING): frozenset({_C.REALISED_PROFIT, _C.FUNDING}),
        (_K.INSURANCE_FUND, _K.CLIENT_LIABILITY): frozenset({_C.INSURANCE_FUND}),
        (_K.INSURANCE_FUND, _K.CLEARING): frozenset({_C.INSURANCE_FUND}),
        (_K.CUSTODY_WALLET, _K.HOUSE_WALLET): frozenset({_C.REBALANCE}),
        (_K.HOUSE_REVENUE, _K.SUSPENSE): frozenset({_C.ADJUSTMENT}),
        # Inside the house side.
        (_K.HOUSE_WALLET, _K.HOUSE_REVENUE): frozenset({_C.DEPOSIT, _C.ADJUSTMENT}),
        (_K.HOUSE_REVENUE, _K.HOUSE_WALLET): frozenset({_C.WITHDRAWAL, _C.ADJUSTMENT}),
        (_K.HOUSE_REVENUE, _K.HOUSE_REVENUE): frozenset({_C.ADJUSTMENT}),
        (_K.HOUSE_REVENUE, _K.INSURANCE_FUND): frozenset({_C.INSURANCE_FUND}),
        (_K.INSURANCE_FUND, _K.HOUSE_REVENUE): frozenset({_C.INSURANCE_FUND}),
        (_K.HOUSE_WALLET, _K.HOUSE_WALLET): frozenset({_C.REBALANCE}),
    }
)
"""``(debit kind, credit kind) -> codes allowed``; a pair that is absent allows nothing.

A transfer moves value from its debit account to its credit account in signed terms, so a
debit to a client liability is the client paying, and a credit to a custody wallet is
segregated assets leaving (the wallet's holdings fall). Reading the client-to-house rows:
``(house_wallet, custody_wallet)`` debits the house wallet (its holdings rise) and credits
the custody wallet (its holdings fall), i.e. a sweep of segregated assets to the house.
``(house_revenue, suspense)`` lets the house write off a break against its own revenue;
nothing leaves suspense for the house side."""


def leaves_client_side(debit_kind: AccountKind, credit_kind: AccountKind) -> bool:
    """Whether value held for clients would move to the house side.

    That happens when the client-side account loses on its normal side in favour of a house
    account: a client-side credit-normal account is debited (a claim is reduced), or a
    custody wallet is credited (segregated holdings fall).
    """
    if SIDE[debit_kind] is SIDE[credit_kind]:
        return False
    if SIDE[debit_kind] is Side.CLIENT:
        return debit_kind not in DEBIT_NORMAL
    return credit_kind in DEBIT_NORMAL


CLIENT_TO_HOUSE: Mapping[tuple[AccountKind, AccountKind], frozenset[TransferCode]] = (
    MappingProxyType({pair: codes for pair, codes in WALL.items() if leaves_client_side(*pair)})
)
"""The rows of :data:`WALL` along which value leaves client money: the allow-list."""


def crosses_wall(debit_kind: AccountKind, credit_kind: AccountKind) -> bool:
    """Whether a transfer between these kinds moves between client and house sides."""
    return SIDE[debit_kind] is not SIDE[credit_kind]


def is_allowed(debit_kind: AccountKind, credit_kind: AccountKind, code: TransferCode) -> bool:
    """The wall, as a predicate: is ``code`` allowed from ``debit_kind`` to ``credit_kind``?"""
    return code in WALL.get((debit_kind, credit_kind), frozenset())


def check_segregation(
    debit_kind: AccountKind, credit_kind: AccountKind, code: TransferCode
) -> None:
    """The wall, as a guard: raise :class:`SegregationViolation` unless the move is allowed."""
    if is_allowed(debit_kind, credit_kind, code):
        return
    allowed = ", ".join(sorted(WALL.get((debit_kind, credit_kind), frozenset()))) or "none"
    where = " across the segregation wall" if crosses_wall(debit_kind, credit_kind) else ""
    raise SegregationViolation(
        f"a {code} transfer from {debit_kind} to {credit_kind} is not allowed{where}; "
        f"allowed codes: {allowed}",
        field="code",
    )
