"""The alerts page: incidents (the alerts of one kind and cause that arrived together,
``oversight.incidents``) to filter by severity, status, kind and instrument, acknowledge
several at once, assign and resolve; and each incident's page with its alerts, which can
still be acted on one by one.

Compliance and risk officers act (the monitors raise both kinds); auditors and
administrators read. Every step is an ``oversight.alerts`` / ``oversight.triage`` service,
which keeps each alert's history and its audit entry under the officer's name.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.compliance import selectors
from console.compliance.forms import (
    AlertAssignForm,
    AlertFilterForm,
    AlertResolveForm,
    BulkAcknowledgeForm,
)
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
from oversight import triage
from oversight.models import ALERT_SEVERITIES, ALERT_STATUSES

ALERT_HANDLERS = (COMPLIANCE_OFFICER, RISK_OFFICER)


def _may_act(request: HttpRequest) -> bool:
    return bool(roles_of(request.user) & set(ALERT_HANDLERS))


@require_GET
@officer_required()
def alerts(request: HttpRequest) -> HttpResponse:
    counts, kinds = selectors.incident_summary()
    form = AlertFilterForm(request.GET or None, kinds=kinds)
    filters = form.cleaned_data if form.is_valid() else {}
    return render(
        request,
        "console/alerts.html",
        {
            "form": form,
            "page": page_of(selectors.incidents(**filters), request.GET),
            "summary": [
                {"status": status, "counts": [counts.get((status, s), 0) for s in ALERT_SEVERITIES]}
                for status in ALERT_STATUSES
            ],
            "severities": ALERT_SEVERITIES,
            "may_act": _may_act(request),
        },
    )


@require_GET
@officer_required()
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident(incident_id)
    if incident is None:
        raise Http404(f"no incident {incident_id}")
    return render(
        request,
        "console/incident.html",
        {
            "incident": incident,
            "page": page_of(selectors.incident_alerts(incident), request.GET),
            "history": selectors.incident_history(incident),
            "may_act": _may_act(request),
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    """Back where the officer was: an incident's page, or the list with the filters they
    had (only a relative query string)."""
    incident = request.POST.get("return_incident", "")
    if incident.isascii() and incident.isdigit() and len(incident) <= 18:
        return redirect("console:incident", incident_id=int(incident))
    query = request.POST.get("return_query", "")
    if query.startswith("?") and "//" not in query and "\\" not in query:
        return redirect(reverse("console:alerts") + query)
    return redirect("console:alerts")


def _act(request: HttpRequest, done, step) -> HttpResponse:
    """Run a service step; its refusal (a conflict, a missing incident) is the officer's
    message, never an error page."""
    try:
        outcome = step()
    except GatehouseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done(outcome))
    return _back(request)


# --- incidents ---------------------------------------------------------------------------


@require_POST
@officer_required(*ALERT_HANDLERS)
def acknowledge_incidents(request: HttpRequest) -> HttpResponse:
    form = BulkAcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the incidents to acknowledge.")
        return _back(request)

    def done(outcome: triage.BulkOutcome) -> str:
        text = (
            f"Acknowledged {len(outcome.acknowledged)} incident(s), "
            f"{outcome.alerts} alert(s), as {officer_actor(request.user)}."
        )
        if outcome.skipped:
            skipped = ", ".join(str(incident.pk) for incident in outcome.skipped)
            text += f" Nothing left to acknowledge in {skipped}."
        return text

    return _act(
        request,
        done,
        lambda: triage.acknowledge_incidents(
            incident_ids=form.cleaned_data["incident"],
            actor=officer_actor(request.user),
            note=form.cleaned_data["note"],
        ),
    )


def _officer(username: str) -> bool:
    return (
        get_user_model()
        .objects.filter(username=username, is_active=True, groups__name__in=ROLES)
        .exists()
    )


def _assignee(request: HttpRequest) -> tuple[str | None, str]:
    """(``officer:<username>`` or "" to unassign, the username) or (None, why not)."""
    form = AlertAssignForm(request.POST)
    if not form.is_valid():
        return None, "Give an officer's username (or nothing, to unassign)."
    username = form.cleaned_data["assignee"].strip()
    if username and not _officer(username):
        return None, f"No active officer is named {username!r}."
    return (f"officer:{username}" if username else ""), username


def _assigned(username: str) -> str:
    return f"assigned to {username}." if username else "unassigned."


@require_POST
@officer_required(*ALERT_HANDLERS)
def assign_incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    assignee, username = _assignee(request)
    if assignee is None:
        messages.error(request, username)
        return _back(request)
    return _act(
        request,
        lambda incident: f"Incident {incident.pk} {_assigned(username)}",
        lambda: triage.assign_incident(
            incident_id=incident_id, assignee=assignee, actor=officer_actor(request.user)
        ),
    )


@require_POST
@officer_required(*ALERT_HANDLERS)
def resolve_incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    form = AlertResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the incident is resolved.")
        return _back(request)
    return _act(
        request,
        lambda incident: f"Incident {incident.pk} resolved ({incident.alert_count} alert(s)).",
        lambda: triage.resolve_incident(
            incident_id=incident_id,
            actor=officer_actor(request.user),
            resolution=form.cleaned_data["resolution"],
        ),
    )


# --- one alert ---------------------------------------------------------------------------


@require_POST
@officer_required(*ALERT_HANDLERS)
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        lambda alert: f"Alert {alert.pk} acknowledged.",
        lambda: alert_services.acknowledge_alert(
            alert_id=alert_id, actor=officer_actor(request.user), note=note
        ),
    )


@require_POST
@officer_required(*ALERT_HANDLERS)
def assign(request: HttpRequest, alert_id: int) -> HttpResponse:
    assignee, username = _assignee(request)
    if assignee is None:
        messages.error(request, username)
        return _back(request)
    return _act(
        request,
        lambda alert: f"Alert {alert.pk} {_assigned(username)}",
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
        lambda alert: f"Alert {alert.pk} resolved.",
        lambda: alert_services.resolve_alert(
            alert_id=alert_id,
            actor=officer_actor(request.user),
            resolution=form.cleaned_data["resolution"],
        ),
    )
