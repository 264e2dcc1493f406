from django.core.management.base import BaseCommand

from core import clock
from risk.positions import resync


class Command(BaseCommand):
    help = (
        "Rebuild the pre-trade check's Redis state from the database (positions from fills, "
        "reservations from open orders, collateral from the ledger). Orders fail closed "
        "until it is done."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-needed", action="store_true", help="only when some account bucket is not synced"
        )

    def handle(self, *args, if_needed, **options):
        now = clock.now()
        summary = resync.ensure_synced(now=now) if if_needed else resync.resync(now=now)
        self.stdout.write(
            "risk state already synced"
            if summary is None
            else f"risk state resynchronised: {summary}"
        )
