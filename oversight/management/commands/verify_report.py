import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import signing
from oversight import report_verification
from oversight.models import Report


class Command(BaseCommand):
    help = (
        "Check a report's files against its signed manifest. Exit 0 when every digest and "
        "the signature verify; non-zero naming each file (or the signature) that does not."
    )

    def add_arguments(self, parser):
        parser.add_argument("report_id", nargs="?", type=int, help="the report's id")
        parser.add_argument(
            "--dir",
            dest="directory",
            help="verify a report directory instead (no database needed, offline)",
        )
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            help="PEM file of a trusted Ed25519 public key (repeatable); default: our own",
        )

    def handle(self, *args, report_id, directory, public_key, **options):
        if (report_id is None) == (directory is None):
            raise CommandError("give either a report id or --dir")
        keys = [signing.load_public_key(Path(p).read_bytes()) for p in public_key] or None
        if directory is not None:
            label = directory
            result, _ = report_verification.verify_directory(Path(directory), public_keys=keys)
        else:
            report = Report.objects.filter(pk=report_id).first()
            if report is None:
                raise CommandError(f"no report {report_id}")
            label = f"report {report.pk} ({report.kind} {report.period} v{report.version})"
            result = report_verification.verify_report(report, public_keys=keys)
        if result.ok:
            self.stdout.write(
                f"{label} verified: {result.files_checked} files match the manifest, "
                f"signature by key {result.key_id} is valid"
            )
            return
        self.stderr.write(f"{label} FAILED verification:")
        for problem in result.problems:
            self.stderr.write(f"  {problem}")
        sys.exit(1)
