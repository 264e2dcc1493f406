"""Celery tasks of the jurisdiction gate (one line each around a service)."""

from celery import shared_task

from compliance import decision_log


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=25, time_limit=30)
def realtime_drain_access_decisions() -> int:
    return decision_log.drain(max_seconds=5.0)
