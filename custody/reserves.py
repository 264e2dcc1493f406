"""Proof of reserves: a Merkle sum tree over client balances, one tree per asset.

Each leaf commits to one client account's balance; each node commits to its two children's
hashes *and sums*, and carries their total, so the root commits to the sum of all client
balances (the liabilities the venue publishes and signs). A customer given their leaf and
the path of sibling hashes and sums recomputes the root and the total: if their balance
had been left out or understated, or any sum made negative to cancel it, the recomputation
fails. That is the Merkle sum tree of Maxwell's proof-of-solvency scheme, hardened in the
two usual ways: each child's sum is hashed separately (hashing only their total lets an
exchange shift value between siblings unseen), and every sum is checked non-negative (a fake
negative leaf would otherwise cancel a real liability).

Encodings (all integers as unsigned 16-byte big-endian, so a negative sum cannot even be
written down; domain-separation prefixes so a node can never pass for a leaf):

- salt = HMAC-SHA256(server secret, ``"gatehouse/por/salt" || lp(account) || lp(asset) ||
  lp(publication)``) where ``lp`` is a 4-byte length prefix. The customer receives their
  salt in their proof; without the secret they cannot compute anyone else's, so a sibling
  leaf hash does not reveal which account it is.
- leaf hash = SHA-256(``0x00 || salt || lp(account_id) || balance``), leaf sum = balance.
- node hash = SHA-256(``0x01 || left.hash || left.sum || right.hash || right.sum``),
  node sum = left.sum + right.sum.

A level with an odd number of nodes is padded with :data:`EMPTY_HASH` of sum zero. Bitcoin
instead duplicates the last node; in a sum tree that would count the last account's balance
twice, and it makes ``[a, b, c]`` and ``[a, b, c, c]`` share a root (CVE-2012-2459), so a
proof could no longer say whether an account is counted once. The padding node is a public
constant with nothing behind it, and its zero sum adds nothing.

A sibling's sum next to a leaf is a stranger's exact balance (anonymous, thanks to salts);
shuffling the leaf order per publication is the caller's choice and costs a sort.
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SUM_MAX = 2**128 - 1
FORMAT = "gatehouse-por-proof/1"
EMPTY_HASH = hashlib.sha256(b"\x02gatehouse/por/empty").digest()
"""The padding node of odd levels; its sum is zero."""

_SALT_TAG = b"gatehouse/por/salt"
_ROOT_TAG = "gatehouse/por/root v1"
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Leaf:
    """One client account's entry: its balance in minor units and its per-account salt."""

    account_id: str
    balance: int
    salt: bytes


@dataclass(frozen=True, slots=True)
class Tree:
    """A built tree: ``hashes[0]`` and ``sums[0]`` are the (padded) leaves, the last the root.

    The level lists are owned by the tree and must not be mutated.
    """

    hashes: tuple[list[bytes], ...]
    sums: tuple[list[int], ...]
    account_ids: list[str]
    salts: list[bytes]

    @property
    def root_hash(self) -> bytes:
        return self.hashes[-1][0]

    @property
    def total(self) -> int:
        return self.sums[-1][0]

    @property
    def size(self) -> int:
        return len(self.account_ids)


@dataclass(frozen=True, slots=True)
class ProofStep:
    """One sibling on the way up; ``side`` is where the sibling sits, ``left`` or ``right``."""

    side: str
    hash: bytes
    sum: int


@dataclass(frozen=True, slots=True)
class Proof:
    """An account's inclusion proof: its leaf and the siblings from the leaf to the root."""

    account_id: str
    balance: int
    salt: bytes
    path: tuple[ProofStep, ...]

    def to_json(self) -> dict[str, object]:
        """The ``leaf`` and ``path`` members of a proof document (hex bytes, sums as strings)."""
        return {
            "leaf": {
                "account_id": self.account_id,
                "balance": str(self.balance),
                "salt": self.salt.hex(),
            },
            "path": [
                {"side": step.side, "hash": step.hash.hex(), "sum": str(step.sum)}
                for step in self.path
            ],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, object]) -> "Proof":
        """Parse the ``leaf`` and ``path`` of a proof document; malformed input raises."""
        leaf = document["leaf"]
        path = document["path"]
        if not isinstance(leaf, Mapping) or not isinstance(path, list):
            raise ValueError("a proof needs a leaf object and a path list")
        return cls(
            account_id=str(leaf["account_id"]),
            balance=_parse_sum(leaf["balance"]),
            salt=bytes.fromhex(str(leaf["salt"])),
            path=tuple(
                ProofStep(
                    side=str(step["side"]),
                    hash=bytes.fromhex(str(step["hash"])),
                    sum=_parse_sum(step["sum"]),
                )
                for step in path
            ),
        )


