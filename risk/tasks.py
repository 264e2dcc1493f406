"""Celery tasks of the markets part (one line each around a service). ``realtime_`` names
are routed to the realtime queue (settings/celery.py)."""

from celery import shared_task

from core import clock
from risk.markets import sweeper
from risk.positions import orders, resync
from risk.pretrade import decisions


@shared_task(acks_late=True, ignore_result=True, time_limit=30, soft_time_limit=25, expires=10)
def realtime_sweep_markets() -> int:
    return sweeper.sweep().events_written


@shared_task(acks_late=True, ignore_result=True, time_limit=60, soft_time_limit=50)
def realtime_drain_pretrade_decisions() -> int:
    return decisions.drain(max_seconds=5.0)


@shared_task(acks_late=True, ignore_result=True, time_limit=60, soft_time_limit=50, expires=10)
def realtime_expire_orders() -> int:
    return orders.expire_lapsed(now=clock.now())


@shared_task(acks_late=True, ignore_result=True, time_limit=600, soft_time_limit=540)
def realtime_ensure_risk_state_synced() -> str:
    summary = resync.ensure_synced(now=clock.now())
    return "synced" if summary is None else str(summary)
