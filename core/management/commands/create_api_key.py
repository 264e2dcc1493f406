from django.core.management.base import BaseCommand, CommandError

from core import api_keys
from core.errors import GatehouseError
from core.management.commands._cli import cli_actor


class Command(BaseCommand):
    help = "Create an API key; the key itself is printed alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes", required=True, help="comma-separated: pretrade,marketdata,..."
        )

    def handle(self, *args, name, scopes, **options):
        try:
            key, raw_key = api_keys.create_api_key(
                name=name, scopes=api_keys.parse_scopes(scopes), actor=cli_actor()
            )
        except GatehouseError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created API key {key.name!r} with scopes {','.join(key.scopes)}.")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(raw_key)