def derive_salt(secret: bytes, account_id: str, asset: str, publication_id: str) -> bytes:
    """The per-account, per-publication salt (HMAC-SHA256 keyed with the server secret)."""
    message = (
        _SALT_TAG + _lp(account_id.encode()) + _lp(asset.encode()) + _lp(publication_id.encode())
    )
    return hmac.digest(secret, message, "sha256")


def leaf_hash(salt: bytes, account_id: str, balance: int) -> bytes:
    return hashlib.sha256(
        b"\x00" + salt + _lp(account_id.encode()) + _u128(balance, account_id)
    ).digest()


def node_hash(left_hash: bytes, left_sum: int, right_hash: bytes, right_sum: int) -> bytes:
    return hashlib.sha256(
        b"\x01" + left_hash + _u128(left_sum, "left") + right_hash + _u128(right_sum, "right")
    ).digest()


def leaves_for(
    secret: bytes, asset: str, publication_id: str, balances: Iterable[tuple[str, int]]
) -> list[Leaf]:
    """Leaves for ``(account_id, balance)`` pairs, salted for this asset and publication."""
    return [
        Leaf(account_id, balance, derive_salt(secret, account_id, asset, publication_id))
        for account_id, balance in balances
    ]


def build_tree(leaves: Iterable[Leaf]) -> Tree:
    """Build the tree over ``leaves`` in the given order; a negative balance raises."""
    account_ids: list[str] = []
    salts: list[bytes] = []
    hashes: list[bytes] = []
    sums: list[int] = []
    for leaf in leaves:
        if leaf.balance < 0:
            raise ValueError(f"balance of {leaf.account_id} is negative; sums must be non-negative")
        account_ids.append(leaf.account_id)
        salts.append(leaf.salt)
        hashes.append(leaf_hash(leaf.salt, leaf.account_id, leaf.balance))
        sums.append(leaf.balance)
    return _build_levels(hashes, sums, account_ids, salts)


def build_tree_for_balances(
    secret: bytes, asset: str, publication_id: str, balances: Iterable[tuple[str, int]]
) -> Tree:
    """:func:`build_tree` over :func:`leaves_for`, without building a ``Leaf`` per account.

    This is the publication path for a million accounts; it computes exactly the same tree.
    """
    sha256 = hashlib.sha256
    inner, outer = _hmac_sha256_states(secret)
    tail = _lp(asset.encode()) + _lp(publication_id.encode())
    account_ids: list[str] = []
    salts: list[bytes] = []
    hashes: list[bytes] = []
    sums: list[int] = []
    for account_id, balance in balances:
        if balance < 0:
            raise ValueError(f"balance of {account_id} is negative; sums must be non-negative")
        encoded = account_id.encode()
        prefixed = len(encoded).to_bytes(4, "big") + encoded
        keyed = inner.copy()
        keyed.update(_SALT_TAG + prefixed + tail)
        salted = outer.copy()
        salted.update(keyed.digest())
        salt = salted.digest()
        account_ids.append(account_id)
        salts.append(salt)
        hashes.append(sha256(b"\x00" + salt + prefixed + balance.to_bytes(16, "big")).digest())
        sums.append(balance)
    return _build_levels(hashes, sums, account_ids, salts)


def _build_levels(
    hashes: list[bytes], sums: list[int], account_ids: list[str], salts: list[bytes]
) -> Tree:
    if not hashes:
        hashes, sums = [EMPTY_HASH], [0]
    levels_hashes, levels_sums = [], []
    sha256 = hashlib.sha256
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(EMPTY_HASH)
            sums.append(0)
        levels_hashes.append(hashes)
        levels_sums.append(sums)
        encoded = [value.to_bytes(16, "big") for value in sums]
        hashes = [
            sha256(b"\x01" + hashes[i] + encoded[i] + hashes[i + 1] + encoded[i + 1]).digest()
            for i in range(0, len(hashes), 2)
        ]
        sums = [sums[i] + sums[i + 1] for i in range(0, len(sums), 2)]
    if sums[0] > SUM_MAX:
        raise ValueError("the total exceeds the largest encodable sum")
    levels_hashes.append(hashes)
    levels_sums.append(sums)
    return Tree(tuple(levels_hashes), tuple(levels_sums), account_ids, salts)


