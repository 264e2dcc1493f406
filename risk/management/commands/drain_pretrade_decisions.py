from django.core.management.base import BaseCommand

from risk.pretrade import decisions as decision_drain


class Command(BaseCommand):
    help = "Move pre-trade decisions from the account buckets' streams into the database."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument("--max-seconds", type=float, default=60.0)
        parser.add_argument("--claim-idle-ms", type=int, default=30_000)

    def handle(self, *args, batch, max_seconds, claim_idle_ms, **options):
        stored = decision_drain.drain(
            batch=batch, max_seconds=max_seconds, claim_idle_ms=claim_idle_ms
        )
        self.stdout.write(f"stored {stored} pre-trade decisions; {decision_drain.pending()} left")
