"""Every result, flag and code through the database writer, compared with the specification.

The cases are the pure tests' own tables (tests/custody/test_transfers.py), with the book's
account names mapped to ledger account ids: the SQL ledger must answer exactly what
``custody.posting.apply_transfers`` answers and leave exactly the same counters.
"""

from dataclasses import replace
from datetime import timedelta

import pytest

from custody.identifiers import expiry_id
from custody.ledger import WALL, AccountKind, TransferCode
from custody.ledger_state import PendingState
from custody.models import OpenPending, Transfer
from custody.transfers import Transfer as Request
from custody.transfers import TransferFlags, TransferResult
from tests.custody.books import NOW, pending, single
from tests.custody.db import Twin, db_ref, to_db
from tests.custody.test_transfers import DEADLINE, PRECEDENCE, SETUP

pytestmark = pytest.mark.django_db

C, F, R = TransferCode, TransferFlags, TransferResult


def funded_twin() -> Twin:
    """tests/custody/test_transfers.py's ``funded()`` book, in the database and the spec."""
    twin = Twin()
    twin.open(SETUP)
    setup = [
        single("d", "wallet-a", "alice", 1000, C.DEPOSIT),
        pending("hold", "alice", "wallet-a", 100, C.WITHDRAWAL, timeout=60),
        pending("posted-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION),
        Request.post(id="post", pending_id="posted-hold"),
        pending("voided-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION),
        Request.void(id="void", pending_id="voided-hold"),
        pending("expiring-hold", "alice", "clearing", 10, C.MARGIN_RESERVATION, timeout=1),
    ]
    assert set(twin.apply([to_db(t) for t in setup], SETUP)) == {R.OK}
    assert twin.apply([], NOW) == []
    assert twin.spec.pending_states["expiring-hold"] is PendingState.EXPIRED
    return twin


@pytest.mark.parametrize(("result", "transfer"), PRECEDENCE.items(), ids=str)
def test_each_result_in_precedence_order_through_the_database(result, transfer):
    twin = funded_twin()
    assert twin.apply([to_db(transfer)], NOW) == [result]


def test_an_expiry_is_a_chained_void_booked_before_the_batch():
    twin = funded_twin()
    expiry = Transfer.objects.get(transfer_id=expiry_id("expiring-hold"))
    assert expiry.flags == F.VOID_PENDING_TRANSFER.value and expiry.amount == 10
    assert expiry.pending_id == "expiring-hold" and expiry.created_at == NOW
    assert not OpenPending.objects.filter(pending_id="expiring-hold").exists()
    assert set(OpenPending.objects.values_list("pending_id", flat=True)) == {"hold"}
    twin.apply([], DEADLINE)
    assert not OpenPending.objects.exists()
    assert Transfer.objects.filter(transfer_id=expiry_id("hold"), created_at=DEADLINE).exists()


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        pytest.param(
            [Request.post(id="p", pending_id="hold")], [R.OK], id="post_in_full_inherits_fields"
        ),
        pytest.param(
            [
                Request.post(id="p", pending_id="hold", amount=40),
                Request.post(id="p2", pending_id="hold", amount=60),
            ],
            [R.OK, R.PENDING_TRANSFER_ALREADY_POSTED],
            id="partial_post_releases_the_rest",
        ),
        pytest.param(
            [Request.void(id="v", pending_id="hold"), Request.post(id="p", pending_id="hold")],
            [R.OK, R.PENDING_TRANSFER_ALREADY_VOIDED],
            id="void_releases_then_post_is_refused",
        ),
        pytest.param(
            [Request.post(id="post", pending_id="posted-hold")],
            [R.EXISTS],
            id="retried_post_is_exists",
        ),
        pytest.param(
            [
                replace(single("l1", "alice", "bob", 500, C.TRADE_SETTLEMENT), flags=F.LINKED),
                single("l2", "bob", "alice", 1, C.TRADE_SETTLEMENT),
            ],
            [R.OK, R.OK],
            id="linked_chain_applies_together",
        ),
        pytest.param(
            [
                replace(single("l1", "alice", "bob", 500, C.TRADE_SETTLEMENT), flags=F.LINKED),
                single("l2", "bob", "fees", 600, C.FEE),
            ],
            [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS],
            id="linked_chain_fails_together",
        ),
        pytest.param(
            [
                single("s", "wallet-a", "alice", 5, C.DEPOSIT),
                replace(single("l1", "alice", "bob", 5, C.TRADE_SETTLEMENT), flags=F.LINKED),
            ],
            [R.OK, R.LINKED_EVENT_CHAIN_OPEN],
            id="chain_left_open_fails",
        ),
        pytest.param(
            [
                replace(
                    pending("r", "alice", "clearing", 800, C.MARGIN_RESERVATION),
                    flags=F.PENDING | F.LINKED,
                ),
                single("w", "alice", "wallet-a", 91, C.WITHDRAWAL),
            ],
            [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS],
            id="reservation_and_withdrawal_cannot_both_take_the_same_money",
        ),
        pytest.param(
            [
                single("fee", "alice", "fees", 100, C.FEE),
                single("sweep", "house-wallet", "wallet-a", 100, C.SWEEP),
                single("sweep2", "house-wallet", "wallet-a", 1, C.SWEEP),
            ],
            [R.OK, R.OK, R.EXCEEDS_SEGREGATION_EXCESS],
            id="a_sweep_takes_only_the_excess",
        ),
    ],
)
def test_two_phase_linked_and_sweep_cases(batch, expected):
    twin = funded_twin()
    assert twin.apply([to_db(t) for t in batch], NOW) == expected


