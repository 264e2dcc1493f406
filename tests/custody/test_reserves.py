"""Proof of reserves: every leaf proves, every alteration fails, no negative sum passes."""

import ast
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from custody.reserves import (
    EMPTY_HASH,
    SUM_MAX,
    Leaf,
    Proof,
    ProofStep,
    build_tree,
    build_tree_for_balances,
    derive_salt,
    leaf_hash,
    leaves_for,
    node_hash,
    proof_document,
    proof_for,
    root_message,
    verify_proof,
)

SECRET = b"server-secret-for-tests"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_por_proof.py"


def balances(count):
    return [(f"acc-{index}", (index * 7919) % 10_000) for index in range(count)]


def tree_of(count):
    return build_tree(leaves_for(SECRET, "USDC", "por-1", balances(count)))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 1000])
def test_every_leaf_proves_against_the_root(count):
    tree = tree_of(count)
    assert tree.total == sum(balance for _, balance in balances(count))
    for index in range(count):
        proof = proof_for(tree, index)
        assert proof.account_id == f"acc-{index}"
        assert verify_proof(proof, tree.root_hash, tree.total)


def test_the_fast_path_builds_the_same_tree():
    slow = tree_of(37)
    fast = build_tree_for_balances(SECRET, "USDC", "por-1", balances(37))
    assert (fast.root_hash, fast.total) == (slow.root_hash, slow.total)
    assert fast.salts == slow.salts


@pytest.mark.parametrize("secret", [b"", b"k" * 64, b"k" * 65, bytes(range(256))])
def test_the_fast_path_salts_are_hmac_sha256_for_any_key_length(secret):
    fast = build_tree_for_balances(secret, "USDC", "por-1", balances(3))
    assert fast.salts == [derive_salt(secret, f"acc-{i}", "USDC", "por-1") for i in range(3)]


def test_a_single_leaf_is_its_own_root():
    tree = tree_of(1)
    assert tree.root_hash == leaf_hash(tree.salts[0], "acc-0", 0)
    assert proof_for(tree, 0).path == ()


def test_odd_levels_are_padded_with_an_empty_zero_sum_node_not_a_duplicate():
    tree = tree_of(3)
    assert tree.hashes[0][3] == EMPTY_HASH
    assert tree.sums[0][3] == 0
    assert tree.total == sum(balance for _, balance in balances(3))
    proof = proof_for(tree, 2)
    assert proof.path[0] == ProofStep(side="right", hash=EMPTY_HASH, sum=0)


def test_duplicating_the_last_leaf_would_change_the_root():
    leaves = leaves_for(SECRET, "USDC", "por-1", balances(3))
    assert build_tree(leaves).root_hash != build_tree([*leaves, leaves[-1]]).root_hash


def test_an_empty_tree_has_the_empty_root_and_no_proofs():
    tree = build_tree([])
    assert (tree.root_hash, tree.total, tree.size) == (EMPTY_HASH, 0, 0)
    with pytest.raises(IndexError):
        proof_for(tree, 0)


def test_a_negative_balance_is_refused_when_building():
    leaves = [Leaf("a", 5, bytes(32)), Leaf("b", -5, bytes(32))]
    with pytest.raises(ValueError, match="b is negative"):
        build_tree(leaves)
    with pytest.raises(ValueError, match="negative"):
        build_tree_for_balances(SECRET, "USDC", "por-1", [("a", 5), ("b", -5)])


def altered_balance(proof):
    return replace(proof, balance=proof.balance + 1)


def altered_sibling_sum(proof):
    step = proof.path[1]
    return replace(proof, path=(proof.path[0], replace(step, sum=step.sum + 1), *proof.path[2:]))


def altered_sibling_hash(proof):
    step = proof.path[0]
    flipped = bytes([step.hash[0] ^ 1]) + step.hash[1:]
    return replace(proof, path=(replace(step, hash=flipped), *proof.path[1:]))


def altered_side(proof):
    step = proof.path[0]
    side = "left" if step.side == "right" else "right"
    return replace(proof, path=(replace(step, side=side), *proof.path[1:]))


