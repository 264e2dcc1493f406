"""Hypothesis drives the SQL ledger and the pure specification side by side.

The same random sequences (deposits, withdrawals, transfers of any code between any two
accounts, pending transfers with timeouts, posts and voids, the clock passing deadlines,
linked chains, replays identical or altered) go through ``custody.writer.create_transfers``
and ``custody.posting.apply_transfers``; after every step both gave the same results and
hold the same counters (tests/custody/db.py). On the stored rows: each asset sums to zero,
no client account is negative or over-reserved, every accepted row is allowed by the wall
and leaves client money only under the codes named here, and at the end ``verify_ledger``
replays the whole chain. Refusals are recorded by the database (API.md idempotency), so a
refused id replayed gets its first answer, which the specification does not model: that
rule talks to the database alone.
"""

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from custody.identifiers import is_expiry_id
from custody.ledger import AccountKind, TransferCode, is_allowed, leaves_client_side
from custody.models import LedgerAccount, Transfer
from custody.transfers import Transfer as Request
from custody.transfers import TransferFlags, TransferResult
from custody.verification import verify_ledger
from custody.writer import create_transfers
from tests.custody.books import NOW
from tests.custody.db import Twin, db_balances, reset_ledger, to_db
from tests.custody.test_ledger_invariants import (
    ASSETS,
    MAY_LEAVE_CLIENT_MONEY,
    amounts,
    new_transfers,
)

pytestmark = pytest.mark.django_db

R = TransferResult
C = TransferCode
CLIENTS = ("alice", "bob")
WALLETS = ("wallet-a", "wallet-b")
_NOT_RECORDED = {R.OK, R.EXISTS, R.EXISTS_WITH_DIFFERENT_FIELDS, R.LINKED_EVENT_FAILED}


def name(base: str, asset: str) -> str:
    return base if asset == "USDC" else f"{base}:{asset}"


class DatabaseLedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        reset_ledger()
        self.now = NOW
        self.twin = Twin(assets=ASSETS)
        self.twin.open(self.now)
        self.issued = 0
        self.accepted: list[Request] = []
        self.pending_ids: list[str] = []
        self.refused: dict[str, tuple[Request, TransferResult]] = {}

    def next_id(self) -> str:
        self.issued += 1
        return f"t{self.issued}"

    def submit(self, transfers: list[Request], *, named: bool = False) -> list[TransferResult]:
        batch = transfers if named else [to_db(t) for t in transfers]
        results = self.twin.apply(batch, self.now)
        for transfer, result in zip(batch, results, strict=True):
            if result is R.OK:
                self.accepted.append(transfer)
                if transfer.flags & TransferFlags.PENDING:
                    self.pending_ids.append(transfer.id)
        if len(batch) == 1 and results[0] not in _NOT_RECORDED and batch[0].id:
            self.refused.setdefault(batch[0].id, (batch[0], results[0]))
        return results

    @rule(
        client=st.sampled_from(CLIENTS),
        wallet=st.sampled_from(WALLETS),
        asset=st.sampled_from(ASSETS),
        amount=st.integers(1, 5000),
    )
    def deposit(self, client, wallet, asset, amount):
        deposit = Request(
            id=self.next_id(),
            debit_account_id=name(wallet, asset),
            credit_account_id=name(client, asset),
            amount=amount,
            asset=asset,
            code=C.DEPOSIT,
        )
        assert self.submit([deposit]) == [R.OK]

    @rule(
        client=st.sampled_from(CLIENTS),
        wallet=st.sampled_from(WALLETS),
        asset=st.sampled_from(ASSETS),
        amount=amounts,
    )
    def withdraw(self, client, wallet, asset, amount):
        self.submit(
            [
                Request(
                    id=self.next_id(),
                    debit_account_id=name(client, asset),
                    credit_account_id=name(wallet, asset),
                    amount=amount,
                    asset=asset,
                    code=C.WITHDRAWAL,
                )
            ]
        )

    @rule(wallet=st.sampled_from(WALLETS), amount=st.integers(1, 200))
    def sweep(self, wallet, amount):
        self.submit(
            [
                Request(
                    id=self.next_id(),
                    debit_account_id="house-wallet",
                    credit_account_id=wallet,
                    amount=amount,
                    asset="USDC",
                    code=C.SWEEP,
                )
            ]
        )

    @rule(data=st.data())
    def transfer(self, data):
        self.submit([data.draw(new_transfers(self.next_id()))])

    @precondition(lambda self: self.pending_ids)
    @rule(data=st.data(), amount=st.one_of(st.just(0), amounts), void=st.booleans())
    def resolve(self, data, amount, void):
        pending_id = data.draw(st.sampled_from(self.pending_ids))
        if void:
            resolution = Request.void(id=self.next_id(), pending_id=pending_id)
        else:
            resolution = Request.post(id=self.next_id(), pending_id=pending_id, amount=amount)
        self.submit([resolution])

    @rule(seconds=st.sampled_from([0, 1, 29, 30, 31, 60, 120]))
    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)
        assert self.submit([]) == []

    @rule(data=st.data(), size=st.integers(2, 4))
    def linked_chain(self, data, size):
        chain = []
        for _ in range(size):
            if self.pending_ids and data.draw(st.booleans()):
                pending_id = data.draw(st.sampled_from(self.pending_ids))
                chain.append(Request.post(id=self.next_id(), pending_id=pending_id))
            else:
                chain.append(data.draw(new_transfers(self.next_id())))
        closed = data.draw(st.sampled_from([True, True, True, False]))
        linked = [replace(t, flags=t.flags | TransferFlags.LINKED) for t in chain]
        self.submit(linked[:-1] + ([chain[-1]] if closed else linked[-1:]))

    @precondition(lambda self: self.accepted)
    @rule(data=st.data(), altered=st.booleans())
    def replay(self, data, altered):
        transfer = data.draw(st.sampled_from(self.accepted))
        transfer = replace(transfer, flags=transfer.flags & ~TransferFlags.LINKED)
        if altered:
            transfer = replace(transfer, amount=transfer.amount + 1)
        original = next(t for t in self.accepted if t.id == transfer.id)
        same = not altered and not original.flags & TransferFlags.LINKED
        expected = R.EXISTS if same else R.EXISTS_WITH_DIFFERENT_FIELDS
        assert self.submit([transfer], named=True) == [expected]

    @precondition(lambda self: self.refused)
    @rule(data=st.data())
    def replay_a_refusal(self, data):
        """A refused id repeated with the same request gets the same refusal, and nothing moves
        (the specification would re-evaluate it; the contract says: the first answer)."""
        transfer_id = data.draw(st.sampled_from(sorted(self.refused)))
        transfer, result = self.refused[transfer_id]
        before = db_balances()
        [outcome] = create_transfers(transfers=[transfer], now=self.now)
        assert (outcome.result, outcome.replayed) == (result, True)
        assert db_balances() == before

    @invariant()
    def every_asset_sums_to_zero(self):
        posted, pending = defaultdict(int), defaultdict(int)
        for asset, dp, dpo, cp, cpo in LedgerAccount.objects.values_list(
            "asset", "debits_pending", "debits_posted", "credits_pending", "credits_posted"
        ):
            posted[asset] += cpo - dpo
            pending[asset] += cp - dp
        assert set(posted.values()) <= {0} and set(pending.values()) <= {0}

    @invariant()
    def no_client_is_negative_or_over_reserved(self):
        for dp, dpo, cpo in LedgerAccount.objects.filter(
            kind=AccountKind.CLIENT_LIABILITY
        ).values_list("debits_pending", "debits_posted", "credits_posted"):
            assert cpo - dpo >= 0 and cpo - dpo - dp >= 0

    @invariant()
    def client_money_crosses_the_wall_only_under_allowed_codes(self):
        kinds = dict(LedgerAccount.objects.values_list("id", "kind"))
        for transfer_id, debit, credit, code in Transfer.objects.values_list(
            "transfer_id", "debit_account_id", "credit_account_id", "code"
        ):
            debit_kind, credit_kind = AccountKind(kinds[debit]), AccountKind(kinds[credit])
            assert is_allowed(debit_kind, credit_kind, TransferCode(code)), transfer_id
            if leaves_client_side(debit_kind, credit_kind) and not is_expiry_id(transfer_id):
                assert code in MAY_LEAVE_CLIENT_MONEY

    def teardown(self):
        report = verify_ledger()
        assert report.ok, report.problem


def test_the_database_ledger_follows_the_specification():
    run_state_machine_as_test(
        DatabaseLedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
