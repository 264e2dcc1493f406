"""Alerts and reports now belong to oversight: removed from compliance's state only; their
tables stay where they are, with their data (oversight 0001 takes them over)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('compliance', '0005_schedule_monitors_alerts_reports'),
        ('oversight', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='alertevent',
                name='alert',
            ),
            migrations.RemoveField(
                model_name='reportfile',
                name='report',
            ),
            migrations.DeleteModel(
                name='AlertDelivery',
            ),
            migrations.DeleteModel(
                name='Alert',
            ),
            migrations.DeleteModel(
                name='AlertEvent',
            ),
            migrations.DeleteModel(
                name='Report',
            ),
            migrations.DeleteModel(
                name='ReportFile',
            ),
    ],
            database_operations=[],
        )
    ]
