from django.core.management.base import BaseCommand, CommandError

from core import api_keys
from core.errors import GatehouseError
from core.management.commands._cli import cli_actor


class Command(BaseCommand):
    help = "Revoke an API key by name; every worker refuses it within a second."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        try:
            key = api_keys.revoke_api_key(name=name, actor=cli_actor())
        except GatehouseError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked API key {key.name!r} at {key.revoked_at.isoformat()}.")
