"""Services for the other parts: margin reservations, signals after commit, manual
adjustments, reconciliation, checkpoints, tasks, the schedule and the demo balances."""

from datetime import UTC, datetime, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from core.errors import Conflict, IdempotencyConflict, ValidationFailed
from core.models import AuditEntry
from custody import checkpoints, demo, reconciliation, selectors, services, signals
from custody.identifiers import client_ref, venue_ref, wallet_ref
from custody.ledger import AccountKind, TransferCode
from custody.models import LedgerCheckpoint, ReconciliationBreak, Transfer
from custody.reconciliation import StatementBalance
from custody.tasks import checkpoint_ledger, realtime_expire_pending_transfers
from custody.transfers import Transfer as Request
from custody.transfers import TransferResult
from custody.verification import verify_ledger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
R = TransferResult


def fund(account="acc-1", amount=1_000_000, wallet="wallet-a", id=None, now=T0, asset="USDC"):
    return services.deposit(
        id=id or f"d-{account}-{amount}",
        account_id=account,
        asset=asset,
        amount=amount,
        custody_wallet=wallet,
        now=now,
    )


def available(account="acc-1", now=T0) -> int:
    return selectors.client_balances(account_id=account, now=now)[0].view.available


class Received:
    def __init__(self, signal):
        self.calls = []
        signal.connect(self.receive)
        self.signal = signal

    def receive(self, sender, signal, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def received():
    listeners = []

    def listen(signal):
        listener = Received(signal)
        listeners.append(listener)
        return listener.calls

    yield listen
    for listener in listeners:
        listener.signal.disconnect(listener.receive)


# --- margin reservations -------------------------------------------------------------------


def test_reserve_post_and_void_margin_in_batches():
    fund()
    reserve = services.MarginReservation
    outcomes = services.reserve_margin(
        reservations=[
            reserve(id="r-1", account_id="acc-1", asset="USDC", amount=400_000),
            reserve(id="r-2", account_id="acc-1", asset="USDC", amount=500_000),
            reserve(id="r-3", account_id="acc-1", asset="USDC", amount=200_000),
            reserve(id="r-4", account_id="acc-9", asset="USDC", amount=1),
        ],
        now=T0,
    )
    assert [o.result for o in outcomes] == [
        R.OK,
        R.OK,
        R.EXCEEDS_CREDITS,
        R.DEBIT_ACCOUNT_NOT_FOUND,
    ]
    assert outcomes[2].code == "INSUFFICIENT_FUNDS"
    assert available() == 100_000
    posts = services.post_margin(
        posts=[services.MarginPost(id="f-1", reservation_id="r-1", amount=150_000)], now=T0
    )
    voids = services.void_margin(
        voids=[services.MarginVoid(id="c-2", reservation_id="r-2")], now=T0
    )
    assert [posts[0].result, voids[0].result] == [R.OK, R.OK]
    view = selectors.client_balances(account_id="acc-1", now=T0)[0].view
    assert (view.total, view.reserved, view.available) == (850_000, 0, 850_000)
    clearing = venue_ref(AccountKind.CLEARING, "USDC")
    assert Transfer.objects.get(transfer_id="f-1").credit_account_id == clearing
    again = services.reserve_margin(
        reservations=[reserve(id="r-1", account_id="acc-1", asset="USDC", amount=400_000)], now=T0
    )
    assert again[0].result is R.EXISTS and again[0].replayed


def test_margin_services_only_resolve_margin_reservations():
    fund()
    services.create_transfers(
        transfers=[
            Request(
                id="hold",
                debit_account_id=client_ref("acc-1", "USDC"),
                credit_account_id=wallet_ref("wallet-a", "USDC"),
                amount=10,
                asset="USDC",
                code=TransferCode.WITHDRAWAL,
                flags=services.TransferFlags.PENDING,
            )
        ],
        now=T0,
    )
    [outcome] = services.post_margin(
        posts=[services.MarginPost(id="f-x", reservation_id="hold")], now=T0
    )
    assert outcome.result is R.PENDING_TRANSFER_HAS_DIFFERENT_CODE


def test_an_unfilled_reservation_lapses_and_the_sweep_records_it():
    fund()
    services.reserve_margin(
        reservations=[
            services.MarginReservation(
                id="r-1", account_id="acc-1", asset="USDC", amount=600_000, timeout=10
            )
        ],
        now=T0,
    )
    assert available(now=T0) == 400_000
    assert available(now=T0 + timedelta(seconds=10)) == 1_000_000  # lapsed, not yet swept
    assert services.expire_pending_transfers(now=T0 + timedelta(seconds=9)) == 0
    assert services.expire_pending_transfers(now=T0 + timedelta(seconds=10)) == 1
    assert Transfer.objects.filter(transfer_id="r-1#expiry").exists()
    [late] = services.post_margin(posts=[services.MarginPost(id="f-1", reservation_id="r-1")])
    assert late.result is R.PENDING_TRANSFER_EXPIRED
    assert realtime_expire_pending_transfers() == 0


# --- signals -------------------------------------------------------------------------------


def test_balances_changed_is_sent_after_the_commit_with_the_new_balance(
    received, django_capture_on_commit_callbacks
):
    calls = received(signals.balances_changed)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fund()
        assert calls == []
    for callback in callbacks:
        callback()
    assert calls == [{"balances": [signals.ClientBalanceChange("acc-1", "USDC", 1_000_000, 0)]}]


def test_a_refusal_sends_nothing(received, django_capture_on_commit_callbacks):
    calls = received(signals.balances_changed)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.TransferRefused):
        services.withdraw(
            id="w-1", account_id="acc-1", asset="USDC", amount=1, custody_wallet="wallet-a"
        )
    assert calls == []