KINDS = {
    AccountKind.CLIENT_LIABILITY: "alice",
    AccountKind.CLEARING: "clearing",
    AccountKind.CUSTODY_WALLET: "wallet-a",
    AccountKind.SUSPENSE: "suspense",
    AccountKind.HOUSE_REVENUE: "fees",
    AccountKind.INSURANCE_FUND: "insurance",
    AccountKind.HOUSE_WALLET: "house-wallet",
}
SECOND = {AccountKind.CLIENT_LIABILITY: "bob", AccountKind.CUSTODY_WALLET: "wallet-b"}


@pytest.mark.parametrize("code", list(TransferCode), ids=str)
def test_the_wall_for_every_code_and_every_pair_of_kinds(code):
    """One batch per code with a 1-unit transfer for every ordered pair of kinds: the database
    gives the specification's answer for each, and accepts exactly what WALL allows."""
    twin = funded_twin()
    batch = []
    for debit in KINDS.values():
        for credit_kind, credit in KINDS.items():
            credit = SECOND.get(credit_kind, credit) if credit == debit else credit
            if credit == debit:
                continue
            batch.append(single(f"{code}-{debit}-{credit}", debit, credit, 1, code))
    results = twin.apply([to_db(t) for t in batch], NOW)
    for transfer, result in zip(batch, results, strict=True):
        debit_kind = AccountKind(db_ref(transfer.debit_account_id).split(":")[0])
        credit_kind = AccountKind(db_ref(transfer.credit_account_id).split(":")[0])
        allowed = code in WALL.get((debit_kind, credit_kind), frozenset())
        assert (result is not R.SEGREGATION_VIOLATION) == allowed, (transfer.id, result)


def test_stored_rows_keep_the_request_and_the_resolution():
    twin = funded_twin()
    twin.apply([to_db(Request.post(id="p", pending_id="hold", amount=40))], NOW)
    row = Transfer.objects.get(transfer_id="p")
    assert (row.debit_account_id, row.credit_account_id, row.amount, row.code) == (
        db_ref("alice"),
        db_ref("wallet-a"),
        40,
        "withdrawal",
    )
    assert twin.apply(
        [to_db(Request.post(id="p", pending_id="hold", amount=40))], NOW + timedelta(seconds=1)
    ) == [R.EXISTS]
    assert twin.apply(
        [to_db(replace(Request.post(id="p", pending_id="hold", amount=40), code=C.WITHDRAWAL))],
        NOW + timedelta(seconds=1),
    ) == [R.EXISTS_WITH_DIFFERENT_FIELDS]
