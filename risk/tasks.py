"""Celery tasks of the markets part (one line each around a service). ``realtime_`` names
are routed to the realtime queue (settings/celery.py)."""

from celery import shared_task

from risk import sweeper


@shared_task(acks_late=True, ignore_result=True, time_limit=30, soft_time_limit=25, expires=10)
def realtime_sweep_markets() -> int:
    return sweeper.sweep().events_written