def test_large_withdrawals_are_announced(settings, received, django_capture_on_commit_callbacks):
    settings.LARGE_WITHDRAWAL_THRESHOLD = {"USDC": "0.5"}
    calls = received(signals.large_withdrawal)
    fund()
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw(
            id="w-1", account_id="acc-1", asset="USDC", amount=499_999, custody_wallet="wallet-a"
        )
        services.withdraw(
            id="w-2", account_id="acc-1", asset="USDC", amount=500_000, custody_wallet="wallet-a"
        )
    assert calls == [
        {
            "transfer_id": "w-2",
            "account_id": "acc-1",
            "asset": "USDC",
            "amount": "0.500000",
            "wallet": "wallet-a",
            "pending": False,
        }
    ]


def test_a_shortfall_is_announced(received, django_capture_on_commit_callbacks):
    """House revenue pays a client a profit the house never moved into segregated wallets:
    client claims now exceed segregated assets."""
    calls = received(signals.segregation_shortfall)
    fund()
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(
            request=Request(
                id="pnl-1",
                debit_account_id=venue_ref(AccountKind.HOUSE_REVENUE, "USDC"),
                credit_account_id=client_ref("acc-1", "USDC"),
                amount=250,
                asset="USDC",
                code=TransferCode.REALISED_PROFIT,
            ),
            now=T0,
        )
    assert calls == [{"asset": "USDC", "excess": "-0.000250", "transfer_ids": ["pnl-1"]}]
    statement = selectors.segregation_statement(asset="USDC", now=T0)
    assert statement.excess == -250 == selectors.excess_from_house_side("USDC")


# --- manual adjustments --------------------------------------------------------------------


def test_a_manual_adjustment_needs_four_eyes_and_is_audited():
    fund()
    suspense = venue_ref(AccountKind.SUSPENSE, "USDC")
    arguments = dict(
        id="adj-1",
        debit_account_id=client_ref("acc-1", "USDC"),
        credit_account_id=suspense,
        asset="USDC",
        amount=100,
        reason="duplicate deposit credited twice",
        actor="user:maker",
        now=T0,
    )
    with pytest.raises(services.FourEyesRequired):
        services.manual_adjustment(**arguments, approved_by="user:maker")
    outcome = services.manual_adjustment(**arguments, approved_by="user:checker")
    assert outcome.row.code == "adjustment"
    services.manual_adjustment(**arguments, approved_by="user:checker")  # replay
    entries = AuditEntry.objects.filter(action="custody.adjustment")
    assert [e.after["approved_by"] for e in entries] == ["user:checker"]


def test_an_adjustment_cannot_move_client_money_to_the_house():
    fund()
    with pytest.raises(services.TransferRefused) as refused:
        services.manual_adjustment(
            id="adj-2",
            debit_account_id=client_ref("acc-1", "USDC"),
            credit_account_id=venue_ref(AccountKind.HOUSE_REVENUE, "USDC"),
            asset="USDC",
            amount=1,
            reason="just because",
            actor="user:maker",
            approved_by="user:checker",
            now=T0,
        )
    assert refused.value.code == "SEGREGATION_VIOLATION" and refused.value.status == 422
    assert AuditEntry.objects.filter(action="custody.adjustment_refused").count() == 1


def test_ids_with_the_ledger_reserved_character_are_refused():
    with pytest.raises(ValidationFailed):
        services.deposit(
            id="x#expiry", account_id="acc-1", asset="USDC", amount=1, custody_wallet="w"
        )


# --- reconciliation ------------------------------------------------------------------------


