"""A reconciliation break's page and its resolution.

Two ways to close a break (``custody.reconciliation``): with an explanation alone, when
nothing needs booking (a late statement, a custodian's own correction) — one compliance
officer, audited (``custody.break_resolve``) — or by the adjustment that makes the ledger
agree with the custodian, which moves value in the ledger and so needs a second compliance
officer (``reconciliation_break.adjust``, DESIGN.md: manual ledger adjustments are four-eyes).
While such a proposal awaits its checker, the break cannot be closed by explanation.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import change_kinds
from console.custody.actions import BREAK_ADJUSTMENT, break_target, pending_adjustment
from console.custody.forms import BreakResolutionForm
from console.models import Proposal
from console.roles import COMPLIANCE_OFFICER, officer_actor, officer_required, roles_of
from core.errors import GatehouseError
from custody import reconciliation
from custody.models import ReconciliationBreak


def _break(break_id: int) -> ReconciliationBreak:
    found = (
        ReconciliationBreak.objects.select_related("line__statement").filter(pk=break_id).first()
    )
    if found is None:
        raise Http404(f"no reconciliation break {break_id}")
    return found


@require_GET
@officer_required()
def break_detail(request: HttpRequest, break_id: int) -> HttpResponse:
    found = _break(break_id)
    statement = found.line.statement
    return render(
        request,
        "console/reconciliation_break.html",
        {
            "found": found,
            "statement": statement,
            "siblings": list(
                ReconciliationBreak.objects.filter(line__statement=statement)
                .exclude(pk=found.pk)
                .order_by("wallet", "asset")
            ),
            "adjustment": reconciliation.closing_adjustment(found),
            "proposals": list(
                Proposal.objects.filter(target=break_target(found.pk)).order_by("-created_at")[:10]
            ),
            "pending": pending_adjustment(found.pk),
            "form": BreakResolutionForm(),
            "may_resolve": COMPLIANCE_OFFICER in roles_of(request.user),
            "may_propose": change_kinds.can_propose(request.user, BREAK_ADJUSTMENT),
        },
    )


@require_POST
@officer_required(COMPLIANCE_OFFICER)
def resolve(request: HttpRequest, break_id: int) -> HttpResponse:
    found = _break(break_id)
    form = BreakResolutionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what explains the difference.")
    elif (pending := pending_adjustment(found.pk)) is not None:
        messages.error(
            request,
            f"Proposal {pending.pk} to close this break by adjustment awaits its checker: "
            "decide it (or withdraw it) first.",
        )
    else:
        try:
            reconciliation.resolve_break(
                break_id=found.pk,
                actor=officer_actor(request.user),
                resolution=form.cleaned_data["resolution"],
            )
        except GatehouseError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Break {found.pk} resolved.")
    return redirect("console:reconciliation-break", break_id=found.pk)
