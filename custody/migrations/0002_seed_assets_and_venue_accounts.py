"""Seed the assets (custody.money.ASSETS, the one definition of each scale) and, per asset,
the venue's system accounts: clearing, suspense, house revenue and the insurance fund."""

from django.db import migrations
from django.utils import timezone


def seed(apps, schema_editor):
    from custody.ledger import REQUIRED_FLAGS, AccountFlags
    from custody.money import ASSETS
    from custody.identifiers import SYSTEM_KINDS, VENUE, venue_ref

    Asset = apps.get_model("custody", "Asset")
    LedgerAccount = apps.get_model("custody", "LedgerAccount")
    now = timezone.now()
    for code, asset in ASSETS.items():
        Asset.objects.update_or_create(code=code, defaults={"scale": asset.scale})
        for kind in SYSTEM_KINDS:
            flags = REQUIRED_FLAGS[kind]
            LedgerAccount.objects.get_or_create(
                id=venue_ref(kind, code),
                defaults={
                    "kind": kind.value,
                    "owner": VENUE,
                    "asset_id": code,
                    "debits_must_not_exceed_credits": bool(
                        flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
                    ),
                    "credits_must_not_exceed_debits": bool(
                        flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
                    ),
                    "opened_at": now,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
