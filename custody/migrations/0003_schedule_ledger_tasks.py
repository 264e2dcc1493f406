"""Schedule the ledger's periodic work (django-celery-beat, so officers see and change it):
the pending-transfer expiry sweep every 5 seconds (realtime), a signed checkpoint of the
chain head every minute, and the proof-of-reserves publication daily at 00:10 UTC (reports)."""

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_seconds, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="10",
        hour="0",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    for name, task, queue, when in [
        (
            "expire lapsed pending transfers",
            "custody.tasks.realtime_expire_pending_transfers",
            "realtime",
            {"interval": every_5_seconds},
        ),
        (
            "sign a ledger checkpoint",
            "custody.tasks.checkpoint_ledger",
            "default",
            {"interval": every_minute},
        ),
        (
            "publish proof of reserves",
            "custody.tasks.report_publish_proof_of_reserves",
            "reports",
            {"crontab": daily},
        ),
    ]:
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "queue": queue, "expires": None, "enabled": True, **when},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("custody", "0002_seed_assets_and_venue_accounts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
