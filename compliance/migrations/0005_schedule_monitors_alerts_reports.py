"""Schedule the monitors, the alert-notification sweep, the nightly integrity checks and the
daily-report catch-up in the database (django-celery-beat), where officers can see and change
them. Every-minute tasks expire after 50 s, so a worker that was down does not come back to a
pile of stale runs."""

from django.db import migrations

EVERY_MINUTE = [
    (
        "daily report: generate yesterday's if missing",
        "compliance.tasks.report_ensure_daily",
        "reports",
        "Generates the previous UTC day's daily report once it has ended (plus 5 minutes for "
        "the decision drain); does nothing when any version exists.",
    ),
    (
        "access monitors",
        "compliance.tasks.run_access_monitors",
        "default",
        "Repeat denials, one account from many countries, anonymizer use; raises alerts.",
    ),
    (
        "alert notifications: sweep",
        "compliance.tasks.sweep_alert_notifications",
        "default",
        "Tells the channels about alerts whose notification task was lost.",
    ),
]
NIGHTLY = (
    "nightly integrity checks",
    "compliance.tasks.run_nightly_checks",
    "default",
    "verify_audit and every registered check (ledger); a failure raises a critical alert.",
)


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for name, task, queue, description in EVERY_MINUTE:
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every_minute,
                "queue": queue,
                "expire_seconds": 50,
                "enabled": True,
                "description": description,
            },
        )
    at_two, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    name, task, queue, description = NIGHTLY
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": task,
            "crontab": at_two,
            "queue": queue,
            "enabled": True,
            "description": description,
        },
    )


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = [entry[0] for entry in EVERY_MINUTE] + [NIGHTLY[0]]
    PeriodicTask.objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0004_alerts_and_reports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
