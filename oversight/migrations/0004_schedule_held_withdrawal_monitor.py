"""Schedule the held-withdrawal monitor every minute (django-celery-beat, where officers see
and change it): a withdrawal held for review longer than ``HELD_WITHDRAWAL_ALERT_MINUTES``
raises an alert. Expires after 50 s like the other every-minute monitors."""

from django.db import migrations

NAME = "held withdrawals monitor"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": "oversight.tasks.monitor_held_withdrawals",
            "interval": every_minute,
            "queue": "default",
            "expire_seconds": 50,
            "enabled": True,
            "description": (
                "Withdrawals held for review longer than HELD_WITHDRAWAL_ALERT_MINUTES; "
                "one alert per withdrawal."
            ),
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0003_relabel_content_types"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
