"""Schedule the sweeper that releases lapsed orders and open-interest reservations (every 5
seconds, realtime queue), so live state ends with each order's own life even for accounts
that send nothing more."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="release lapsed orders and open-interest reservations",
        defaults={"task": "risk.tasks.realtime_expire_orders", "interval": every,
                  "queue": "realtime", "enabled": True},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0006_schedule_risk_monitors"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
