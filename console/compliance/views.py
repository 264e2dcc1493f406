"""The compliance officer's pages: rulebook, drafts and their approval, explain, access
decisions, accounts. Thin: parse, call a selector or a service, render."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance import services
from compliance.impact import measure
from compliance.signals import SCOPES
from console import charts, maker_checker
from console.compliance import selectors
from console.compliance.actions import RULE_CHANGE
from console.compliance.explain import ExplainUnavailable, explain
from console.compliance.forms import (
    DecisionFilterForm,
    ExplainForm,
    RuleChangeForm,
)
from console.forms import RequiredNoteForm
from console.paging import page_of
from console.roles import COMPLIANCE_OFFICER, officer_actor, officer_required, roles_of
from console.selectors import proposal_awaiting, proposals_for
from core import clock
from core.errors import GatehouseError


def _draft_proposals(drafts) -> dict[str, object]:
    targets = [f"rule:{d.rule_id}#r{d.revision}" for d in drafts]
    found = proposals_for("rule:").filter(kind=RULE_CHANGE, target__in=targets, status="proposed")
    return {proposal.target: proposal for proposal in found}


@require_GET
@officer_required()
def rules(request: HttpRequest) -> HttpResponse:
    drafts = list(selectors.drafts())
    linked = _draft_proposals(drafts)
    impacts = selectors.latest_impacts(drafts)
    rulebook = measure.latest_rulebook()
    me = officer_actor(request.user)
    return render(
        request,
        "console/rules.html",
        {
            "rules": list(selectors.active_rules()),
            "drafts": [
                {
                    "revision": d,
                    "proposal": linked.get(f"rule:{d.rule_id}#r{d.revision}"),
                    "own": d.created_by == me,
                    "impact": impacts.get(d.pk),
                    "stale": d.pk in impacts
                    and bool(
                        measure.staleness(
                            impacts[d.pk], digest=measure.draft_digest(d), rulebook=rulebook
                        )
                    ),
                }
                for d in drafts
            ],
            "summary": selectors.rulebook_summary(),
            "may_decide": COMPLIANCE_OFFICER in roles_of(request.user),
        },
    )


@require_GET
@officer_required()
def rule_detail(request: HttpRequest, rule_id: str) -> HttpResponse:
    history = list(selectors.rule_history(rule_id))
    if not history:
        raise Http404(f"no rule {rule_id}")
    return render(
        request,
        "console/rule_detail.html",
        {
            "rule_id": rule_id,
            "history": history,
            "active": next((r for r in history if r.status == "active"), None),
            "may_propose": COMPLIANCE_OFFICER in roles_of(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@officer_required(COMPLIANCE_OFFICER)
def propose_rule(request: HttpRequest) -> HttpResponse:
    initial = {"signals": list(SCOPES)}  # a new rule reaches every signal unless narrowed
    base = selectors.active_revision(request.GET.get("rule", ""))
    if base is not None:
        initial = RuleChangeForm.initial_from(base)
    form = RuleChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = maker_checker.propose(
                kind=RULE_CHANGE,
                payload=form.payload(),
                reason=form.cleaned_data["reason"],
                maker=request.user,
            )
        except GatehouseError as error:
            form.add_error(None, error.message)
            for messages_of_field in error.fields.values():
                for message in messages_of_field:
                    if message != error.message:
                        form.add_error(None, message)
        else:
            messages.success(
                request,
                f"Proposed: {proposal.target}. Another compliance officer must approve it.",
            )
            return redirect("console:proposal", proposal_id=proposal.pk)
    return render(request, "console/rule_propose.html", {"form": form, "base": base})


@require_POST
@officer_required(COMPLIANCE_OFFICER)
def confirm_seeded(request: HttpRequest, rule_id: str, revision: int) -> HttpResponse:
    """Confirm a rule the installer seeded in force (``compliance.services``)."""
    try:
        services.confirm_seeded_rule(
            rule_id=rule_id, revision=revision, actor=officer_actor(request.user)
        )
    except GatehouseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Rule {rule_id} revision {revision} is confirmed.")
    return redirect("console:rules")


@require_POST
@officer_required(COMPLIANCE_OFFICER)
def decide_draft(request: HttpRequest, rule_id: str, revision: int) -> HttpResponse:
    """Approve or reject a draft from the rules page. A draft proposed in the console is
    decided through its proposal; one drafted elsewhere (the API, a command) goes straight
    to ``compliance.services``, whose four-eyes check is the same."""
    draft = selectors.draft(rule_id, revision)
    if draft is None:
        raise Http404(f"no draft {rule_id} r{revision}")
    decision = request.POST.get("decision")
    note_form = RequiredNoteForm(request.POST)
    actor = officer_actor(request.user)
    proposal = proposal_awaiting(f"rule:{rule_id}#r{revision}")
    try:
        if decision == "approve":
            if proposal is not None:
                outcome = maker_checker.approve(
                    proposal_id=proposal.pk, checker=request.user, note=request.POST.get("note", "")
                )
                if outcome.status == "failed":
                    raise GatehouseError(outcome.result.get("message", "failed"))
            else:
                services.activate_rule(rule_id=rule_id, revision=revision, actor=actor)
            messages.success(request, f"Rule {rule_id} revision {revision} is now in force.")
        elif decision == "reject":
            if not note_form.is_valid():
                raise GatehouseError("Say why the draft is rejected.")
            note = note_form.cleaned_data["note"]
            if proposal is not None:
                maker_checker.reject(proposal_id=proposal.pk, checker=request.user, note=note)
            else:
                services.reject_rule(rule_id=rule_id, revision=revision, actor=actor, reason=note)
            messages.success(request, f"Rule {rule_id} revision {revision} was rejected.")
        else:
            raise GatehouseError("Choose approve or reject.")
    except GatehouseError as error:
        messages.error(request, error.message)
    return redirect("console:rules")


@require_GET
@officer_required()
def explain_view(request: HttpRequest) -> HttpResponse:
    form = ExplainForm(request.GET or None)
    explanation = error = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            explanation = explain(
                client_ip=data.get("client_ip") or "",
                account_id=(data.get("account_id") or "").strip(),
                product_class=data["product_class"],
                action=data["action"],
                at=data.get("at") or clock.now(),
            )
        except ExplainUnavailable as unavailable:
            error = f"The gate cannot decide right now ({unavailable}); it would fail closed."
        except GatehouseError as invalid:
            form.add_error(None, invalid.message)
    return render(
        request,
        "console/explain.html",
        {"form": form, "explanation": explanation, "error": error},
    )


@require_GET
@officer_required()
def decisions(request: HttpRequest) -> HttpResponse:
    form = DecisionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = page_of(selectors.access_decisions(**filters), request.GET)
    return render(
        request,
        "console/decisions.html",
        {"form": form, "page": page, "denials": denials_this_week(clock.now())},
    )


def denials_this_week(now) -> dict:
    """Access denials per UTC day of the last seven (today included) and deciding
    jurisdiction, stacked, for the page's chart."""
    today = charts.day_start(now)
    since, until = today - timedelta(days=6), today + timedelta(days=1)
    groups = selectors.denials_per_day(since=since, until=until)
    stacked = charts.stacked_counts(
        ((charts.as_instant(day), code, n) for day, code, n in groups),
        starts=charts.bucket_starts(since, until, timedelta(days=1)),
        step=timedelta(days=1),
        now=now,
    )
    return {
        "stacked": stacked,
        "data": stacked.to_json(title="Access denials by jurisdiction", unit="denials"),
        "since": since,
    }


@require_GET
@officer_required()
def decision_detail(request: HttpRequest, decision_id: str) -> HttpResponse:
    decision = selectors.access_decision(decision_id)
    if decision is None:
        raise Http404(f"no decision {decision_id}")
    return render(request, "console/decision_detail.html", {"decision": decision})
