"""Celery tasks of the custody ledger, one line each around a service (the schedule is seeded
by migration 0003). ``realtime_*`` run on the realtime queue, ``report_*`` on reports."""

from celery import shared_task
from django.db import DatabaseError

from core import clock
from custody import checkpoints, publication, writer


# A task with its own time_limit names its soft_time_limit too: the settings' default soft
# limit (540 s) above a shorter hard limit makes Celery refuse to enqueue it at all.
@shared_task(acks_late=True, ignore_result=True, time_limit=30, soft_time_limit=25)
def realtime_expire_pending_transfers() -> int:
    return writer.expire_pending_transfers(now=clock.now())


@shared_task(acks_late=True, ignore_result=True, time_limit=60, soft_time_limit=50)
def checkpoint_ledger() -> int | None:
    checkpoint = checkpoints.checkpoint_ledger(now=clock.now())
    return None if checkpoint is None else checkpoint.seq


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=1500,
    time_limit=1800,
)
def report_publish_proof_of_reserves(asset: str | None = None) -> list[str]:
    published = publication.publish_all(assets=[asset] if asset else None, actor="system:schedule")
    return [item.publication_id for item in published]
