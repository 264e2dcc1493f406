"""Schedule the policy watchdog (``core.policy.reconcile``) every 5 seconds on the realtime
queue: it re-announces versions an announcement failed to publish and restores the policy
hashes of a Redis that lost its data."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="re-announce policy versions (read-your-writes watchdog)",
        defaults={"task": "core.tasks.realtime_reconcile_policy", "interval": every,
                  "queue": "realtime", "enabled": True},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_policy_versions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