def proof_for(tree: Tree, index: int) -> Proof:
    """The inclusion proof of the leaf at ``index`` (0-based, in build order)."""
    if not 0 <= index < tree.size:
        raise IndexError(f"leaf {index} is not in a tree of {tree.size}")
    path = []
    position = index
    for hashes, sums in zip(tree.hashes[:-1], tree.sums[:-1], strict=True):
        sibling = position ^ 1
        side = "left" if sibling < position else "right"
        path.append(ProofStep(side=side, hash=hashes[sibling], sum=sums[sibling]))
        position //= 2
    return Proof(
        account_id=tree.account_ids[index],
        balance=tree.sums[0][index],
        salt=tree.salts[index],
        path=tuple(path),
    )


def verify_proof(proof: Proof, root_hash: bytes, total: int) -> bool:
    """Recompute the root from the proof; every sum must be a non-negative u128.

    The salt must be 32 bytes: the leaf encoding has no length prefix for it, and a fixed
    length is what keeps one leaf from parsing as two different (salt, account) pairs.
    """
    if len(proof.path) > _MAX_DEPTH or len(proof.salt) != 32:
        return False
    if not _is_sum(proof.balance) or not _is_sum(total):
        return False
    current_hash = leaf_hash(proof.salt, proof.account_id, proof.balance)
    current_sum = proof.balance
    for step in proof.path:
        if not _is_sum(step.sum) or len(step.hash) != 32:
            return False
        if step.side == "left":
            current_hash = node_hash(step.hash, step.sum, current_hash, current_sum)
        elif step.side == "right":
            current_hash = node_hash(current_hash, current_sum, step.hash, step.sum)
        else:
            return False
        current_sum += step.sum
        if current_sum > SUM_MAX:
            return False
    return hmac.compare_digest(current_hash, root_hash) and current_sum == total


def root_message(
    asset: str, total: int, root_hash: bytes, published_at_iso: str, publication_id: str
) -> bytes:
    """The canonical bytes the Ed25519 signer signs for a published root.

    One ``name=value`` line per field under a versioned header; no value may contain a line
    break, so the lines cannot be re-split into a different message.
    """
    values = {
        "asset": asset,
        "total": str(total) if _is_sum(total) else "",
        "root_hash": root_hash.hex() if len(root_hash) == 32 else "",
        "published_at": published_at_iso,
        "publication_id": publication_id,
    }
    for name, value in values.items():
        if not value or any(character in value for character in "\r\n"):
            raise ValueError(f"{name} is empty, malformed or contains a line break")
    lines = [_ROOT_TAG, *(f"{name}={value}" for name, value in values.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def proof_document(
    proof: Proof,
    *,
    asset: str,
    publication_id: str,
    published_at_iso: str,
    root_hash: bytes,
    total: int,
    signature: bytes | None = None,
) -> dict[str, object]:
    """The JSON document a customer downloads and ``scripts/verify_por_proof.py`` checks."""
    document: dict[str, object] = {
        "format": FORMAT,
        "asset": asset,
        "publication_id": publication_id,
        "published_at": published_at_iso,
        "root_hash": root_hash.hex(),
        "total": str(total),
        **proof.to_json(),
    }
    if signature is not None:
        document["signature"] = signature.hex()
    return document


def _hmac_sha256_states(secret: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """HMAC-SHA256 (RFC 2104) with the keyed pads hashed once, for a million salts.

    ``hmac.digest`` re-keys on every call; copying the two pre-keyed states gives the same
    digest in less than half the time.
    """
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\x00")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    return inner, outer


def _lp(encoded: bytes) -> bytes:
    return len(encoded).to_bytes(4, "big") + encoded


def _u128(value: int, what: str) -> bytes:
    if not _is_sum(value):
        raise ValueError(f"sum of {what} must be an integer in [0, 2**128)")
    return value.to_bytes(16, "big")


def _is_sum(value: object) -> bool:
    return type(value) is int and 0 <= value <= SUM_MAX


def _parse_sum(text: object) -> int:
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError(f"a sum must be a string of decimal digits, got {text!r}")
    return int(text)
