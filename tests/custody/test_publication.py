"""Proof of reserves from the database: chunked proofs equal the pure tree's, verify offline
(also with the standalone script and only the public key), and fail when altered."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from core import signing
from core.models import AuditEntry
from custody import publication
from custody.identifiers import client_ref
from custody.ledger import AccountKind
from custody.models import LedgerAccount, PorChunk
from custody.reserves import build_tree_for_balances, proof_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def clients(count: int, asset: str = "USDC") -> dict[str, int]:
    """``count`` client accounts with balances (written directly: only balances matter here)."""
    balances = {f"acc-{index:04d}": (index * 7919) % 10_000_000 for index in range(count)}
    LedgerAccount.objects.bulk_create(
        LedgerAccount(
            id=client_ref(owner, asset),
            kind=AccountKind.CLIENT_LIABILITY.value,
            owner=owner,
            asset_id=asset,
            debits_must_not_exceed_credits=True,
            credits_must_not_exceed_debits=False,
            credits_posted=balance,
            opened_at=T0,
        )
        for owner, balance in balances.items()
    )
    return balances


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 17, 33])
@pytest.mark.parametrize("chunk_leaves", [1, 2, 4, 1024])
def test_chunked_proofs_equal_the_pure_tree(settings, count, chunk_leaves):
    settings.POR_CHUNK_LEAVES = chunk_leaves
    balances = clients(count)
    published = publication.publish(asset="USDC", actor="test", now=T0)
    ordered = sorted(balances.items())
    tree = build_tree_for_balances(
        publication.salt_secret(), "USDC", published.publication_id, ordered
    )
    assert (published.root_hash, int(published.total)) == (tree.root_hash.hex(), tree.total)
    assert published.leaf_count == count
    for index, (owner, balance) in enumerate(ordered):
        found = publication.account_proof(account_id=owner, asset="USDC")
        assert found.proof == proof_for(tree, index)
        assert found.proof.balance == balance


def test_publication_is_signed_and_audited(settings):
    clients(3)
    published = publication.publish(asset="USDC", actor="officer", now=T0)
    entry = AuditEntry.objects.get(action="custody.por_publish")
    assert entry.object_id == published.publication_id and entry.actor == "officer"
    assert published.key_id == signing.get_signer().key_id
    assert publication.account_proof(account_id="acc-0001", asset="USDC").document["signature"]


def test_the_latest_publication_answers(settings):
    clients(2)
    publication.publish(asset="USDC", actor="test", now=T0)
    LedgerAccount.objects.filter(owner="acc-0001").update(credits_posted=123)
    later = publication.publish(asset="USDC", actor="test", now=T0.replace(hour=22))
    found = publication.account_proof(account_id="acc-0001", asset="USDC")
    assert found.publication == later and found.proof.balance == 123


def test_altered_chunk_data_is_refused_not_proven(settings):
    settings.POR_CHUNK_LEAVES = 4
    clients(9)
    published = publication.publish(asset="USDC", actor="test", now=T0)
    chunk = PorChunk.objects.get(publication=published, index=1)
    account_ids, balances = json.loads(bytes(chunk.leaves))
    balances[0] += 1
    PorChunk.objects.filter(pk=chunk.pk).update(leaves=json.dumps([account_ids, balances]).encode())
    with pytest.raises(publication.ProofDataCorrupt):
        publication.account_proof(account_id=account_ids[0], asset="USDC")


@pytest.fixture
def proof_file(tmp_path):
    clients(20)
    publication.publish(asset="USDC", actor="test", now=T0)
    document = publication.account_proof(account_id="acc-0007", asset="USDC").document
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(document))
    return path, document


@pytest.fixture
def public_key(tmp_path):
    path = tmp_path / "gatehouse.pem"
    call_command("export_public_key", "--out", str(path))
    return path


def run_script(proof: Path, key: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "verify_por_proof.py"), str(proof), str(key)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def command(path: Path, key: Path | None = None) -> int:
    args = [str(path)] + (["--public-key", str(key)] if key else [])
    try:
        call_command("verify_por_proof", *args)
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_the_standalone_script_verifies_with_only_the_public_key(proof_file, public_key):
    path, _ = proof_file
    result = run_script(path, public_key)
    assert result.returncode == 0, result.stderr
    assert "OK: account acc-0007" in result.stdout
    assert command(path, public_key) == 0 and command(path) == 0


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda d: d["leaf"].update(balance=str(int(d["leaf"]["balance"]) + 1)),
            id="leaf_balance",
        ),
        pytest.param(
            lambda d: d["path"][1].update(sum=str(int(d["path"][1]["sum"]) + 1)), id="sibling_sum"
        ),
        pytest.param(lambda d: d["path"][0].update(hash="00" * 32), id="sibling_hash"),
        pytest.param(lambda d: d.update(total=str(int(d["total"]) + 1)), id="published_total"),
        pytest.param(
            lambda d: d.update(published_at="2030-01-01T00:00:00.000000Z"), id="signed_field"
        ),
        pytest.param(lambda d: d["leaf"].update(account_id="acc-0008"), id="someone_elses_leaf"),
    ],
)
def test_an_altered_proof_fails(proof_file, public_key, tmp_path, tamper):
    _, document = proof_file
    tamper(document)
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(document))
    result = run_script(altered, public_key)
    assert result.returncode == 1 and "FAILED" in result.stderr
    assert command(altered, public_key) == 1


def test_another_key_does_not_verify(proof_file, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path, _ = proof_file
    other = tmp_path / "other.pem"
    other.write_text(signing.Signer(Ed25519PrivateKey.generate()).public_key_pem())
    assert run_script(path, other).returncode == 1
    assert command(path, other) == 1


def test_the_publish_command_and_task(settings):
    from io import StringIO

    from custody.tasks import report_publish_proof_of_reserves

    clients(3)
    clients(2, asset="BTC")
    out = StringIO()
    call_command("publish_proof_of_reserves", "--asset", "BTC", stdout=out)
    assert out.getvalue().startswith("BTC: por-BTC-")
    published = report_publish_proof_of_reserves()
    assert [p.split("-")[1] for p in published] == ["BTC", "USDC"]
