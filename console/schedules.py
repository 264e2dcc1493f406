"""Changes to the Celery beat schedule (django-celery-beat ``PeriodicTask`` rows).

DESIGN.md, "Workers and schedules": the schedule lives in the database so officers can see
and change it; a change is maker-checker like any other (``console.actions``). A task
runs on an interval *or* a crontab, never both; saving the row tells beat to reload
(django-celery-beat's ``PeriodicTasks.changed`` signal).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core import audit
from core.errors import NotFound, ValidationFailed

INTERVAL_PERIODS = ("days", "hours", "minutes", "seconds")
CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def schedule_of(task: PeriodicTask) -> dict[str, Any]:
    """The schedule as plain data: what the audit chain and the proposal show."""
    found: dict[str, Any] = {"enabled": task.enabled}
    if task.interval_id:
        found["interval"] = {"every": task.interval.every, "period": task.interval.period}
    elif task.crontab_id:
        found["crontab"] = {name: getattr(task.crontab, name) for name in CRONTAB_FIELDS}
    else:
        found["other"] = str(task.solar or task.clocked or "")
    return found


def describe_schedule(schedule: Mapping[str, Any]) -> str:
    if schedule.get("interval"):
        interval = schedule["interval"]
        text = f"every {interval['every']} {interval['period']}"
    elif schedule.get("crontab"):
        crontab = schedule["crontab"]
        text = "cron " + " ".join(str(crontab[name]) for name in CRONTAB_FIELDS)
    else:
        text = schedule.get("other") or "unscheduled"
    return text + ("" if schedule.get("enabled", True) else " (disabled)")


def _check(change: Mapping[str, Any]) -> None:
    interval, crontab = change.get("interval"), change.get("crontab")
    if bool(interval) == bool(crontab):
        raise ValidationFailed("a schedule is an interval or a crontab, exactly one")
    if interval:
        every = interval.get("every")
        if not isinstance(every, int) or every < 1:
            raise ValidationFailed("interval: every must be a positive whole number")
        if interval.get("period") not in INTERVAL_PERIODS:
            raise ValidationFailed(f"interval: period must be one of {INTERVAL_PERIODS}")
    if crontab:
        missing = [name for name in CRONTAB_FIELDS if not str(crontab.get(name, "")).strip()]
        if missing:
            raise ValidationFailed(f"crontab: {', '.join(missing)} required")


def change_schedule(*, task_id: int, change: Mapping[str, Any], actor: str) -> PeriodicTask:
    """Apply ``{"enabled", "interval": {...}}`` or ``{"enabled", "crontab": {...}}``."""
    _check(change)
    with transaction.atomic():
        task = PeriodicTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise NotFound(f"no scheduled task {task_id}")
        before = schedule_of(task)
        if change.get("interval"):
            interval = change["interval"]
            task.interval, _ = IntervalSchedule.objects.get_or_create(
                every=interval["every"], period=interval["period"]
            )
            task.crontab = None
        else:
            fields = {name: str(change["crontab"][name]).strip() for name in CRONTAB_FIELDS}
            task.crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone="UTC")
            task.interval = None
        task.solar = task.clocked = None
        task.enabled = bool(change.get("enabled", True))
        task.save()
        audit.record(
            actor=actor,
            action="schedule.change",
            object_type="periodic_task",
            object_id=task.name,
            before=before,
            after=schedule_of(task),
        )
    return task
