"""The database itself refuses what the ledger must never store, whoever writes it.

The writer checks first (for a precise answer); these tests go around it with raw queryset
updates and inserts, as a buggy service or a hand-written SQL fix would, and the CHECK and
UNIQUE constraints refuse the write on SQLite and PostgreSQL alike.
"""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from custody.identifiers import client_ref, venue_ref, wallet_ref
from custody.ledger import AccountKind
from custody.models import LedgerAccount, Transfer
from custody.money import to_minor
from custody.services import deposit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
ALICE = client_ref("alice", "USDC")
WALLET = wallet_ref("wallet-a", "USDC")


@pytest.fixture
def funded():
    deposit(
        id="d-1",
        account_id="alice",
        asset="USDC",
        amount=to_minor("USDC", "100"),
        custody_wallet="wallet-a",
        now=NOW,
    )


def refused(**changes) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(id=changes.pop("id")).update(**changes)


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        pytest.param(
            "client_overdraft",
            {"id": ALICE, "debits_posted": F("credits_posted") + 1},
            id="client_debits_posted_above_credits",
        ),
        pytest.param(
            "client_over_reserved",
            {"id": ALICE, "debits_pending": F("credits_posted") + 1},
            id="client_reservation_above_balance",
        ),
        pytest.param(
            "wallet_overdraft",
            {"id": WALLET, "credits_posted": F("debits_posted") + 1},
            id="custody_wallet_sends_more_than_it_holds",
        ),
        pytest.param(
            "wallet_over_reserved",
            {"id": WALLET, "credits_pending": F("debits_posted") + 1},
            id="custody_wallet_reserves_more_than_it_holds",
        ),
        pytest.param(
            "wallet_flag_removed",
            {"id": WALLET, "credits_must_not_exceed_debits": False},
            id="a_custody_wallet_cannot_lose_its_flag",
        ),
        pytest.param(
            "negative_counter",
            {"id": ALICE, "credits_pending": -1},
            id="counters_never_negative",
        ),
        pytest.param(
            "flag_removed",
            {"id": ALICE, "debits_must_not_exceed_credits": False},
            id="a_client_liability_cannot_lose_its_flag",
        ),
        pytest.param(
            "both_flags",
            {
                "id": venue_ref(AccountKind.SUSPENSE, "USDC"),
                "debits_must_not_exceed_credits": True,
                "credits_must_not_exceed_debits": True,
            },
            id="flags_are_mutually_exclusive",
        ),
    ],
)
def test_a_raw_update_that_breaks_a_balance_rule_is_refused(funded, case, changes):
    refused(**changes)


def test_the_flag_is_conditional_house_revenue_may_run_negative(funded):
    revenue = venue_ref(AccountKind.HOUSE_REVENUE, "USDC")
    assert LedgerAccount.objects.filter(id=revenue).update(debits_posted=5) == 1


def test_a_pending_transfer_is_resolved_at_most_once(funded):
    first = Transfer.objects.get(transfer_id="d-1")
    row = dict(
        debit_account_id=first.debit_account_id,
        credit_account_id=first.credit_account_id,
        asset_id="USDC",
        code="deposit",
        amount=1,
        flags=4,
        pending_id="x",
        created_at=NOW,
        prev_hash="0" * 64,
        hash="0" * 64,
    )
    Transfer.objects.create(seq=100, transfer_id="post-1", **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(seq=101, transfer_id="post-2", **row)


def test_a_transfer_needs_a_positive_amount_and_two_accounts(funded):
    first = Transfer.objects.get(transfer_id="d-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.filter(pk=first.pk).update(amount=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.filter(pk=first.pk).update(credit_account_id=first.debit_account_id)
