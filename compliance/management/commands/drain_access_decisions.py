from django.core.management.base import BaseCommand

from compliance import decision_log


class Command(BaseCommand):
    help = "Move access decisions from the Redis stream into the database (also scheduled)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument("--max-seconds", type=float, default=60.0)
        parser.add_argument(
            "--claim-idle-ms",
            type=int,
            default=30_000,
            help="claim entries a dead consumer read but never acknowledged after this long",
        )

    def handle(self, *args, batch, max_seconds, claim_idle_ms, **options):
        stored = decision_log.drain(
            batch=batch, max_seconds=max_seconds, claim_idle_ms=claim_idle_ms
        )
        self.stdout.write(f"stored {stored} access decisions; {decision_log.pending()} left")
