"""The segregation wall and the account flags, one row per rule."""

import itertools

import pytest

from custody.errors import SegregationViolation
from custody.ledger import (
    CLIENT_TO_HOUSE,
    SIDE,
    WALL,
    Account,
    AccountFlags,
    AccountKind,
    Balance,
    Side,
    TransferCode,
    balance_view,
    check_segregation,
    crosses_wall,
    is_allowed,
    leaves_client_side,
)
from custody.posting import apply_transfers
from custody.transfers import TransferFlags, TransferResult
from tests.custody.books import NOW, book, pending, single

K = AccountKind
C = TransferCode

ALLOWED = {
    # the client side
    "deposit_books_assets_against_the_client": (K.CUSTODY_WALLET, K.CLIENT_LIABILITY, C.DEPOSIT),
    "withdrawal_pays_out_of_a_custody_wallet": (
        K.CLIENT_LIABILITY,
        K.CUSTODY_WALLET,
        C.WITHDRAWAL,
    ),
    "spot_trade_between_clients": (K.CLIENT_LIABILITY, K.CLIENT_LIABILITY, C.TRADE_SETTLEMENT),
    "correction_between_clients": (K.CLIENT_LIABILITY, K.CLIENT_LIABILITY, C.ADJUSTMENT),
    "margin_reserved_into_clearing": (K.CLIENT_LIABILITY, K.CLEARING, C.MARGIN_RESERVATION),
    "settlement_into_clearing": (K.CLIENT_LIABILITY, K.CLEARING, C.TRADE_SETTLEMENT),
    "loss_to_the_winning_clients_via_clearing": (K.CLIENT_LIABILITY, K.CLEARING, C.REALISED_LOSS),
    "funding_paid_to_clients_via_clearing": (K.CLIENT_LIABILITY, K.CLEARING, C.FUNDING),
    "margin_released_from_clearing": (K.CLEARING, K.CLIENT_LIABILITY, C.MARGIN_RELEASE),
    "settlement_out_of_clearing": (K.CLEARING, K.CLIENT_LIABILITY, C.TRADE_SETTLEMENT),
    "profit_from_clients_via_clearing": (K.CLEARING, K.CLIENT_LIABILITY, C.REALISED_PROFIT),
    "funding_received_from_clients_via_clearing": (K.CLEARING, K.CLIENT_LIABILITY, C.FUNDING),
    "move_between_custodians": (K.CUSTODY_WALLET, K.CUSTODY_WALLET, C.REBALANCE),
    "custodian_holds_more_than_booked": (K.CUSTODY_WALLET, K.SUSPENSE, C.ADJUSTMENT),
    "custodian_holds_less_than_booked": (K.SUSPENSE, K.CUSTODY_WALLET, C.ADJUSTMENT),
    "unattributed_deposit_found_its_owner": (K.SUSPENSE, K.CLIENT_LIABILITY, C.ADJUSTMENT),
    "misattributed_credit_back_to_suspense": (K.CLIENT_LIABILITY, K.SUSPENSE, C.ADJUSTMENT),
    "deposit_from_a_listed_address_frozen": (K.CLIENT_LIABILITY, K.BLOCKED_PROPERTY, C.BLOCKING),
    # client side to house side: the allow-list
    "trading_fee": (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.FEE),
    "realised_loss_to_the_house": (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.REALISED_LOSS),
    "funding_paid_to_the_house": (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.FUNDING),
    "fee_out_of_clearing": (K.CLEARING, K.HOUSE_REVENUE, C.FEE),
    "loss_out_of_clearing": (K.CLEARING, K.HOUSE_REVENUE, C.REALISED_LOSS),
    "funding_out_of_clearing": (K.CLEARING, K.HOUSE_REVENUE, C.FUNDING),
    "liquidation_penalty_to_insurance": (K.CLIENT_LIABILITY, K.INSURANCE_FUND, C.LIQUIDATION),
    "liquidation_out_of_clearing": (K.CLEARING, K.INSURANCE_FUND, C.LIQUIDATION),
    "sweep_of_earned_fees_to_the_house_wallet": (K.HOUSE_WALLET, K.CUSTODY_WALLET, C.SWEEP),
    # house side to client side
    "realised_profit_from_the_house": (K.HOUSE_REVENUE, K.CLIENT_LIABILITY, C.REALISED_PROFIT),
    "funding_received_from_the_house": (K.HOUSE_REVENUE, K.CLIENT_LIABILITY, C.FUNDING),
    "house_profit_into_clearing": (K.HOUSE_REVENUE, K.CLEARING, C.REALISED_PROFIT),
    "house_funding_into_clearing": (K.HOUSE_REVENUE, K.CLEARING, C.FUNDING),
    "insurance_covers_a_client": (K.INSURANCE_FUND, K.CLIENT_LIABILITY, C.INSURANCE_FUND),
    "insurance_covers_clearing": (K.INSURANCE_FUND, K.CLEARING, C.INSURANCE_FUND),
    "house_tops_up_segregated_assets": (K.CUSTODY_WALLET, K.HOUSE_WALLET, C.REBALANCE),
    "house_writes_off_a_break": (K.HOUSE_REVENUE, K.SUSPENSE, C.ADJUSTMENT),
    # the house side
    "house_capital_in": (K.HOUSE_WALLET, K.HOUSE_REVENUE, C.DEPOSIT),
    "house_wallet_correction_in": (K.HOUSE_WALLET, K.HOUSE_REVENUE, C.ADJUSTMENT),
    "house_capital_out": (K.HOUSE_REVENUE, K.HOUSE_WALLET, C.WITHDRAWAL),
    "house_wallet_correction_out": (K.HOUSE_REVENUE, K.HOUSE_WALLET, C.ADJUSTMENT),
    "between_house_revenue_accounts": (K.HOUSE_REVENUE, K.HOUSE_REVENUE, C.ADJUSTMENT),
    "house_funds_insurance": (K.HOUSE_REVENUE, K.INSURANCE_FUND, C.INSURANCE_FUND),
    "insurance_surplus_to_the_house": (K.INSURANCE_FUND, K.HOUSE_REVENUE, C.INSURANCE_FUND),
    "between_house_wallets": (K.HOUSE_WALLET, K.HOUSE_WALLET, C.REBALANCE),
}

