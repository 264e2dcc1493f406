from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core import clock
from core.errors import GatehouseError
from core.management.commands._cli import cli_actor
from oversight import reports, storage
from oversight.models import REPORT_KINDS


def _period(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--period must be YYYY-MM-DD, not {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Generate a signed regulatory report for a past period. Regenerating a period makes "
        "a new version and keeps the old ones. Prints the report id on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=REPORT_KINDS)
        parser.add_argument("--period", required=True, type=_period, help="UTC date, YYYY-MM-DD")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="only generate when no version of the period exists yet",
        )

    def handle(self, *args, kind, period, if_missing, **options):
        try:
            report = reports.generate_report(
                kind=kind,
                period=period,
                generated_by=cli_actor(),
                now=clock.now(),
                only_if_missing=if_missing,
            )
        except GatehouseError as exc:
            raise CommandError(exc.message) from exc
        store = storage.reports_storage()
        try:
            directory = store.path(report.directory)
        except NotImplementedError:  # an object store has no local path
            directory = f"{report.directory} of the reports storage"
        self.stdout.write(
            f"{report.kind} report for {report.period} version {report.version}: "
            f"{report.files.count()} files in {directory}, signed by key {report.key_id}"
        )
        self.stdout.write(str(report.pk))
