"""Every alert belongs to an incident (0006 gave the existing ones theirs)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("oversight", "0006_incidents_for_existing_alerts")]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="incident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="alerts",
                to="oversight.incident",
            ),
        ),
    ]
