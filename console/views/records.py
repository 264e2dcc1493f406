"""The audit log and the beat schedule."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from console import change_kinds, maker_checker, selectors
from console.actions import SCHEDULE_CHANGE
from console.forms import AuditFilterForm, ScheduleChangeForm
from console.paging import page_of
from console.roles import officer_required, roles_of
from console.schedules import CRONTAB_FIELDS, describe_schedule, schedule_of
from core.errors import GatehouseError
from core.models import AuditEntry


@require_GET
@officer_required()
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    fresh = request.GET.get("verify") == "1"
    return render(
        request,
        "console/audit.html",
        {
            "form": form,
            "page": page_of(selectors.audit_entries(**filters), request.GET),
            "chain": selectors.audit_chain_status(fresh=fresh),
        },
    )


@require_GET
@officer_required()
def audit_entry(request: HttpRequest, seq: int) -> HttpResponse:
    entry = AuditEntry.objects.filter(seq=seq).first()
    if entry is None:
        raise Http404(f"no audit entry {seq}")
    return render(request, "console/audit_entry.html", {"entry": entry})


@require_GET
@officer_required()
def schedules(request: HttpRequest) -> HttpResponse:
    tasks = list(selectors.scheduled_tasks())
    pending = {p.target: p for p in selectors.proposals_for("schedule:").filter(status="proposed")}
    return render(
        request,
        "console/schedules.html",
        {
            "tasks": [
                {
                    "task": task,
                    "schedule": describe_schedule(schedule_of(task)),
                    "pending": pending.get(f"schedule:{task.name}"),
                }
                for task in tasks
            ],
            "may_propose": bool(
                roles_of(request.user) & change_kinds.action(SCHEDULE_CHANGE).roles
            ),
        },
    )


def _initial(task) -> dict:
    schedule = schedule_of(task)
    initial = {"enabled": task.enabled}
    if "interval" in schedule:
        initial |= {"kind": "interval", **schedule["interval"]}
    elif "crontab" in schedule:
        initial |= {"kind": "crontab", **schedule["crontab"]}
    return initial


@require_http_methods(["GET", "POST"])
@officer_required()
def propose_schedule(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.scheduled_task(task_id)
    if task is None:
        raise Http404(f"no scheduled task {task_id}")
    registered = change_kinds.action(SCHEDULE_CHANGE)
    if not roles_of(request.user) & registered.roles:
        raise PermissionDenied("Changing a schedule needs an administrator or a risk officer.")
    form = ScheduleChangeForm(request.POST or None, initial=_initial(task))
    if request.method == "POST" and form.is_valid():
        try:
            proposal = maker_checker.propose(
                kind=SCHEDULE_CHANGE,
                payload={"task_id": task.pk, "task": task.name, "change": form.change()},
                reason=form.cleaned_data["reason"],
                maker=request.user,
            )
        except GatehouseError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Schedule change proposed; another officer must approve it.")
            return redirect("console:proposal", proposal_id=proposal.pk)
    return render(
        request,
        "console/schedule_propose.html",
        {
            "form": form,
            "task": task,
            "current": describe_schedule(schedule_of(task)),
            "crontab_fields": CRONTAB_FIELDS,
        },
    )
