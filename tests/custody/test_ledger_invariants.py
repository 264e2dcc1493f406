"""Hypothesis drives the pure ledger through any sequence of operations; the books must hold.

Deposits, withdrawals, transfers of any code between any two accounts, pending transfers
with and without timeouts, posts (full, partial, too large), voids, the clock moving past
deadlines, linked chains mixing all of these, and replays of earlier requests, identical
or altered. After every step: each asset sums to zero, no counter is negative, no balance
flag is broken (so no client liability is ever negative or over-reserved), the balances
equal a recomputation from the transfers, and nothing accepted ever moved client money to
the house except under the codes this test names itself.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from custody.ledger import (
    WALL,
    AccountFlags,
    AccountKind,
    TransferCode,
    balance_view,
    is_allowed,
    leaves_client_side,
)
from custody.ledger_state import PendingState, recompute_balances, sweepable
from custody.posting import apply_transfers, expire_pending
from custody.transfers import SUCCESSFUL, Transfer, TransferFlags, TransferResult
from tests.custody.books import ACCOUNTS, NOW, account_id, book

ASSETS = ("USDC", "BTC")
C = TransferCode
MAY_LEAVE_CLIENT_MONEY = {C.FEE, C.REALISED_LOSS, C.FUNDING, C.LIQUIDATION, C.SWEEP}
"""Stated here, independently of the wall table: the only codes under which value may ever
leave client money for the house."""

NAMES_BY_KIND = defaultdict(list)
for _name, _kind in ACCOUNTS.items():
    NAMES_BY_KIND[_kind].append(_name)
ALLOWED_ROWS = [
    (debit, credit, code)
    for (debit_kind, credit_kind), codes in WALL.items()
    for code in sorted(codes)
    for debit in NAMES_BY_KIND[debit_kind]
    for credit in NAMES_BY_KIND[credit_kind]
    if debit != credit
]

amounts = st.one_of(st.integers(1, 3000), st.integers(1, 300), st.sampled_from([0, 10**6]))
timeouts = st.sampled_from([0, 0, 1, 30, 90])


@st.composite
def new_transfers(draw, id):
    if draw(st.booleans()):
        debit, credit, code = draw(st.sampled_from(ALLOWED_ROWS))
    else:
        debit, credit = draw(st.sampled_from(list(ACCOUNTS))), draw(st.sampled_from(list(ACCOUNTS)))
        code = draw(st.sampled_from(list(TransferCode)))
    asset = draw(st.sampled_from(ASSETS))
    credit_asset = draw(st.sampled_from([asset] * 9 + list(ASSETS)))
    pending = draw(st.booleans())
    return Transfer(
        id=id,
        debit_account_id=account_id(debit, asset),
        credit_account_id=account_id(credit, credit_asset),
        amount=draw(amounts),
        asset=asset,
        code=code,
        flags=TransferFlags.PENDING if pending else TransferFlags.NONE,
        timeout=draw(timeouts) if pending else 0,
    )


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ledger = book(ASSETS)
        self.now = NOW
        self.issued = 0
        self.accepted_batches: list[list[Transfer]] = []
        self.pending_ids: list[str] = []

    def next_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"

    def submit(self, transfers: list[Transfer]) -> list[TransferResult]:
        expire_pending(self.ledger, self.now)
        before_ids = set(self.ledger.records)
        before_balances = dict(self.ledger.balances)
        results = apply_transfers(self.ledger, transfers, self.now)
        assert len(results) == len(transfers)
        if transfers and all(result in SUCCESSFUL for result in results):
            self.accepted_batches.append(transfers)
        if all(result not in SUCCESSFUL for result in results):
            assert set(self.ledger.records) == before_ids
            assert self.ledger.balances == before_balances
        for transfer, result in zip(transfers, results, strict=True):
            event(str(result))
            if result in SUCCESSFUL:
                assert transfer.id in self.ledger.records
            elif transfer.id not in before_ids:
                assert transfer.id not in self.ledger.records
            if result is TransferResult.OK and transfer.flags & TransferFlags.PENDING:
                self.pending_ids.append(transfer.id)
            if result is TransferResult.OK and transfer.code is C.SWEEP:
                assert sweepable(self.ledger, transfer.asset) >= 0
        return results

    @rule(
        client=st.sampled_from(NAMES_BY_KIND[AccountKind.CLIENT_LIABILITY]),
        wallet=st.sampled_from(NAMES_BY_KIND[AccountKind.CUSTODY_WALLET]),
        asset=st.sampled_from(ASSETS),
        amount=st.integers(1, 5000),
    )
    def deposit(self, client, wallet, asset, amount):
        deposit = Transfer(
            id=self.next_id(),
            debit_account_id=account_id(wallet, asset),
            credit_account_id=account_id(client, asset),
            amount=amount,
            asset=asset,
            code=C.DEPOSIT,
        )
        assert self.submit([deposit]) == [TransferResult.OK]

    @rule(
        client=st.sampled_from(NAMES_BY_KIND[AccountKind.CLIENT_LIABILITY]),
        wallet=st.sampled_from(NAMES_BY_KIND[AccountKind.CUSTODY_WALLET]),
        asset=st.sampled_from(ASSETS),
        amount=amounts,
    )
    def withdraw(self, client, wallet, asset, amount):
        client_id = account_id(client, asset)
        available = balance_view(
            self.ledger.accounts[client_id], self.ledger.balances[client_id]
        ).available
        wallet_id = account_id(wallet, asset)
        held = balance_view(self.ledger.accounts[wallet_id], self.ledger.balances[wallet_id])
        withdrawal = Transfer(
            id=self.next_id(),
            debit_account_id=client_id,
            credit_account_id=wallet_id,
            amount=amount,
            asset=asset,
            code=C.WITHDRAWAL,
        )
        [result] = self.submit([withdrawal])
        if amount == 0:
            assert result is TransferResult.AMOUNT_MUST_NOT_BE_ZERO
        elif amount > available:
            assert result is TransferResult.EXCEEDS_CREDITS
        elif amount > held.available:
            assert result is TransferResult.EXCEEDS_DEBITS
        else:
            assert result is TransferResult.OK

    @rule(
        wallet=st.sampled_from(NAMES_BY_KIND[AccountKind.CUSTODY_WALLET]),
        asset=st.sampled_from(ASSETS),
        amount=st.one_of(amounts, st.integers(1, 50)),
    )
    def sweep(self, wallet, asset, amount):
        wallet_id = account_id(wallet, asset)
        held = balance_view(self.ledger.accounts[wallet_id], self.ledger.balances[wallet_id])
        expire_pending(self.ledger, self.now)
        excess = sweepable(self.ledger, asset)
        sweep = Transfer(
            id=self.next_id(),
            debit_account_id=account_id("house-wallet", asset),
            credit_account_id=wallet_id,
            amount=amount,
            asset=asset,
            code=C.SWEEP,
        )
        [result] = self.submit([sweep])
        if amount == 0:
            assert result is TransferResult.AMOUNT_MUST_NOT_BE_ZERO
        elif amount > held.available:
            assert result is TransferResult.EXCEEDS_DEBITS
        elif amount > excess:
            assert result is TransferResult.EXCEEDS_SEGREGATION_EXCESS
        else:
            assert result is TransferResult.OK

    @rule(data=st.data())
    def transfer(self, data):
        self.submit([data.draw(new_transfers(self.next_id()))])

    @precondition(lambda self: self.pending_ids)
    @rule(data=st.data(), amount=st.one_of(st.just(0), amounts), void=st.booleans())
    def resolve(self, data, amount, void):
        pending_id = data.draw(st.sampled_from(self.pending_ids))
        if void:
            resolution = Transfer.void(id=self.next_id(), pending_id=pending_id)
        else:
            resolution = Transfer.post(id=self.next_id(), pending_id=pending_id, amount=amount)
        state = self.ledger.pending_states[pending_id]
        [result] = self.submit([resolution])
        if state is PendingState.PENDING and result is TransferResult.OK:
            assert self.ledger.pending_states[pending_id] is not PendingState.PENDING

    @rule(seconds=st.sampled_from([0, 1, 29, 30, 31, 60, 120]))
    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)
        assert self.submit([]) == []

    @rule(data=st.data(), size=st.integers(1, 4))
    def linked_chain(self, data, size):
        chain = []
        for _ in range(size):
            if self.pending_ids and data.draw(st.booleans()):
                pending_id = data.draw(st.sampled_from(self.pending_ids))
                chain.append(Transfer.post(id=self.next_id(), pending_id=pending_id))
            else:
                chain.append(data.draw(new_transfers(self.next_id())))
        chain = [replace(t, flags=t.flags | TransferFlags.LINKED) for t in chain[:-1]] + chain[-1:]
        results = self.submit(chain)
        if any(result not in SUCCESSFUL for result in results):
            refused = [r for r in results if r is not TransferResult.LINKED_EVENT_FAILED]
            assert len(refused) == 1
            assert refused[0] not in SUCCESSFUL

    @precondition(lambda self: self.accepted_batches)
    @rule(data=st.data())
    def replay_identical(self, data):
        batch = data.draw(st.sampled_from(self.accepted_batches))
        assert self.submit(batch) == [TransferResult.EXISTS] * len(batch)

    @precondition(lambda self: self.ledger.records)
    @rule(data=st.data())
    def replay_altered(self, data):
        record = data.draw(st.sampled_from(list(self.ledger.records.values())))
        altered = replace(
            record.transfer,
            amount=record.transfer.amount + 1,
            flags=record.transfer.flags & ~TransferFlags.LINKED,
        )
        assert self.submit([altered]) == [TransferResult.EXISTS_WITH_DIFFERENT_FIELDS]

    @invariant()
    def every_asset_sums_to_zero(self):
        posted, pending = defaultdict(int), defaultdict(int)
        for account_id_, balance in self.ledger.balances.items():
            asset = self.ledger.accounts[account_id_].asset
            posted[asset] += balance.credits_posted - balance.debits_posted
            pending[asset] += balance.credits_pending - balance.debits_pending
        assert set(posted.values()) <= {0}
        assert set(pending.values()) <= {0}

    @invariant()
    def counters_and_flags_hold(self):
        for account_id_, balance in self.ledger.balances.items():
            account = self.ledger.accounts[account_id_]
            assert min(balance.debits_pending, balance.debits_posted) >= 0
            assert min(balance.credits_pending, balance.credits_posted) >= 0
            if account.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS:
                assert balance.debits_pending + balance.debits_posted <= balance.credits_posted
            if account.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS:
                assert balance.credits_pending + balance.credits_posted <= balance.debits_posted
            if account.kind is AccountKind.CLIENT_LIABILITY:
                view = balance_view(account, balance)
                assert view.available >= 0
                assert view.total >= view.reserved

    @invariant()
    def balances_follow_from_the_transfers(self):
        assert recompute_balances(self.ledger) == self.ledger.balances

    @invariant()
    def client_money_crosses_the_wall_only_under_allowed_codes(self):
        for record in self.ledger.records.values():
            debit = self.ledger.accounts[record.debit_account_id].kind
            credit = self.ledger.accounts[record.credit_account_id].kind
            assert is_allowed(debit, credit, record.code)
            if leaves_client_side(debit, credit):
                assert record.code in MAY_LEAVE_CLIENT_MONEY

    @invariant()
    def nothing_pending_outlives_its_deadline(self):
        for pending_id, state in self.ledger.pending_states.items():
            expires_at = self.ledger.records[pending_id].expires_at
            if state is PendingState.PENDING and expires_at is not None:
                assert expires_at > self.now


LedgerMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_invariants = LedgerMachine.TestCase
