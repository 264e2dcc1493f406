"""Celery tasks of oversight (a line or two each around a service): reports, monitors,
nightly checks and alert notifications."""

from datetime import date

from celery import shared_task
from django.db import DatabaseError

from core import clock
from core.redis_client import REDIS_ERRORS
from oversight import notifications, reports
from oversight.monitors import access, custody, pretrade

# --- Monitors, alerts and reports --------------------------------------------------------
# Every task here is safe to run twice: reports are ensured (never a second version from a
# retry), alerts are de-duplicated by key and window, deliveries are unique per channel
# and leased. Transient failures (database busy, broker or channel down) retry with
# exponential backoff; time limits stop a stuck task from holding its worker. A task with
# its own time_limit also names its soft_time_limit: the settings' default soft limit (540 s)
# above a shorter hard limit makes Celery refuse to enqueue the task at all.

TRANSIENT = (DatabaseError, *REDIS_ERRORS, OSError)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=1500,
    time_limit=1800,
)
def report_ensure_daily(period: str | None = None) -> int:
    """Yesterday's daily report (or ``period``'s) if it does not exist yet."""
    day = date.fromisoformat(period) if period else None
    return reports.ensure_report(kind="daily", period=day, now=clock.now()).pk


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=50,
    time_limit=60,
)
def run_access_monitors() -> int:
    return access.run_access_monitors(now=clock.now())


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=3000,
    time_limit=3600,
)
def run_nightly_checks() -> dict[str, bool]:
    outcomes = access.run_nightly_checks(now=clock.now())
    return {name: outcome.ok for name, outcome in outcomes.items()}


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=25,
    time_limit=30,
)
def notify_alert(alert_id: int) -> None:
    for delivery_id in notifications.dispatch(alert_id=alert_id, now=clock.now()):
        deliver_alert_notification.delay(delivery_id)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(notifications.DeliveryFailed, *TRANSIENT),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=10,
    soft_time_limit=50,
    time_limit=60,
)
def deliver_alert_notification(delivery_id: int) -> str:
    return notifications.deliver(delivery_id=delivery_id, now=clock.now()).status


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=50, time_limit=60)
def sweep_alert_notifications() -> int:
    stalled = notifications.sweep(now=clock.now())
    for delivery_id in stalled:
        deliver_alert_notification.delay(delivery_id)
    return len(stalled)


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100)
def monitor_pretrade() -> int:
    now = clock.now()
    return pretrade.watch_rejects(now=now) + pretrade.watch_positions(now=now)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=50,
    time_limit=60,
)
def monitor_held_withdrawals() -> int:
    return custody.run_held_withdrawal_monitor(now=clock.now())