EVERY_TRIPLE = list(itertools.product(K, K, C))


def test_the_allowed_rows_are_distinct():
    assert len(set(ALLOWED.values())) == len(ALLOWED)


@pytest.mark.parametrize(("debit", "credit", "code"), ALLOWED.values(), ids=ALLOWED.keys())
def test_allowed(debit, credit, code):
    assert is_allowed(debit, credit, code)
    check_segregation(debit, credit, code)


@pytest.mark.parametrize(
    ("debit", "credit", "code"),
    [triple for triple in EVERY_TRIPLE if triple not in set(ALLOWED.values())],
    ids=lambda value: str(value),
)
def test_everything_else_is_refused(debit, credit, code):
    assert not is_allowed(debit, credit, code)
    with pytest.raises(SegregationViolation) as refused:
        check_segregation(debit, credit, code)
    assert refused.value.code == "SEGREGATION_VIOLATION"
    assert f"{code} transfer from {debit} to {credit}" in refused.value.message


def test_the_refusal_names_the_codes_that_would_be_allowed():
    with pytest.raises(SegregationViolation, match="across the segregation wall") as refused:
        check_segregation(K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.ADJUSTMENT)
    assert refused.value.message.endswith("allowed codes: fee, funding, realised_loss")
    with pytest.raises(SegregationViolation, match="allowed codes: none"):
        check_segregation(K.CLIENT_LIABILITY, K.HOUSE_WALLET, C.WITHDRAWAL)


def test_value_leaves_client_money_only_on_the_allow_list():
    leaving = {
        (debit, credit, code)
        for (debit, credit), codes in CLIENT_TO_HOUSE.items()
        for code in codes
    }
    assert leaving == {
        (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.FEE),
        (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.REALISED_LOSS),
        (K.CLIENT_LIABILITY, K.HOUSE_REVENUE, C.FUNDING),
        (K.CLEARING, K.HOUSE_REVENUE, C.FEE),
        (K.CLEARING, K.HOUSE_REVENUE, C.REALISED_LOSS),
        (K.CLEARING, K.HOUSE_REVENUE, C.FUNDING),
        (K.CLIENT_LIABILITY, K.INSURANCE_FUND, C.LIQUIDATION),
        (K.CLEARING, K.INSURANCE_FUND, C.LIQUIDATION),
        (K.HOUSE_WALLET, K.CUSTODY_WALLET, C.SWEEP),
    }


@pytest.mark.parametrize(("debit", "credit"), list(itertools.product(K, K)), ids=str)
def test_leaving_client_money_means_losing_on_the_normal_side_to_the_house(debit, credit):
    client_loses = (SIDE[debit] is Side.CLIENT and debit is not K.CUSTODY_WALLET) or (
        credit is K.CUSTODY_WALLET
    )
    expected = SIDE[debit] is not SIDE[credit] and client_loses
    assert leaves_client_side(debit, credit) is expected
    assert crosses_wall(debit, credit) is (SIDE[debit] is not SIDE[credit])


def test_adjustment_never_moves_value_out_of_client_money():
    for (debit, credit), codes in WALL.items():
        if C.ADJUSTMENT in codes:
            assert not leaves_client_side(debit, credit), (debit, credit)


def test_nothing_leaves_suspense_for_the_house():
    for debit, credit in WALL:
        if debit is K.SUSPENSE or credit is K.SUSPENSE:
            assert not leaves_client_side(debit, credit)
            assert (debit, credit) != (K.SUSPENSE, K.HOUSE_REVENUE)


