"""Verify a Gatehouse proof-of-reserves inclusion proof offline.

Usage:
    python verify_por_proof.py PROOF.json PUBLIC_KEY.pem

PROOF.json is the document from GET /api/v1/custody/proof-of-reserves/{account_id}?asset=...
and PUBLIC_KEY.pem the venue's published Ed25519 public key. The script recomputes the path
from your leaf to the root (every sum must be a non-negative 128-bit integer), checks that it
gives the published root hash and total, and checks the venue's signature over that root.
Exit status 0 means verified; 1 means it did not verify (the reason is printed).

Needs only Python 3.10+ and the `cryptography` package; it shares no code with the venue.
"""

import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

SUM_MAX = 2**128 - 1


def u128(text):
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and int(text) <= SUM_MAX):
        raise ValueError(f"not a non-negative 128-bit sum: {text!r}")
    return int(text).to_bytes(16, "big")


def lp(text):
    encoded = text.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def verify(document, public_key):
    if document.get("format") != "gatehouse-por-proof/1":
        raise ValueError("unknown proof format")
    leaf = document["leaf"]
    salt = bytes.fromhex(leaf["salt"])
    if len(salt) != 32:
        raise ValueError("the salt must be 32 bytes")
    current_hash = hashlib.sha256(
        b"\x00" + salt + lp(leaf["account_id"]) + u128(leaf["balance"])
    ).digest()
    current_sum = int(leaf["balance"])
    if len(document["path"]) > 64:
        raise ValueError("the path is longer than any tree of 2**64 leaves")
    for step in document["path"]:
        sibling, sibling_sum = bytes.fromhex(step["hash"]), u128(step["sum"])
        if len(sibling) != 32:
            raise ValueError("a sibling hash must be 32 bytes")
        mine = current_hash + u128(str(current_sum))
        if step["side"] == "left":
            current_hash = hashlib.sha256(b"\x01" + sibling + sibling_sum + mine).digest()
        elif step["side"] == "right":
            current_hash = hashlib.sha256(b"\x01" + mine + sibling + sibling_sum).digest()
        else:
            raise ValueError(f"bad side {step['side']!r}")
        current_sum += int(step["sum"])
    u128(str(current_sum))
    if current_hash.hex() != document["root_hash"] or str(current_sum) != document["total"]:
        raise ValueError("the path does not lead to the published root hash and total")
    fields = ("asset", "total", "root_hash", "published_at", "publication_id")
    if any("\n" in str(document[name]) or "\r" in str(document[name]) for name in fields):
        raise ValueError("a signed field contains a line break")
    lines = ["gatehouse/por/root v1", *(f"{name}={document[name]}" for name in fields)]
    try:
        public_key.verify(bytes.fromhex(document["signature"]), ("\n".join(lines) + "\n").encode())
    except InvalidSignature:
        raise ValueError("the root signature does not verify with this public key") from None


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as proof_file:
        document = json.load(proof_file)
    with open(argv[2], "rb") as key_file:
        public_key = load_pem_public_key(key_file.read())
    if not isinstance(public_key, Ed25519PublicKey):
        print("FAILED: the public key is not an Ed25519 key", file=sys.stderr)
        return 1
    try:
        verify(document, public_key)
    except (KeyError, TypeError, ValueError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    leaf = document["leaf"]
    print(
        f"OK: account {leaf['account_id']} with balance {leaf['balance']} (minor units) is "
        f"included in the {document['asset']} reserves root {document['root_hash']} "
        f"(total {document['total']}), published {document['published_at']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
