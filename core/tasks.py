"""Celery tasks of the common infrastructure (thin wrappers around services)."""

from celery import shared_task

from core import audit, policy


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def checkpoint_audit_chain() -> int | None:
    checkpoint = audit.checkpoint()
    return checkpoint.seq if checkpoint else None


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100, expires=10)
def realtime_reconcile_policy() -> bool:
    return policy.reconcile()
