from pathlib import Path

from django.core.management.base import BaseCommand

from core import signing


class Command(BaseCommand):
    help = "Print (or write) the Ed25519 public key auditors use to verify our signatures."

    def add_arguments(self, parser):
        parser.add_argument("--out", help="write the PEM to this file instead of stdout")

    def handle(self, *args, out=None, **options):
        signer = signing.get_signer()
        pem = signer.public_key_pem()
        if out:
            Path(out).write_text(pem)
            self.stdout.write(f"wrote public key {signer.key_id} to {out}")
        else:
            self.stdout.write(pem, ending="")
