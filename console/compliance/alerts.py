"""The alerts page: list and filter, acknowledge, assign to an officer, resolve with a note.

Compliance and risk officers act on alerts (the monitors raise both kinds); auditors and
administrators read. Every step is a ``oversight.alerts`` service, which keeps the alert's
history and its audit entry.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.compliance import selectors
from console.compliance.forms import AlertAssignForm, AlertFilterForm, AlertResolveForm
from console.forms import DecisionNoteForm
from console.paging import page_of
from console.roles import (
    COMPLIANCE_OFFICER,
    RISK_OFFICER,
    ROLES,
    officer_actor,
    officer_required,
    roles_of,
)
from core.errors import GatehouseError
from oversight import alerts as alert_services
from oversight.models import ALERT_SEVERITIES, ALERT_STATUSES

ALERT_HANDLERS = (COMPLIANCE_OFFICER, RISK_OFFICER)


@require_GET
@officer_required()
def alerts(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    counts = selectors.alert_counts()
    return render(
        request,
        "console/alerts.html",
        {
            "form": form,
            "page": page_of(selectors.alerts(**filters), request.GET),
            "summary": [
                {"status": status, "counts": [counts.get((status, s), 0) for s in ALERT_SEVERITIES]}
                for status in ALERT_STATUSES
            ],
            "severities": ALERT_SEVERITIES,
            "may_act": bool(roles_of(request.user) & set(ALERT_HANDLERS)),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the list with the filters the officer had (only a relative query string)."""
    query = request.POST.get("return_query", "")
    if query.startswith("?") and "//" not in query and "\\" not in query:
        return redirect(reverse("console:alerts") + query)
    return redirect("console:alerts")


def _act(request: HttpRequest, done: str, step) -> HttpResponse:
    try:
        alert = step()
    except GatehouseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Alert {alert.pk} {done}.")
    return _back(request)


@require_POST
@officer_required(*ALERT_HANDLERS)
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        "acknowledged",
        lambda: alert_services.acknowledge_alert(
            alert_id=alert_id, actor=officer_actor(request.user), note=note
        ),
    )


def _officer(username: str) -> bool:
    return (
        get_user_model()
        .objects.filter(username=username, is_active=True, groups__name__in=ROLES)
        .exists()
    )


@require_POST
@officer_required(*ALERT_HANDLERS)
def assign(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = AlertAssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give an officer's username (or nothing, to unassign).")
        return _back(request)
    username = form.cleaned_data["assignee"].strip()
    if username and not _officer(username):
        messages.error(request, f"No active officer is named {username!r}.")
        return _back(request)
    assignee = f"officer:{username}" if username else ""
    return _act(
        request,
        f"assigned to {username}" if username else "unassigned",
        lambda: alert_services.assign_alert(
            alert_id=alert_id, assignee=assignee, actor=officer_actor(request.user)
        ),
    )


@require_POST
@officer_required(*ALERT_HANDLERS)
def resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = AlertResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the alert is resolved.")
        return _back(request)
    return _act(
        request,
        "resolved",
        lambda: alert_services.resolve_alert(
            alert_id=alert_id,
            actor=officer_actor(request.user),
            resolution=form.cleaned_data["resolution"],
        ),
    )
