"""Every scheduled task exists and Celery would accept it (issue 12: beat logged
"soft_time_limit must be less than or equal to time_limit" for the ledger's expiry and
checkpoint tasks on every tick, so they never ran)."""

import pytest
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from settings.celery import app

pytestmark = pytest.mark.django_db


def test_every_scheduled_task_is_registered_and_its_time_limits_are_consistent():
    app.loader.import_default_modules()
    rows = list(PeriodicTask.objects.exclude(task="celery.backend_cleanup"))
    assert len(rows) >= 10
    for row in rows:
        assert row.task in app.tasks, f"{row.name}: no task {row.task}"
        task = app.tasks[row.task]
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft <= hard, f"{row.task}: soft limit {soft} s above the hard limit {hard} s"
