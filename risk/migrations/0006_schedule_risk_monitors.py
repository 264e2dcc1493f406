"""Schedule the pre-trade monitors (reject-rate spikes, limit breaches, near-breaches) every
minute on the default queue."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="pre-trade monitors: reject spikes, limit breaches, near-breaches",
        defaults={"task": "risk.tasks.monitor_pretrade", "interval": every, "queue": "default",
                  "enabled": True},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0005_schedule_pretrade_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
