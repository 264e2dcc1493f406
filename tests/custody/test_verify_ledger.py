"""``verify_ledger``: an intact ledger verifies; every kind of tampering is caught and named."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command

from core import signing
from custody import services
from custody.chain import GENESIS_HASH, chain_hash, checkpoint_message
from custody.identifiers import client_ref, venue_ref, wallet_ref
from custody.ledger import AccountKind
from custody.models import LedgerAccount, LedgerCheckpoint, OpenPending, Transfer
from custody.transfer_rows import row_fields
from custody.verification import verify_ledger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
USDC = 10**6


@pytest.fixture(autouse=True)
def checkpoint_every_5(settings):
    settings.LEDGER_CHECKPOINT_EVERY = 5


@pytest.fixture
def ledger():
    """12 rows: deposits, a fee, reservations posted, voided and lapsed, withdrawals."""
    for index, (account, amount) in enumerate([("alice", 500), ("bob", 300), ("carol", 200)]):
        services.deposit(
            id=f"d-{index}",
            account_id=account,
            asset="USDC",
            amount=amount * USDC,
            custody_wallet="wallet-a",
            now=T0,
        )
    reserve = services.MarginReservation
    services.reserve_margin(
        reservations=[
            reserve(id="r-1", account_id="alice", asset="USDC", amount=50 * USDC),
            reserve(id="r-2", account_id="bob", asset="USDC", amount=20 * USDC),
            reserve(id="r-3", account_id="carol", asset="USDC", amount=10 * USDC, timeout=30),
        ],
        now=T0,
    )
    services.post_margin(posts=[services.MarginPost(id="f-1", reservation_id="r-1")], now=T0)
    services.void_margin(voids=[services.MarginVoid(id="c-2", reservation_id="r-2")], now=T0)
    later = T0 + timedelta(seconds=60)
    services.withdraw(
        id="w-1",
        account_id="bob",
        asset="USDC",
        amount=100 * USDC,
        custody_wallet="wallet-a",
        now=later,
    )
    services.transfer(
        request=services.Transfer(
            id="fee-1",
            debit_account_id=client_ref("carol", "USDC"),
            credit_account_id=venue_ref(AccountKind.HOUSE_REVENUE, "USDC"),
            amount=1 * USDC,
            asset="USDC",
            code="fee",
        ),
        now=later,
    )
    services.withdraw(
        id="w-2",
        account_id="alice",
        asset="USDC",
        amount=10 * USDC,
        custody_wallet="wallet-a",
        now=later,
    )
    assert Transfer.objects.count() == 12
    return Transfer.objects.order_by("seq")


def run_command(*args) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def rehash_from(seq: int) -> str:
    """What an attacker with database access does after an edit: recompute every later hash."""
    previous = Transfer.objects.filter(seq=seq - 1).values_list("hash", flat=True).first()
    prev = previous or GENESIS_HASH.hex()
    for row in Transfer.objects.filter(seq__gte=seq).order_by("seq"):
        link = chain_hash(row_fields(row), bytes.fromhex(prev)).hex()
        Transfer.objects.filter(seq=row.seq).update(prev_hash=prev, hash=link)
        prev = link
    return prev


@dataclass
class Expect:
    seq: int | None = None
    account: str | None = None
    words: str = ""


def assert_broken(expect: Expect) -> None:
    report = verify_ledger()
    assert not report.ok
    assert report.first_bad_seq == expect.seq, report.problem
    assert report.first_bad_account == expect.account, report.problem
    assert expect.words in report.problem
    code, message = run_command()
    assert code == 1 and "LEDGER BROKEN" in message and expect.words in message


def test_an_intact_ledger_verifies(ledger):
    report = verify_ledger()
    assert report.ok, report.problem
    assert (report.transfers_checked, report.checkpoints_checked) == (12, 2)
    code, output = run_command()
    assert code == 0 and "ledger intact: 12 transfers" in output


def test_the_lapse_is_a_chained_row(ledger):
    assert Transfer.objects.filter(transfer_id="r-3#expiry").exists()
    assert not OpenPending.objects.exists()


def test_an_edited_amount_is_named(ledger):
    Transfer.objects.filter(seq=3).update(amount=201 * USDC)
    assert_broken(Expect(seq=3, words="altered"))


def test_a_deleted_row_is_named(ledger):
    Transfer.objects.filter(seq=4).delete()
    assert_broken(Expect(seq=5, words="#4 is missing"))


def test_reordered_rows_are_caught(ledger):
    Transfer.objects.filter(seq=2).update(seq=1000)
    Transfer.objects.filter(seq=3).update(seq=2)
    Transfer.objects.filter(seq=1000).update(seq=3)
    assert_broken(Expect(seq=2, words="does not link"))


def test_a_forged_row_with_a_valid_hash_but_no_balance_change_is_caught(ledger):
    """Appended after the head with a correctly computed link: the chain is fine, the
    replay is not (the stored balances do not contain it)."""
    head = Transfer.objects.order_by("-seq").first()
    forged = Transfer(
        seq=head.seq + 1,
        transfer_id="forged",
        debit_account_id=client_ref("alice", "USDC"),
        credit_account_id=venue_ref(AccountKind.HOUSE_REVENUE, "USDC"),
        asset_id="USDC",
        code="fee",
        amount=100 * USDC,
        flags=0,
        created_at=head.created_at,
        prev_hash=head.hash,
    )
    forged.hash = chain_hash(row_fields(forged), bytes.fromhex(head.hash)).hex()
    forged.save(force_insert=True)
    assert_broken(Expect(account=client_ref("alice", "USDC"), words="debits_posted stored"))


def test_a_row_inserted_in_the_middle_and_fully_rehashed_is_caught_by_a_checkpoint(ledger):
    rows = list(ledger)
    for row in reversed(rows[2:]):
        Transfer.objects.filter(seq=row.seq).update(seq=row.seq + 1)
    Transfer.objects.create(
        seq=3,
        transfer_id="inserted",
        debit_account_id=client_ref("alice", "USDC"),
        credit_account_id=client_ref("bob", "USDC"),
        asset_id="USDC",
        code="trade_settlement",
        amount=1,
        created_at=T0,
        prev_hash="",
        hash="",
    )
    rehash_from(3)
    alice, bob = client_ref("alice", "USDC"), client_ref("bob", "USDC")
    LedgerAccount.objects.filter(id=alice).update(debits_posted=60 * USDC + 1)
    LedgerAccount.objects.filter(id=bob).update(credits_posted=300 * USDC + 1)
    assert_broken(Expect(seq=6, words="signed a different head"))


def test_an_edited_balance_is_named(ledger):
    bob = client_ref("bob", "USDC")
    LedgerAccount.objects.filter(id=bob).update(debits_posted=50 * USDC)
    assert_broken(Expect(account=bob, words="debits_posted stored 50000000"))


def test_a_rule_breaking_rewrite_is_caught_by_the_replay_even_with_valid_hashes(ledger):
    """A deposit relabelled as a fee (wallet → client under ``fee`` is not a legal move)."""
    Transfer.objects.filter(seq=2).update(code="fee")
    LedgerCheckpoint.objects.all().delete()
    rehash_from(2)
    assert_broken(Expect(seq=2, words="segregation_violation"))


def test_a_checkpoint_resigned_with_another_key_is_caught(ledger):
    Transfer.objects.filter(seq=3).update(amount=201 * USDC)
    head = rehash_from(3)
    forger = signing.Signer(Ed25519PrivateKey.generate())
    for checkpoint in LedgerCheckpoint.objects.all():
        row = Transfer.objects.get(seq=checkpoint.seq)
        signed = forger.sign(
            checkpoint_message(checkpoint.seq, bytes.fromhex(row.hash), checkpoint.signed_at)
        )
        LedgerCheckpoint.objects.filter(pk=checkpoint.pk).update(
            head_hash=row.hash, key_id=signed.key_id, signature=signed.signature_hex
        )
    carol = client_ref("carol", "USDC")
    LedgerAccount.objects.filter(id=carol).update(credits_posted=201 * USDC)
    wallet = wallet_ref("wallet-a", "USDC")
    LedgerAccount.objects.filter(id=wallet).update(debits_posted=1001 * USDC)
    assert head
    assert_broken(Expect(seq=6, words="not signed by a trusted key"))
    assert verify_ledger(public_keys=[forger.public_key]).ok


def test_deleting_the_tail_past_a_checkpoint_is_caught(ledger):
    Transfer.objects.filter(seq__gte=10).delete()
    report = verify_ledger()
    assert not report.ok and "no longer exists" in report.problem


def test_an_account_relabelled_to_the_house_side_is_caught(ledger):
    alice = client_ref("alice", "USDC")
    LedgerAccount.objects.filter(id=alice).update(kind="house_revenue")
    report = verify_ledger()
    assert not report.ok and report.first_bad_account == alice
    assert "malformed" in report.problem


def test_the_open_pending_index_is_checked(ledger):
    services.reserve_margin(
        reservations=[
            services.MarginReservation(id="r-9", account_id="alice", asset="USDC", amount=1)
        ],
        now=T0 + timedelta(seconds=60),
    )
    OpenPending.objects.filter(pending_id="r-9").delete()
    report = verify_ledger()
    assert not report.ok and "r-9 is open but not listed" in report.problem


def test_trusted_keys_can_be_given_as_pem_files(ledger, tmp_path):
    pem = tmp_path / "ledger.pem"
    pem.write_text(signing.get_signer().public_key_pem())
    assert run_command("--public-key", str(pem))[0] == 0
    other = tmp_path / "other.pem"
    other.write_text(signing.Signer(Ed25519PrivateKey.generate()).public_key_pem())
    code, message = run_command("--public-key", str(other))
    assert code == 1 and "not signed by a trusted key" in message
