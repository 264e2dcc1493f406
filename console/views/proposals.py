"""The maker-checker queue: list, detail, approve, reject, review, and a generic proposal
form for every registered kind that declares one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import change_kinds, maker_checker, selectors
from console.forms import DecisionNoteForm, ProposalFilterForm, RequiredNoteForm
from console.models import Proposal
from console.paging import page_of
from console.roles import officer_actor, officer_required, roles_of
from core.errors import GatehouseError, NotFound


@require_GET
@officer_required()
def proposals(request: HttpRequest) -> HttpResponse:
    form = ProposalFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return render(
        request,
        "console/proposals.html",
        {
            "form": form,
            "awaiting": list(selectors.awaiting_decision()),
            "page": page_of(selectors.proposals(**filters), request.GET),
            "proposable": [
                a
                for a in change_kinds.actions()
                if a.form is not None and roles_of(request.user) & a.roles
            ],
        },
    )


@require_GET
@officer_required()
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404(f"no proposal {proposal_id}")
    try:
        registered = change_kinds.action(proposal.kind)
    except NotFound:
        registered = None
    me = officer_actor(request.user)
    entitled = registered is not None and bool(roles_of(request.user) & registered.roles)
    panel = None
    if registered is not None and registered.panel is not None:
        panel = registered.panel(proposal.payload, request.user, request.path)
    return render(
        request,
        "console/proposal_detail.html",
        {
            "proposal": proposal,
            "action": registered,
            "summary": registered.summary(proposal.payload) if registered else proposal.kind,
            "panel": panel,
            "own": proposal.maker == me,
            "may_decide": entitled and proposal.status == "proposed" and proposal.maker != me,
            "may_withdraw": proposal.status == "proposed" and proposal.maker == me,
            "may_review": entitled
            and proposal.emergency
            and not proposal.checker
            and proposal.maker != me,
            "history": list(
                selectors.audit_entries(object_type="proposal", object_id=str(proposal.pk))
            ),
            "note_form": DecisionNoteForm(),
            "reject_form": RequiredNoteForm(),
        },
    )


def _decide(request: HttpRequest, proposal_id: int, step) -> HttpResponse:
    try:
        outcome = step()
    except GatehouseError as error:
        messages.error(request, error.message)
    else:
        if outcome.status == "failed":
            messages.error(request, f"Approved, but it failed: {outcome.result.get('message')}")
        else:
            messages.success(request, f"Proposal {outcome.pk} is now {outcome.status}.")
    return redirect("console:proposal", proposal_id=proposal_id)


@require_POST
@officer_required()
def approve(request: HttpRequest, proposal_id: int) -> HttpResponse:
    form = DecisionNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _decide(
        request,
        proposal_id,
        lambda: maker_checker.approve(proposal_id=proposal_id, checker=request.user, note=note),
    )


@require_POST
@officer_required()
def reject(request: HttpRequest, proposal_id: int) -> HttpResponse:
    form = RequiredNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _decide(
        request,
        proposal_id,
        lambda: maker_checker.reject(proposal_id=proposal_id, checker=request.user, note=note),
    )


@require_POST
@officer_required()
def review(request: HttpRequest, proposal_id: int) -> HttpResponse:
    form = RequiredNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _decide(
        request,
        proposal_id,
        lambda: maker_checker.review(proposal_id=proposal_id, reviewer=request.user, note=note),
    )


@require_http_methods(["GET", "POST"])
@officer_required()
def propose(request: HttpRequest, kind: str) -> HttpResponse:
    """Propose any registered kind that declares a form; the form's cleaned data (plus
    ``reason`` and ``emergency``) becomes the payload."""
    try:
        registered = change_kinds.action(kind)
    except NotFound:
        raise Http404(f"no action {kind}") from None
    if registered.form is None:
        raise Http404(f"{kind} has no form of its own")
    if not roles_of(request.user) & registered.roles:
        raise PermissionDenied(f"{registered.label} needs one of {sorted(registered.roles)}")
    form = registered.form(request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        payload = {k: v for k, v in form.cleaned_data.items() if k not in {"reason", "emergency"}}
        try:
            proposal = maker_checker.propose(
                kind=kind,
                payload=payload,
                reason=form.cleaned_data.get("reason", ""),
                maker=request.user,
                emergency=bool(form.cleaned_data.get("emergency")),
            )
        except GatehouseError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Proposed: {proposal.target} ({proposal.status}).")
            return redirect("console:proposal", proposal_id=proposal.pk)
    return render(request, "console/propose.html", {"form": form, "action": registered})