@pytest.mark.parametrize(
    ("kind", "flags"),
    [
        (K.CLIENT_LIABILITY, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
        (K.CLEARING, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
        (K.CUSTODY_WALLET, AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
        (K.SUSPENSE, AccountFlags.NONE),
        (K.HOUSE_REVENUE, AccountFlags.NONE),
        (K.INSURANCE_FUND, AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
        (K.HOUSE_WALLET, AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
    ],
    ids=str,
)
def test_each_kind_opens_with_its_required_flag(kind, flags):
    assert Account.open("a", "USDC", kind).flags == flags
    if flags:
        with pytest.raises(ValueError, match="requires"):
            Account("a", "USDC", kind, AccountFlags.NONE)


def test_balance_flags_are_mutually_exclusive():
    both = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
    with pytest.raises(ValueError, match="mutually exclusive"):
        Account("a", "USDC", K.HOUSE_REVENUE, both)


def test_house_revenue_may_opt_into_a_flag():
    flags = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    assert Account("a", "USDC", K.HOUSE_REVENUE, flags).flags == flags


@pytest.mark.parametrize(
    ("amount", "flags", "result"),
    [
        (100, TransferFlags.NONE, TransferResult.OK),
        (101, TransferFlags.NONE, TransferResult.EXCEEDS_CREDITS),
        (100, TransferFlags.PENDING, TransferResult.OK),
        (101, TransferFlags.PENDING, TransferResult.EXCEEDS_CREDITS),
    ],
    ids=["posted_up_to_credits", "posted_over", "pending_up_to_credits", "pending_over"],
)
def test_debits_must_not_exceed_credits(amount, flags, result):
    ledger = book()
    apply_transfers(ledger, [single("d", "wallet-a", "alice", 100, C.DEPOSIT)], NOW)
    withdrawal = single("w", "alice", "wallet-b", amount, C.WITHDRAWAL, flags=flags)
    apply_transfers(ledger, [single("d2", "wallet-b", "bob", 1000, C.DEPOSIT)], NOW)
    assert apply_transfers(ledger, [withdrawal], NOW) == [result]


def test_pending_debits_count_against_credits():
    ledger = book()
    apply_transfers(ledger, [single("d", "wallet-a", "alice", 100, C.DEPOSIT)], NOW)
    hold = pending("hold", "alice", "clearing", 70, C.MARGIN_RESERVATION)
    assert apply_transfers(ledger, [hold], NOW) == [TransferResult.OK]
    withdrawal = single("w", "alice", "wallet-a", 31, C.WITHDRAWAL)
    assert apply_transfers(ledger, [withdrawal], NOW) == [TransferResult.EXCEEDS_CREDITS]
    withdrawal = single("w", "alice", "wallet-a", 30, C.WITHDRAWAL)
    assert apply_transfers(ledger, [withdrawal], NOW) == [TransferResult.OK]


@pytest.mark.parametrize(
    ("amount", "flags", "result"),
    [
        (100, TransferFlags.NONE, TransferResult.OK),
        (101, TransferFlags.NONE, TransferResult.EXCEEDS_DEBITS),
        (100, TransferFlags.PENDING, TransferResult.OK),
        (101, TransferFlags.PENDING, TransferResult.EXCEEDS_DEBITS),
    ],
    ids=["posted_up_to_debits", "posted_over", "pending_up_to_debits", "pending_over"],
)
def test_credits_must_not_exceed_debits(amount, flags, result):
    ledger = book()
    apply_transfers(ledger, [single("d", "wallet-a", "alice", 100, C.DEPOSIT)], NOW)
    apply_transfers(ledger, [single("d2", "wallet-b", "bob", 1000, C.DEPOSIT)], NOW)
    withdrawal = single("w", "bob", "wallet-a", amount, C.WITHDRAWAL, flags=flags)
    assert apply_transfers(ledger, [withdrawal], NOW) == [result]


def test_an_account_without_flags_may_go_either_way():
    ledger = book()
    payout = single("p", "fees", "alice", 500, C.REALISED_PROFIT)
    assert apply_transfers(ledger, [payout], NOW) == [TransferResult.OK]
    view = balance_view(ledger.accounts["fees"], ledger.balances["fees"])
    assert view.total == -500


@pytest.mark.parametrize(
    ("kind", "balance", "view"),
    [
        (K.CLIENT_LIABILITY, Balance(30, 20, 5, 100), (80, 30, 50)),
        (K.HOUSE_REVENUE, Balance(0, 50, 0, 10), (-40, 0, -40)),
        (K.CUSTODY_WALLET, Balance(5, 100, 30, 20), (80, 30, 50)),
        (K.HOUSE_WALLET, Balance(0, 0, 0, 0), (0, 0, 0)),
    ],
    ids=["liability_counts_credits", "revenue_can_be_negative", "wallet_counts_debits", "empty"],
)
def test_balance_view_on_the_normal_side(kind, balance, view):
    shown = balance_view(Account.open("a", "USDC", kind), balance)
    assert (shown.total, shown.reserved, shown.available) == view