def altered_salt(proof):
    return replace(proof, salt=bytes(32))


def short_salt(proof):
    return replace(proof, salt=proof.salt[:31])


def altered_account(proof):
    return replace(proof, account_id=proof.account_id + "x")


def dropped_step(proof):
    return replace(proof, path=proof.path[:-1])


def bogus_side(proof):
    return replace(proof, path=(replace(proof.path[0], side="middle"), *proof.path[1:]))


@pytest.mark.parametrize(
    "alter",
    [
        altered_balance,
        altered_sibling_sum,
        altered_sibling_hash,
        altered_side,
        altered_salt,
        short_salt,
        altered_account,
        dropped_step,
        bogus_side,
    ],
    ids=lambda alter: alter.__name__,
)
def test_an_altered_proof_fails(alter):
    tree = tree_of(8)
    proof = proof_for(tree, 5)
    assert verify_proof(proof, tree.root_hash, tree.total)
    assert not verify_proof(alter(proof), tree.root_hash, tree.total)


def test_an_altered_root_or_total_fails():
    tree = tree_of(8)
    proof = proof_for(tree, 5)
    assert not verify_proof(proof, tree.root_hash, tree.total + 1)
    assert not verify_proof(proof, tree.root_hash, tree.total - 1)
    assert not verify_proof(proof, bytes(32), tree.total)


def test_a_negative_sibling_sum_is_rejected_even_when_it_recomputes():
    """The classic attack: a fake sibling with a negative sum hides a liability.

    Build a two-leaf tree where the second 'leaf' is -balance: an unchecked verifier would
    accept the victim's inclusion while the published total is zero.
    """
    victim = Leaf("victim", 1000, derive_salt(SECRET, "victim", "USDC", "por-1"))
    victim_hash = leaf_hash(victim.salt, victim.account_id, victim.balance)
    forged_sibling = ProofStep(side="right", hash=EMPTY_HASH, sum=-1000)
    proof = Proof("victim", 1000, victim.salt, (forged_sibling,))
    with pytest.raises(ValueError):
        node_hash(victim_hash, 1000, EMPTY_HASH, -1000)
    assert not verify_proof(proof, EMPTY_HASH, 0)


def test_sums_beyond_u128_are_rejected():
    proof = Proof("a", SUM_MAX, bytes(32), (ProofStep("left", EMPTY_HASH, 1),))
    assert not verify_proof(proof, EMPTY_HASH, SUM_MAX + 1)


def test_salts_are_per_account_asset_and_publication():
    base = derive_salt(SECRET, "acc-1", "USDC", "por-1")
    assert len(base) == 32
    assert base == derive_salt(SECRET, "acc-1", "USDC", "por-1")
    assert base != derive_salt(SECRET, "acc-2", "USDC", "por-1")
    assert base != derive_salt(SECRET, "acc-1", "USDT", "por-1")
    assert base != derive_salt(SECRET, "acc-1", "USDC", "por-2")
    assert base != derive_salt(b"other-secret", "acc-1", "USDC", "por-1")
    assert derive_salt(SECRET, "ab", "c", "x") != derive_salt(SECRET, "a", "bc", "x")


def test_the_proof_round_trips_through_json():
    tree = tree_of(5)
    proof = proof_for(tree, 3)
    document = json.loads(json.dumps(proof.to_json()))
    assert Proof.from_json(document) == proof
    assert isinstance(document["leaf"]["balance"], str)
    assert all(isinstance(step["sum"], str) for step in document["path"])


@pytest.mark.parametrize("bad", ["-1", "1.5", "1e3", "", " 1", 5])
def test_json_sums_must_be_digit_strings(bad):
    document = proof_for(tree_of(2), 0).to_json()
    document["path"][0]["sum"] = bad
    with pytest.raises(ValueError):
        Proof.from_json(document)


