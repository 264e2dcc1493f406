from django.core.management.base import BaseCommand

from custody import publication
from custody.money import ASSETS


class Command(BaseCommand):
    help = (
        "Build, sign and publish the proof-of-reserves Merkle sum tree over client balances "
        "(every asset with client accounts, or --asset)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--asset", action="append", choices=sorted(ASSETS), default=None)

    def handle(self, *args, asset, **options):
        for published in publication.publish_all(assets=asset, actor="system:command"):
            self.stdout.write(
                f"{published.asset_id}: {published.publication_id} root {published.root_hash} "
                f"total {published.total} over {published.leaf_count} accounts "
                f"(signed by {published.key_id})"
            )
