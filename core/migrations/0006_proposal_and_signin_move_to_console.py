"""Proposals and sign-in throttles now belong to the console: removed from core's state
only; their tables stay where they are, with their rows (console 0001 takes them over)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_schedule_policy_reconcile"),
        ("console", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Proposal"),
                migrations.DeleteModel(name="SignInThrottle"),
            ],
        ),
    ]