def test_root_message_is_canonical_and_refuses_line_breaks():
    tree = tree_of(3)
    message = root_message("USDC", tree.total, tree.root_hash, "2026-11-24T21:00:00Z", "por-1")
    assert message.decode().splitlines() == [
        "gatehouse/por/root v1",
        "asset=USDC",
        f"total={tree.total}",
        f"root_hash={tree.root_hash.hex()}",
        "published_at=2026-11-24T21:00:00Z",
        "publication_id=por-1",
    ]
    with pytest.raises(ValueError, match="publication_id"):
        root_message("USDC", 1, tree.root_hash, "2026-11-24T21:00:00Z", "por-1\nasset=BTC")
    with pytest.raises(ValueError, match="total"):
        root_message("USDC", -1, tree.root_hash, "2026-11-24T21:00:00Z", "por-1")


@given(st.lists(st.integers(0, 10**30), min_size=1, max_size=40), st.data())
def test_any_tree_proves_any_leaf(amounts, data):
    leaves = [Leaf(f"a{i}", amount, bytes([i % 256]) * 32) for i, amount in enumerate(amounts)]
    tree = build_tree(leaves)
    assert tree.total == sum(amounts)
    index = data.draw(st.integers(0, len(amounts) - 1))
    assert verify_proof(proof_for(tree, index), tree.root_hash, tree.total)


def signed_document(tmp_path, tree, index, key):
    published_at = "2026-11-24T21:00:00Z"
    signature = key.sign(root_message("USDC", tree.total, tree.root_hash, published_at, "por-1"))
    document = proof_document(
        proof_for(tree, index),
        asset="USDC",
        publication_id="por-1",
        published_at_iso=published_at,
        root_hash=tree.root_hash,
        total=tree.total,
        signature=signature,
    )
    public_pem = tmp_path / "venue.pem"
    public_pem.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return document, public_pem


def run_script(tmp_path, document, public_pem):
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(document))
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(proof_file), str(public_pem)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_standalone_script_verifies_a_signed_proof(tmp_path):
    tree = tree_of(5)
    document, public_pem = signed_document(tmp_path, tree, 3, Ed25519PrivateKey.generate())
    finished = run_script(tmp_path, document, public_pem)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.startswith("OK: account acc-3")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda doc: doc["leaf"].update(balance=str(int(doc["leaf"]["balance"]) + 1)), "path"),
        (lambda doc: doc["path"][0].update(sum="-5"), "non-negative"),
        (lambda doc: doc.update(total=str(int(doc["total"]) - 1)), "path"),
        (lambda doc: doc.update(published_at="2026-11-25T00:00:00Z"), "signature"),
        (lambda doc: doc.update(signature="00" * 64), "signature"),
        (lambda doc: doc.update(format="other"), "format"),
        (lambda doc: doc["leaf"].update(salt=doc["leaf"]["salt"][:62]), "32 bytes"),
        (lambda doc: doc.pop("signature"), "signature"),
    ],
    ids=[
        "balance",
        "negative_sum",
        "total",
        "published_at",
        "signature",
        "format",
        "short_salt",
        "unsigned",
    ],
)
def test_the_standalone_script_rejects_alterations(tmp_path, change, reason):
    tree = tree_of(5)
    document, public_pem = signed_document(tmp_path, tree, 3, Ed25519PrivateKey.generate())
    change(document)
    finished = run_script(tmp_path, document, public_pem)
    assert finished.returncode == 1
    assert reason in finished.stderr


def test_the_standalone_script_rejects_another_key(tmp_path):
    tree = tree_of(5)
    document, _ = signed_document(tmp_path, tree, 3, Ed25519PrivateKey.generate())
    _, other_pem = signed_document(tmp_path, tree, 3, Ed25519PrivateKey.generate())
    finished = run_script(tmp_path, document, other_pem)
    assert finished.returncode == 1
    assert "signature" in finished.stderr


def test_the_standalone_script_imports_only_the_stdlib_and_cryptography():
    imported = set()
    for node in ast.walk(ast.parse(SCRIPT.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"hashlib", "json", "sys", "cryptography"}