def test_a_statement_is_compared_with_the_ledger_as_of_its_time(
    received, django_capture_on_commit_callbacks
):
    calls = received(signals.reconciliation_break)
    fund(amount=1_000_000, now=T0)
    fund(amount=500_000, now=T0 + timedelta(minutes=10))
    services.open_account(kind=AccountKind.HOUSE_WALLET, owner="house-1", asset="USDC", now=T0)
    with django_capture_on_commit_callbacks(execute=True):
        statement, created = reconciliation.record_statement(
            custodian="acme",
            as_of=T0 + timedelta(minutes=5),
            balances=[
                StatementBalance("wallet-a", "USDC", 1_000_000),
                StatementBalance("house-1", "USDC", 7),
                StatementBalance("unknown", "USDC", 0),
            ],
            actor="key:custodian",
            now=T0 + timedelta(minutes=20),
        )
    assert created
    found = ReconciliationBreak.objects.get()
    assert (found.wallet, found.amount, found.status) == ("house-1", 7, "open")
    assert calls[0]["amount"] == "0.000007" and calls[0]["break_id"] == found.pk
    assert AuditEntry.objects.filter(action="custody.statement").count() == 1
    replay, created = reconciliation.record_statement(
        custodian="acme",
        as_of=T0 + timedelta(minutes=5),
        balances=[
            StatementBalance("unknown", "USDC", 0),
            StatementBalance("house-1", "USDC", 7),
            StatementBalance("wallet-a", "USDC", 1_000_000),
        ],
        actor="key:custodian",
        now=T0 + timedelta(minutes=21),
    )
    assert replay == statement and not created
    with pytest.raises(IdempotencyConflict):
        reconciliation.record_statement(
            custodian="acme",
            as_of=T0 + timedelta(minutes=5),
            balances=[StatementBalance("wallet-a", "USDC", 1)],
            actor="key:custodian",
            now=T0 + timedelta(minutes=21),
        )
    reconciliation.resolve_break(break_id=found.pk, actor="user:officer", resolution="booked")
    with pytest.raises(Conflict):
        reconciliation.resolve_break(break_id=found.pk, actor="user:officer", resolution="again")
    assert list(selectors.reconciliation_breaks()) == []


@pytest.mark.parametrize(
    ("balances", "as_of_offset"),
    [
        ([StatementBalance("w", "USDC", 1), StatementBalance("w", "USDC", 2)], 0),
        ([StatementBalance("w", "USDC", 1)], 60),
    ],
    ids=["a_wallet_listed_twice", "as_of_in_the_future"],
)
def test_a_statement_must_be_well_formed(balances, as_of_offset):
    with pytest.raises(ValidationFailed):
        reconciliation.record_statement(
            custodian="acme",
            as_of=T0 + timedelta(seconds=as_of_offset),
            balances=balances,
            actor="key:custodian",
            now=T0,
        )


# --- checkpoints, tasks, schedule, demo ----------------------------------------------------


def test_the_head_is_signed_every_n_transfers_and_on_schedule(settings):
    settings.LEDGER_CHECKPOINT_EVERY = 3
    for index in range(7):
        fund(id=f"d-{index}", amount=index + 1)
    assert list(LedgerCheckpoint.objects.values_list("seq", flat=True)) == [3, 6]
    assert checkpoint_ledger() == 7
    assert checkpoint_ledger() == 7 and LedgerCheckpoint.objects.count() == 3
    assert verify_ledger().checkpoints_checked == 3


def test_a_checkpoint_of_an_empty_ledger_is_nothing():
    assert checkpoints.checkpoint_ledger() is None


def test_the_schedule_is_seeded_with_queues_by_name():
    tasks = {
        task.task: task.queue
        for task in PeriodicTask.objects.filter(task__startswith="custody.tasks.")
    }
    assert tasks == {
        "custody.tasks.realtime_expire_pending_transfers": "realtime",
        "custody.tasks.checkpoint_ledger": "default",
        "custody.tasks.report_publish_proof_of_reserves": "reports",
    }


def test_the_demo_balances_load_once():
    assert demo.load_demo_balances(now=T0) == len(demo.DEMO_BALANCES)
    assert demo.load_demo_balances(now=T0) == 0
    assert selectors.client_balances(account_id="acc-sg", now=T0)[0].view.total == 250_000_000_000
    assert verify_ledger().ok


def test_eth_is_booked_in_gwei():
    outcome = fund(account="acc-eth", asset="ETH", amount=1_000_000_001)
    assert outcome.row.amount == 1_000_000_001
    assert selectors.client_balances(account_id="acc-eth", now=T0)[0].asset == "ETH"


def test_the_segregation_section_for_reports_is_as_of_the_period_end():
    fund(amount=1_000_000, now=T0)
    fund(amount=5, now=T0 + timedelta(hours=1))
    columns, rows = selectors.segregation_report_rows(T0, T0 + timedelta(hours=1))
    assert columns[0] == "asset"
    assert rows == [("USDC", T0 + timedelta(hours=1), "1.000000", "1.000000", "0.000000")]
