from django.conf import settings
from django.core.management.base import BaseCommand

from console import demo


class Command(BaseCommand):
    help = "Load the demo instruments, accounts, operator API key and console user (once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-credentials",
            action="store_true",
            help="print only the summary (make run prints the credentials at the end)",
        )

    def handle(self, *args, no_credentials=False, **options):
        result = demo.load(settings.VAR_DIR / "demo-credentials.json")
        self.stdout.write(
            f"demo data: {result['instruments_created']} instruments and "
            f"{result['accounts_created']} accounts created (existing ones kept), "
            f"{result['markets_seeded']} markets given opening prices"
        )
        if no_credentials:
            return
        self.stdout.write(
            f"  console officers (maker and checker; enrol a TOTP app at first sign-in "
            f"at http://127.0.0.1:{settings.PORT}/): {result['username']} / "
            f"{result['password']} and {result['checker_username']} / "
            f"{result['checker_password']}"
        )
        self.stdout.write(f"  operator API key (all scopes): {result['api_key']}")
