"""Starting long work from the console and watching it: a job's page and the small status
fragment the pages poll (``console.jobs``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console import jobs
from console.models import BackgroundJob
from console.roles import officer_required
from core.errors import GatehouseError, NotFound


@require_POST
@officer_required()
def start(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        registered = jobs.kind_of(kind)
    except NotFound:
        raise Http404(f"no kind of job {kind}") from None
    if not jobs.may_start(request.user, kind):
        raise PermissionDenied(f"{registered.label} needs one of {sorted(registered.roles)}")
    form = registered.form(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
            for name, errors in form.errors.items()
        )
        messages.error(request, f"{registered.label} was not started. {problems}")
    else:
        try:
            job = jobs.start(kind=kind, params=form.cleaned_data, officer=request.user)
        except GatehouseError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{registered.label} started (job {job.pk}).")
    return redirect(reverse(registered.page) + "#jobs")


def _job(job_id: int) -> BackgroundJob:
    job = BackgroundJob.objects.filter(pk=job_id).first()
    if job is None:
        raise Http404(f"no job {job_id}")
    return job


def _context(job: BackgroundJob) -> dict:
    return {"job": job, "label": jobs.kind_of(job.kind).label, "stale": jobs.is_stale(job)}


@require_GET
@officer_required()
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    return render(request, "console/job.html", _context(job))


@require_GET
@officer_required()
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The fragment alone (htmx swaps it for itself): it carries its own polling trigger
    while the job is under way and none once it is done or failed."""
    return render(request, "console/_job_status.html", _context(_job(job_id)))
