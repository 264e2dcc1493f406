"""Long work an officer starts from the console — a regulatory report, a proof-of-reserves
publication, a sanctions re-screen — run by a Celery worker while the page shows its
progress and result without a reload (issue 18).

``start`` records the request (a ``BackgroundJob`` row and an audit entry under the
officer's name, in one transaction) and queues the task after the commit; a broker that
cannot take it fails the job at once, saying so, rather than leaving it queued in silence.
``run`` (the task) claims the job, runs its kind's work (``console.job_kinds``: the owning
part's service, which records what it does) and records the outcome, audited; progress is
written as it goes, with a heartbeat. The page polls a small status fragment (htmx,
``hx-trigger="every 2s"``; no script of its own, the CSP forbids it) until the job is done
or failed, when the fragment comes back without the trigger and polling stops.

A worker killed mid-job leaves the job ``running`` with a stale heartbeat: the task's
redelivery (``acks_late``) may then take it over, carrying on from its ``cursor`` where
its kind keeps one, and the job no longer blocks a new one of its kind. One job of a kind
runs at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django import forms
from django.db import transaction
from django.db.models import Q

from console.models import BackgroundJob
from console.roles import officer_actor, roles_of
from core import audit, clock, locks
from core.errors import Conflict, GatehouseError, NotFound

logger = logging.getLogger("gatehouse.console.jobs")

STALE_AFTER = timedelta(minutes=10)
"""A running job with no progress for this long has lost its worker."""
LIVE = ("queued", "running")


class Progress:
    """What a job's work tells the page as it goes: ``progress(done, total, stage)``, and
    where a resumed run carries on (``cursor``)."""

    def __init__(self, job: BackgroundJob) -> None:
        self.job = job

    def __call__(self, done: int, total: int | None, stage: str, *, cursor: str = "") -> None:
        fields = {
            "progress_done": max(0, done),
            "progress_total": total,
            "stage": stage[:200],
            "heartbeat_at": clock.now(),
        }
        if cursor:
            fields["cursor"] = cursor[:200]
        BackgroundJob.objects.filter(pk=self.job.pk, status="running").update(**fields)
        for name, value in fields.items():
            setattr(self.job, name, value)


@dataclass(frozen=True)
class JobKind:
    kind: str
    label: str
    roles: frozenset[str]
    form: type[forms.Form]
    run: Callable[[BackgroundJob, Progress], Mapping[str, Any]]
    page: str
    """The console page (URL name) that starts it and shows its runs."""
    queue: str = "default"


_kinds: dict[str, JobKind] = {}


def register(job_kind: JobKind) -> JobKind:
    if job_kind.kind in _kinds:
        raise ValueError(f"job kind {job_kind.kind!r} is already registered")
    _kinds[job_kind.kind] = job_kind
    return job_kind


def kind_of(kind: str) -> JobKind:
    try:
        return _kinds[kind]
    except KeyError:
        raise NotFound(f"no kind of job {kind!r}") from None


def may_start(user, kind: str) -> bool:
    return bool(roles_of(user) & kind_of(kind).roles)


def _blocking(kind: str):
    """A job of this kind still under way (neither finished nor lost)."""
    fresh = clock.now() - STALE_AFTER
    return (
        BackgroundJob.objects.filter(kind=kind, status__in=LIVE)
        .filter(Q(heartbeat_at__gte=fresh) | Q(heartbeat_at__isnull=True, created_at__gte=fresh))
        .first()
    )


def start(*, kind: str, params: Mapping[str, Any], officer) -> BackgroundJob:
    """Record and queue a job; its parameters are the kind's form's cleaned data."""
    registered = kind_of(kind)
    if not roles_of(officer) & registered.roles:
        raise GatehouseError(
            f"{registered.label} needs one of the roles {', '.join(sorted(registered.roles))}",
            code="PERMISSION_DENIED",
            status=403,
        )
    actor = officer_actor(officer)
    with transaction.atomic():
        locks.serialise(f"console-job:{kind}")
        running = _blocking(kind)
        if running is not None:
            raise Conflict(f"{registered.label} is already under way (job {running.pk})")
        job = BackgroundJob.objects.create(
            kind=kind, params=dict(params), started_by=actor, created_at=clock.now()
        )
        audit.record(
            actor=actor,
            action="job.start",
            object_type="background_job",
            object_id=str(job.pk),
            after={"kind": kind, "params": job.params},
        )
        transaction.on_commit(lambda: _enqueue(job.pk, registered))
    return job


TASKS = {"default": "console.tasks.run_job", "reports": "console.tasks.report_run_job"}
"""The task that runs a job, by queue (named: ``console.tasks`` imports this module)."""


def _enqueue(job_id: int, registered: JobKind) -> None:
    try:
        current_app.send_task(TASKS[registered.queue], args=[job_id])
    except Exception as error:  # the broker is down: say so now, not never
        logger.warning("job %s could not be queued: %s", job_id, error)
        _finish(job_id, status="failed", error=f"could not be queued: {error}", result={})


def _finish(job_id: int, *, status: str, error: str, result: Mapping[str, Any]) -> BackgroundJob:
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().get(pk=job_id)
        job.status, job.error, job.result = status, error[:5000], dict(result)
        job.finished_at = job.heartbeat_at = clock.now()
        if status == "done" and job.progress_total:
            job.progress_done = job.progress_total
        job.save()
        audit.record(
            actor=f"system:job:{job.pk}",
            action="job.done" if status == "done" else "job.fail",
            object_type="background_job",
            object_id=str(job.pk),
            after={"kind": job.kind, "started_by": job.started_by, "result": job.result}
            | ({"error": job.error} if error else {}),
        )
    return job


def _claim(job_id: int) -> bool:
    now = clock.now()
    return bool(
        BackgroundJob.objects.filter(pk=job_id)
        .filter(Q(status="queued") | Q(status="running", heartbeat_at__lt=now - STALE_AFTER))
        .update(status="running", started_at=now, heartbeat_at=now)
    )


def run(job_id: int) -> BackgroundJob | None:
    """Carry a job out (the Celery task). A job another worker holds, or one already
    finished, is left alone: running a task twice does the work once."""
    if not _claim(job_id):
        return BackgroundJob.objects.filter(pk=job_id).first()
    job = BackgroundJob.objects.get(pk=job_id)
    try:
        result = kind_of(job.kind).run(job, Progress(job))
    except GatehouseError as refused:
        return _finish(job_id, status="failed", error=refused.message, result={})
    except Exception as error:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        return _finish(job_id, status="failed", error=f"{type(error).__name__}: {error}", result={})
    return _finish(job_id, status="done", error="", result=result)


def recent(kind: str, limit: int = 5) -> list[BackgroundJob]:
    return list(BackgroundJob.objects.filter(kind=kind).order_by("-created_at", "-id")[:limit])


def is_stale(job: BackgroundJob) -> bool:
    """Under way, but nothing heard from its worker for ``STALE_AFTER``."""
    if job.finished:
        return False
    last = job.heartbeat_at or job.created_at
    return clock.now() - last > STALE_AFTER


def panel(user, kind: str) -> dict:
    """What a page that starts ``kind`` shows (``_jobs_panel.html``): the start form, for
    those who may, and the latest runs, each a status fragment that polls while under way."""
    registered = kind_of(kind)
    return {
        "kind": kind,
        "label": registered.label,
        "form": registered.form() if may_start(user, kind) else None,
        "jobs": [{"job": job, "stale": is_stale(job)} for job in recent(kind)],
    }
