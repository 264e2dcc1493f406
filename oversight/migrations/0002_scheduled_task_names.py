"""The scheduled tasks of reports, monitors and alert notifications now live in
``oversight.tasks``: the beat schedule's rows follow them (same schedules, same queues)."""

from django.db import migrations

RENAMED = {
    "compliance.tasks.report_ensure_daily": "oversight.tasks.report_ensure_daily",
    "compliance.tasks.run_access_monitors": "oversight.tasks.run_access_monitors",
    "compliance.tasks.run_nightly_checks": "oversight.tasks.run_nightly_checks",
    "compliance.tasks.sweep_alert_notifications": "oversight.tasks.sweep_alert_notifications",
    "risk.tasks.monitor_pretrade": "oversight.tasks.monitor_pretrade",
}


def rename(apps, schema_editor, names=RENAMED):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in names.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0001_initial"),
        ("compliance", "0005_schedule_monitors_alerts_reports"),
        ("risk", "0006_schedule_risk_monitors"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
