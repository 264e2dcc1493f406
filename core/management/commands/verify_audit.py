import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from core import audit, signing


class Command(BaseCommand):
    help = (
        "Recompute the audit chain and check its signed checkpoints. Exit 0 when intact; "
        "non-zero naming the first bad entry otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            help="PEM file of a trusted Ed25519 public key (repeatable); default: our own",
        )

    def handle(self, *args, public_key, **options):
        keys = [signing.load_public_key(Path(p).read_bytes()) for p in public_key] or None
        report = audit.verify_chain(public_keys=keys)
        if report.ok:
            self.stdout.write(
                f"audit chain intact: {report.entries_checked} entries, "
                f"{report.checkpoints_checked} signed checkpoints, head #{report.head_seq}"
            )
            return
        self.stderr.write(f"AUDIT CHAIN BROKEN at entry #{report.first_bad_seq}: {report.problem}")
        sys.exit(1)
