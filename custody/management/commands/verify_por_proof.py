import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from core import signing
from custody.reserves import Proof, root_message, verify_proof


class Command(BaseCommand):
    help = (
        "Verify a proof-of-reserves inclusion proof (the JSON from the proof-of-reserves "
        "endpoint, or its 'proof' member) against the signed root. Exit 0 when it verifies."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--public-key", help="PEM file of the venue's Ed25519 public key; default: our own"
        )

    def handle(self, *args, file, public_key, **options):
        document = json.loads(Path(file).read_text(encoding="utf-8"))
        document = document.get("proof", document)
        key = (
            signing.load_public_key(Path(public_key).read_bytes())
            if public_key
            else signing.get_signer().public_key
        )
        try:
            proof = Proof.from_json(document)
            root_hash, total = bytes.fromhex(document["root_hash"]), int(document["total"])
            if document.get("format") != "gatehouse-por-proof/1":
                raise ValueError("unknown proof format")
            if not verify_proof(proof, root_hash, total):
                raise ValueError("the path does not lead to the published root hash and total")
            message = root_message(
                document["asset"],
                total,
                root_hash,
                document["published_at"],
                document["publication_id"],
            )
            if not signing.verify(key, message, document.get("signature", "")):
                raise ValueError("the root signature does not verify with this public key")
        except (KeyError, TypeError, ValueError) as error:
            self.stderr.write(f"FAILED: {error}")
            sys.exit(1)
        self.stdout.write(
            f"OK: account {proof.account_id} with balance {proof.balance} (minor units) is "
            f"included in the {document['asset']} reserves root {document['root_hash']} "
            f"(total {document['total']}), published {document['published_at']}"
        )
