import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from core import signing
from custody.verification import verify_ledger


class Command(BaseCommand):
    help = (
        "Recompute the ledger's hash chain and every balance from the transfers, and check "
        "the signed checkpoints. Exit 0 when intact; 1 naming the first bad row otherwise."
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
        report = verify_ledger(public_keys=keys)
        if report.ok:
            self.stdout.write(
                f"ledger intact: {report.transfers_checked} transfers, "
                f"{report.accounts_checked} accounts, {report.checkpoints_checked} signed "
                f"checkpoints, head #{report.head_seq}"
            )
            return
        where = (
            f"transfer #{report.first_bad_seq}"
            if report.first_bad_seq is not None
            else f"account {report.first_bad_account}"
            if report.first_bad_account
            else "the ledger"
        )
        self.stderr.write(f"LEDGER BROKEN at {where}: {report.problem}")
        sys.exit(1)
