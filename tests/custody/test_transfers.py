"""Every transfer result, in order of precedence, and the two-phase and linked forms."""

from dataclasses import replace
from datetime import timedelta

import pytest

from custody.ledger import Balance, TransferCode
from custody.ledger_state import PendingState, recompute_balances
from custody.money import AMOUNT_MAX
from custody.posting import apply_transfers
from custody.transfers import (
    TIMEOUT_MAX,
    Transfer,
    TransferFlags,
    TransferRejected,
    TransferResult,
    contract_code,
    flags_text,
)
from tests.custody.books import NOW, book, pending, single

C = TransferCode
F = TransferFlags
R = TransferResult


SETUP = NOW - timedelta(seconds=1)
DEADLINE = SETUP + timedelta(seconds=60)


def funded(amount=1000):
    """At ``NOW`` Alice has ``amount`` USDC in wallet-a and a withdrawal 'hold' of 100 is
    pending until ``DEADLINE``; 'posted-hold' was posted, 'voided-hold' voided and
    'expiring-hold' expired at ``NOW``."""
    ledger = book(("USDC", "BTC"))
    setup = [
        single("d", "wallet-a", "alice", amount, C.DEPOSIT),
        pending("hold", "alice", "wallet-a", 100, C.WITHDRAWAL, timeout=60),
        pending("posted-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION),
        Transfer.post(id="post", pending_id="posted-hold"),
        pending("voided-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION),
        Transfer.void(id="void", pending_id="voided-hold"),
        pending("expiring-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION, timeout=1),
    ]
    assert set(apply_transfers(ledger, setup, SETUP)) == {R.OK}
    assert apply_transfers(ledger, [], NOW) == []
    assert ledger.pending_states["expiring-hold"] is PendingState.EXPIRED
    return ledger


def withdrawal(**changes):
    base = single("new", "alice", "wallet-a", 5, C.WITHDRAWAL)
    return replace(base, **changes)


def resolve(**changes):
    base = Transfer.post(id="new", pending_id="hold")
    return replace(base, **changes)


PRECEDENCE = {
    R.EXISTS: withdrawal(
        id="d", debit_account_id="wallet-a", credit_account_id="alice", amount=1000, code=C.DEPOSIT
    ),
    R.EXISTS_WITH_DIFFERENT_FIELDS: withdrawal(id="d"),
    R.ID_MUST_NOT_BE_EMPTY: withdrawal(id=""),
    R.FLAGS_ARE_MUTUALLY_EXCLUSIVE: resolve(flags=F.POST_PENDING_TRANSFER | F.PENDING),
    R.ACCOUNTS_MUST_BE_DIFFERENT: withdrawal(credit_account_id="alice"),
    R.PENDING_ID_MUST_BE_EMPTY: withdrawal(pending_id="hold"),
    R.PENDING_ID_MUST_NOT_BE_EMPTY: resolve(pending_id=None),
    R.PENDING_ID_MUST_BE_DIFFERENT: resolve(pending_id="new"),
    R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER: withdrawal(timeout=5),
    R.TIMEOUT_MUST_NOT_BE_NEGATIVE: withdrawal(flags=F.PENDING, timeout=-1),
    R.OVERFLOWS_TIMEOUT: withdrawal(flags=F.PENDING, timeout=TIMEOUT_MAX + 1),
    R.AMOUNT_MUST_NOT_BE_NEGATIVE: withdrawal(amount=-5),
    R.AMOUNT_MUST_NOT_EXCEED_MAX: withdrawal(amount=AMOUNT_MAX + 1),
    R.AMOUNT_MUST_NOT_BE_ZERO: withdrawal(amount=0),
    R.ASSET_MUST_NOT_BE_EMPTY: withdrawal(asset=None),
    R.CODE_MUST_NOT_BE_EMPTY: withdrawal(code=None),
    R.DEBIT_ACCOUNT_NOT_FOUND: withdrawal(debit_account_id="carol"),
    R.CREDIT_ACCOUNT_NOT_FOUND: withdrawal(credit_account_id="wallet-z"),
    R.ACCOUNTS_MUST_HAVE_THE_SAME_ASSET: withdrawal(credit_account_id="wallet-a:BTC"),
    R.TRANSFER_MUST_HAVE_THE_SAME_ASSET_AS_ACCOUNTS: withdrawal(asset="BTC"),
    R.PENDING_TRANSFER_NOT_FOUND: resolve(pending_id="nope"),
    R.PENDING_TRANSFER_NOT_PENDING: resolve(pending_id="d"),
    R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID: resolve(debit_account_id="bob"),
    R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID: resolve(credit_account_id="wallet-b"),
    R.PENDING_TRANSFER_HAS_DIFFERENT_ASSET: resolve(asset="BTC"),
    R.PENDING_TRANSFER_HAS_DIFFERENT_CODE: resolve(code=C.FEE),
    R.EXCEEDS_PENDING_TRANSFER_AMOUNT: resolve(amount=101),
    R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT: resolve(flags=F.VOID_PENDING_TRANSFER, amount=99),
    R.PENDING_TRANSFER_ALREADY_POSTED: resolve(pending_id="posted-hold"),
    R.PENDING_TRANSFER_ALREADY_VOIDED: resolve(pending_id="voided-hold"),
    R.PENDING_TRANSFER_EXPIRED: resolve(pending_id="expiring-hold"),
    R.SEGREGATION_VIOLATION: withdrawal(credit_account_id="fees"),
    R.OVERFLOWS_DEBITS: withdrawal(amount=AMOUNT_MAX),
    R.OVERFLOWS_CREDITS: withdrawal(
        debit_account_id="fees",
        credit_account_id="alice",
        code=C.REALISED_PROFIT,
        amount=AMOUNT_MAX,
    ),
    R.EXCEEDS_CREDITS: withdrawal(amount=891),
    R.EXCEEDS_DEBITS: withdrawal(credit_account_id="wallet-b"),
    R.EXCEEDS_SEGREGATION_EXCESS: withdrawal(
        debit_account_id="house-wallet", credit_account_id="wallet-a", code=C.SWEEP, amount=1
    ),
}


def test_the_table_covers_every_refusal():
    assert set(PRECEDENCE) | {R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN} == set(R)


@pytest.mark.parametrize(("result", "transfer"), PRECEDENCE.items(), ids=str)
def test_each_refusal(result, transfer):
    ledger = funded()
    balances = dict(ledger.balances)
    records = dict(ledger.records)
    assert apply_transfers(ledger, [transfer], NOW) == [result]
    assert ledger.balances == balances
    assert ledger.records == records


def test_counters_may_reach_the_max_exactly():
    ledger = funded()
    big = withdrawal(
        debit_account_id="fees",
        credit_account_id="alice",
        code=C.REALISED_PROFIT,
        amount=AMOUNT_MAX - 1000,
    )
    assert apply_transfers(ledger, [big], NOW) == [R.OK]
    assert ledger.balances["alice"].credits_posted == AMOUNT_MAX


@pytest.mark.parametrize(
    ("transfer", "first", "also"),
    [
        (withdrawal(id="d", amount=0), R.EXISTS_WITH_DIFFERENT_FIELDS, R.AMOUNT_MUST_NOT_BE_ZERO),
        (withdrawal(id="", amount=0), R.ID_MUST_NOT_BE_EMPTY, R.AMOUNT_MUST_NOT_BE_ZERO),
        (
            withdrawal(credit_account_id="alice", amount=0),
            R.ACCOUNTS_MUST_BE_DIFFERENT,
            R.AMOUNT_MUST_NOT_BE_ZERO,
        ),
        (
            withdrawal(amount=0, debit_account_id="carol"),
            R.AMOUNT_MUST_NOT_BE_ZERO,
            R.DEBIT_ACCOUNT_NOT_FOUND,
        ),
        (
            withdrawal(credit_account_id="fees", amount=10**6),
            R.SEGREGATION_VIOLATION,
            R.EXCEEDS_CREDITS,
        ),
        (
            resolve(pending_id="posted-hold", amount=11),
            R.EXCEEDS_PENDING_TRANSFER_AMOUNT,
            R.PENDING_TRANSFER_ALREADY_POSTED,
        ),
        (
            resolve(pending_id="expiring-hold", code=C.FEE),
            R.PENDING_TRANSFER_HAS_DIFFERENT_CODE,
            R.PENDING_TRANSFER_EXPIRED,
        ),
    ],
    ids=lambda value: str(value) if isinstance(value, R) else "",
)
def test_the_first_applicable_result_wins(transfer, first, also):
    order = list(R)
    assert order.index(first) < order.index(also)
    ledger = funded()
    assert apply_transfers(ledger, [transfer], NOW) == [first]


def test_contract_codes():
    assert contract_code(R.EXCEEDS_CREDITS) == "INSUFFICIENT_FUNDS"
    assert contract_code(R.EXCEEDS_DEBITS) == "INSUFFICIENT_FUNDS"
    assert contract_code(R.SEGREGATION_VIOLATION) == "SEGREGATION_VIOLATION"
    assert contract_code(R.EXCEEDS_SEGREGATION_EXCESS) == "SEGREGATION_VIOLATION"
    assert contract_code(R.EXISTS_WITH_DIFFERENT_FIELDS) == "IDEMPOTENCY_CONFLICT"
    assert contract_code(R.PENDING_TRANSFER_NOT_FOUND) == "NOT_FOUND"
    assert contract_code(R.PENDING_TRANSFER_EXPIRED) == "PENDING_TRANSFER_CLOSED"
    assert contract_code(R.AMOUNT_MUST_NOT_BE_ZERO) == "VALIDATION_ERROR"
    with pytest.raises(ValueError, match="not a refusal"):
        contract_code(R.EXISTS)
    rejected = TransferRejected(R.EXCEEDS_CREDITS, transfer_id="w-1")
    assert (rejected.code, rejected.result) == ("INSUFFICIENT_FUNDS", R.EXCEEDS_CREDITS)


def test_a_single_transfer_moves_posted_counters():
    ledger = book()
    assert apply_transfers(ledger, [single("d", "wallet-a", "alice", 250, C.DEPOSIT)], NOW) == [
        R.OK
    ]
    assert ledger.balances["wallet-a"] == Balance(debits_posted=250)
    assert ledger.balances["alice"] == Balance(credits_posted=250)
    assert ledger.records["d"].created_at == NOW


def test_idempotency_same_body_exists_different_body_conflicts():
    ledger = book()
    deposit = single("d", "wallet-a", "alice", 250, C.DEPOSIT)
    apply_transfers(ledger, [deposit], NOW)
    assert apply_transfers(ledger, [deposit], NOW) == [R.EXISTS]
    assert apply_transfers(ledger, [replace(deposit, amount=251)], NOW) == [
        R.EXISTS_WITH_DIFFERENT_FIELDS
    ]
    assert apply_transfers(ledger, [replace(deposit, flags=F.LINKED)], NOW) == [
        R.LINKED_EVENT_CHAIN_OPEN
    ]
    assert ledger.balances["alice"] == Balance(credits_posted=250)


def test_a_refused_transfer_is_not_recorded_so_its_id_can_be_retried():
    ledger = book()
    early = single("w", "alice", "wallet-a", 100, C.WITHDRAWAL)
    assert apply_transfers(ledger, [early], NOW) == [R.EXCEEDS_CREDITS]
    apply_transfers(ledger, [single("d", "wallet-a", "alice", 100, C.DEPOSIT)], NOW)
    assert apply_transfers(ledger, [early], NOW) == [R.OK]


def test_retrying_a_post_answers_exists_not_already_posted():
    ledger = funded()
    post = Transfer.post(id="post", pending_id="posted-hold")
    assert apply_transfers(ledger, [post], NOW) == [R.EXISTS]


def test_pending_reserves_then_full_post_moves_it():
    ledger = funded()
    assert ledger.balances["alice"] == Balance(100, 10, 0, 1000)
    assert apply_transfers(ledger, [Transfer.post(id="p", pending_id="hold")], NOW) == [R.OK]
    assert ledger.balances["alice"] == Balance(0, 110, 0, 1000)
    assert ledger.balances["wallet-a"] == Balance(0, 1000, 0, 100)
    assert ledger.records["p"].amount == 100
    assert ledger.pending_states["hold"] is PendingState.POSTED


def test_partial_post_releases_the_remainder():
    ledger = funded()
    post = Transfer.post(id="p", pending_id="hold", amount=40)
    assert apply_transfers(ledger, [post], NOW) == [R.OK]
    assert ledger.balances["alice"] == Balance(0, 50, 0, 1000)
    assert ledger.balances["wallet-a"] == Balance(0, 1000, 0, 40)
    again = Transfer.post(id="p2", pending_id="hold", amount=60)
    assert apply_transfers(ledger, [again], NOW) == [R.PENDING_TRANSFER_ALREADY_POSTED]


def test_post_may_repeat_the_pending_fields():
    ledger = funded()
    post = resolve(
        debit_account_id="alice",
        credit_account_id="wallet-a",
        asset="USDC",
        code=C.WITHDRAWAL,
        amount=100,
    )
    assert apply_transfers(ledger, [post], NOW) == [R.OK]


def test_void_releases_everything():
    ledger = funded()
    assert apply_transfers(ledger, [Transfer.void(id="v", pending_id="hold")], NOW) == [R.OK]
    assert ledger.balances["alice"] == Balance(0, 10, 0, 1000)
    assert ledger.pending_states["hold"] is PendingState.VOIDED
    post = Transfer.post(id="p", pending_id="hold")
    assert apply_transfers(ledger, [post], NOW) == [R.PENDING_TRANSFER_ALREADY_VOIDED]


def test_expiry_releases_at_the_deadline_and_refuses_late_resolution():
    ledger = funded()
    deadline = DEADLINE
    just_before = deadline - timedelta(microseconds=1)
    assert apply_transfers(ledger, [], just_before) == []
    assert ledger.balances["alice"].debits_pending == 100
    assert apply_transfers(ledger, [Transfer.void(id="v", pending_id="hold")], deadline) == [
        R.PENDING_TRANSFER_EXPIRED
    ]
    assert ledger.balances["alice"].debits_pending == 0
    assert ledger.pending_states["hold"] is PendingState.EXPIRED


def test_post_just_before_the_deadline_succeeds():
    ledger = funded()
    moment = DEADLINE - timedelta(microseconds=1)
    assert apply_transfers(ledger, [Transfer.post(id="p", pending_id="hold")], moment) == [R.OK]
    assert apply_transfers(ledger, [], NOW + timedelta(days=1)) == []
    assert ledger.pending_states["hold"] is PendingState.POSTED
    assert ledger.balances["alice"].debits_posted == 110


def test_a_linked_chain_applies_together():
    ledger = book()
    chain = [
        single("d", "wallet-a", "alice", 100, C.DEPOSIT, flags=F.LINKED),
        single("f", "alice", "fees", 1, C.FEE, flags=F.LINKED),
        single("t", "alice", "bob", 99, C.TRADE_SETTLEMENT),
    ]
    assert apply_transfers(ledger, chain, NOW) == [R.OK, R.OK, R.OK]
    assert apply_transfers(ledger, chain, NOW) == [R.EXISTS, R.EXISTS, R.EXISTS]
    assert ledger.balances["bob"] == Balance(credits_posted=99)


def test_a_failing_member_fails_the_whole_chain_and_undoes_it():
    ledger = funded()
    chain = [
        single("a", "wallet-a", "bob", 10, C.DEPOSIT, flags=F.LINKED),
        Transfer.post(id="b", pending_id="hold", linked=True),
        pending("c", "bob", "clearing", 10, C.MARGIN_RESERVATION, timeout=5),
        single("d2", "alice", "fees", 10, C.DEPOSIT, flags=F.LINKED),
        single("e", "alice", "fees", 1, C.FEE),
    ]
    chain[2] = replace(chain[2], flags=F.PENDING | F.LINKED)
    after = single("f", "wallet-a", "bob", 1, C.DEPOSIT)
    results = apply_transfers(ledger, [*chain, after], NOW)
    assert results == [
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.SEGREGATION_VIOLATION,
        R.LINKED_EVENT_FAILED,
        R.OK,
    ]
    expected = funded()
    apply_transfers(expected, [after], NOW)
    assert ledger.balances == expected.balances
    assert ledger.records == expected.records
    assert ledger.pending_states == expected.pending_states


def test_a_chain_left_open_fails_with_chain_open_on_its_last_member():
    ledger = book()
    batch = [
        single("a", "wallet-a", "alice", 10, C.DEPOSIT),
        single("b", "wallet-a", "alice", 10, C.DEPOSIT, flags=F.LINKED),
        single("c", "wallet-a", "alice", 10, C.DEPOSIT, flags=F.LINKED),
    ]
    results = apply_transfers(ledger, batch, NOW)
    assert results == [R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]
    assert ledger.balances["alice"] == Balance(credits_posted=10)


def test_a_chain_may_create_and_post_a_pending_transfer():
    ledger = funded()
    chain = [
        pending("h2", "alice", "clearing", 50, C.MARGIN_RESERVATION),
        Transfer.post(id="h2-post", pending_id="h2", amount=20),
    ]
    chain[0] = replace(chain[0], flags=F.PENDING | F.LINKED)
    assert apply_transfers(ledger, chain, NOW) == [R.OK, R.OK]
    assert ledger.balances["clearing"] == Balance(0, 0, 0, 30)


def test_a_rolled_back_pending_does_not_expire_its_later_namesake():
    ledger = funded()
    doomed = [
        replace(
            pending("h", "alice", "clearing", 5, C.MARGIN_RESERVATION, timeout=10),
            flags=F.PENDING | F.LINKED,
        ),
        single("x", "alice", "fees", 1, C.ADJUSTMENT),
    ]
    assert apply_transfers(ledger, doomed, NOW)[1] is R.SEGREGATION_VIOLATION
    later = NOW + timedelta(seconds=5)
    reborn = pending("h", "alice", "clearing", 5, C.MARGIN_RESERVATION, timeout=10)
    assert apply_transfers(ledger, [reborn], later) == [R.OK]
    apply_transfers(ledger, [], NOW + timedelta(seconds=10))
    assert ledger.pending_states["h"] is PendingState.PENDING
    apply_transfers(ledger, [], later + timedelta(seconds=10))
    assert ledger.pending_states["h"] is PendingState.EXPIRED


def test_sweep_takes_only_the_segregation_excess():
    ledger = book()
    apply_transfers(ledger, [single("d", "wallet-a", "alice", 1000, C.DEPOSIT)], NOW)
    apply_transfers(ledger, [single("f", "alice", "fees", 30, C.FEE)], NOW)
    payout = pending("pay", "fees", "bob", 5, C.REALISED_PROFIT)
    out = pending("out", "alice", "wallet-a", 500, C.WITHDRAWAL)
    assert apply_transfers(ledger, [payout, out], NOW) == [R.OK, R.OK]
    sweep = single("s", "house-wallet", "wallet-a", 26, C.SWEEP)
    assert apply_transfers(ledger, [sweep], NOW) == [R.EXCEEDS_SEGREGATION_EXCESS]
    assert apply_transfers(ledger, [replace(sweep, amount=25)], NOW) == [R.OK]


def test_balances_can_be_recomputed_from_the_transfers():
    ledger = funded()
    apply_transfers(ledger, [Transfer.post(id="p", pending_id="hold", amount=7)], NOW)
    assert recompute_balances(ledger) == ledger.balances


@pytest.mark.parametrize(
    "moment",
    [NOW.replace(tzinfo=None), NOW - timedelta(seconds=2)],
    ids=["naive", "backwards"],
)
def test_the_clock_is_aware_utc_and_monotonic(moment):
    ledger = funded()
    with pytest.raises(ValueError, match=r"UTC|backwards"):
        apply_transfers(ledger, [], moment)


def test_flags_text_is_stable():
    assert flags_text(F.NONE) == ""
    assert flags_text(F.PENDING | F.LINKED) == "linked,pending"
