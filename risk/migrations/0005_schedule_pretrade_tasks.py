"""Schedule the pre-trade decision drain (every second) and the risk-state watchdog that
resynchronises Redis after it lost data (every 5 seconds), both on the realtime queue."""

from django.db import migrations

TASKS = [
    ("drain pre-trade decisions into the database",
     "risk.tasks.realtime_drain_pretrade_decisions", 1),
    ("resynchronise risk state when Redis lost it",
     "risk.tasks.realtime_ensure_risk_state_synced", 5),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in TASKS:
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "interval": every, "queue": "realtime", "enabled": True},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0004_pretrade"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
