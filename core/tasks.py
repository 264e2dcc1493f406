"""Celery tasks of the common infrastructure (thin wrappers around services)."""

from celery import shared_task

from core import audit


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def checkpoint_audit_chain() -> int | None:
    checkpoint = audit.checkpoint()
    return checkpoint.seq if checkpoint else None
