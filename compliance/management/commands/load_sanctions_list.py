"""``python manage.py load_sanctions_list --source ofac_sdn --csv-dir DIR [--addresses-dir
DIR] --published YYYY-MM-DD``: load a new list version and re-screen every account.

``--shipped`` loads the lists the project ships (``compliance/screening/data``). A file
that does not parse whole is refused with its name and line, and the version in force
stays in force (exit status 1)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance import rescreen, sanctions, tasks
from compliance.screening.sdn import ListFormatError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Load a sanctions list version (OFAC SDN CSV files and address lists)."

    def add_arguments(self, parser):
        parser.add_argument("--source", default=sanctions.SOURCE, choices=[sanctions.SOURCE])
        parser.add_argument("--csv-dir", type=Path, help="sdn.csv, alt.csv, add.csv, ...")
        parser.add_argument("--addresses-dir", type=Path, help="sanctioned_addresses_*.json")
        parser.add_argument("--published", help="the list's publication date, YYYY-MM-DD")
        parser.add_argument("--addresses-as-of", help="the address lists' date, YYYY-MM-DD")
        parser.add_argument("--shipped", action="store_true", help="the lists the project ships")
        parser.add_argument(
            "--no-rescreen", action="store_true", help="do not queue the re-screen of accounts"
        )
        parser.add_argument(
            "--rescreen-now",
            action="store_true",
            help="re-screen every account here and now instead of queueing it (make run)",
        )
        parser.add_argument("--actor", default="operator:cli")

    def handle(self, *args, **options):
        try:
            if options["shipped"]:
                version, created = sanctions.load_shipped(actor=options["actor"])
            else:
                if not options["csv_dir"] or not options["published"]:
                    raise CommandError("--csv-dir and --published are required (or --shipped)")
                as_of = options["addresses_as_of"]
                version, created = sanctions.load_version(
                    sdn_dir=options["csv_dir"],
                    addresses_dir=options["addresses_dir"],
                    published_on=_date(options["published"]),
                    addresses_as_of=_date(as_of) if as_of else None,
                    actor=options["actor"],
                    source=options["source"],
                )
        except ListFormatError as exc:
            raise CommandError(f"refused, the version in force stays: {exc}") from exc
        if not created:
            self.stdout.write(f"{version.label} is already loaded; nothing changed")
            return
        changes = ", ".join(f"{k} {v}" for k, v in sorted(version.changes_summary.items()))
        self.stdout.write(
            f"loaded {version.label}: {version.entry_count} entries, {version.alias_count} "
            f"aliases, {version.address_count} addresses ({changes or 'no changes'})"
        )
        if options["rescreen_now"]:
            screened, _ = rescreen.rescreen(version.pk, max_seconds=float("inf"))
            self.stdout.write(f"re-screened {screened} accounts")
        elif not options["no_rescreen"]:
            tasks.rescreen_accounts.delay(version.pk)
            self.stdout.write("queued the re-screen of every account")
