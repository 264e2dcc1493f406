"""Celery tasks of the jurisdiction gate (one line each around a service)."""

from celery import shared_task

from compliance import decision_log, rescreen
from compliance.impact import measure


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=25, time_limit=30)
def realtime_drain_access_decisions() -> int:
    return decision_log.drain(max_seconds=5.0)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def rescreen_accounts(version_id: int) -> int:
    """Re-screen every account against a new list version (``default`` queue), about a
    minute at a time: an unfinished run queues its own continuation from the saved cursor."""
    screened, finished = rescreen.rescreen(version_id, max_seconds=60.0)
    if not finished:
        rescreen_accounts.delay(version_id)
    return screened


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def measure_rule_impact(impact_id: int) -> int:
    """Replay the decision logs through a rule draft (``default`` queue), about a minute at
    a time: an unfinished run queues its own continuation from the saved cursor."""
    replayed, finished = measure.measure(impact_id, max_seconds=60.0)
    if not finished:
        measure_rule_impact.delay(impact_id)
    return replayed
