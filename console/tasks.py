"""Celery tasks of the console: the long work officers start (``console.jobs``), one line
each. Reports and proofs of reserves run on the ``reports`` queue (``report_*``), a
re-screen on ``default``. A run is recorded on its job whatever happens, so nothing here
retries: the officer sees the failure and starts it again."""

from celery import shared_task

from console import jobs


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3600)
def run_job(job_id: int) -> str | None:
    job = jobs.run(job_id)
    return None if job is None else job.status


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3600)
def report_run_job(job_id: int) -> str | None:
    job = jobs.run(job_id)
    return None if job is None else job.status
