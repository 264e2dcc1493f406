from django.core.management.base import BaseCommand

from core import audit


class Command(BaseCommand):
    help = "Sign the current head of the audit chain (also done on a schedule)."

    def handle(self, *args, **options):
        checkpoint = audit.checkpoint()
        if checkpoint is None:
            self.stdout.write("audit chain is empty: nothing to sign")
        else:
            self.stdout.write(f"signed head #{checkpoint.seq} with key {checkpoint.key_id}")
