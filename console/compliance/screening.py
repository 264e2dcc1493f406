"""The screening page: the loaded sanctions list versions with their differences, and the
open cases with the account's facts beside the list entry's, each decided under
maker-checker (``screening.false_positive``, ``screening.confirm``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compliance import sanctions, screening_cases, services
from compliance.models import AccountProfile, SanctionsListVersion, ScreeningCase
from console import jobs
from console.change_kinds import register_action
from console.job_kinds import RESCREEN
from console.roles import COMPLIANCE_OFFICER, officer_required
from core.errors import Conflict, NotFound

FALSE_POSITIVE = "screening.false_positive"
CONFIRM = "screening.confirm"


class ScreeningCaseForm(forms.Form):
    """An officer's decision on an open screening case, with the reason."""

    id = forms.IntegerField(min_value=1, label="Case id")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def _entry_facts(lists, entry_id: int | None) -> dict | None:
    entry = lists.entry(entry_id) if lists is not None else None
    if entry is None:
        return None
    return {
        "name": entry.name,
        "type": entry.sdn_type,
        "aliases": [alias.name for alias in entry.aliases],
        "dobs": list(entry.dobs),
        "pobs": list(entry.pobs),
        "nationalities": [*entry.nationalities, *entry.citizenships],
        "programs": list(entry.programs),
        "remarks": entry.remarks,
    }


def open_cases() -> list[dict]:
    """Open cases, oldest first, with the account's facts and the entry's."""
    try:
        lists = sanctions.loaded()
    except sanctions.ScreeningUnavailable:
        lists = None
    cases = list(ScreeningCase.objects.filter(status=screening_cases.OPEN).order_by("opened_at"))
    profiles = {
        p.account_id: p
        for p in AccountProfile.objects.filter(account_id__in={c.account_id for c in cases})
    }
    return [
        {
            "case": case,
            "profile": profiles.get(case.account_id),
            "entry": _entry_facts(lists, case.entry_id),
        }
        for case in cases
    ]


@require_GET
@officer_required()
def screening(request: HttpRequest) -> HttpResponse:
    versions = list(SanctionsListVersion.objects.defer("files").order_by("source", "-version"))
    latest = versions[0] if versions else None
    changes = latest.changes.order_by("kind", "entry_id", "address")[:200] if latest else []
    return render(
        request,
        "console/screening.html",
        {
            "versions": versions,
            "latest": latest,
            "changes": changes,
            "cases": open_cases(),
            "decided": ScreeningCase.objects.exclude(status=screening_cases.OPEN).order_by(
                "-decided_at"
            )[:50],
            "panel": jobs.panel(request.user, RESCREEN),
        },
    )


def _case_maker(payload: Mapping[str, Any], maker: str) -> dict:
    """Only an open case can be proposed for a decision."""
    case = ScreeningCase.objects.filter(pk=payload["id"]).first()
    if case is None:
        raise NotFound(f"no screening case {payload['id']}")
    if case.status != screening_cases.OPEN:
        raise Conflict(f"screening case {case.pk} is already {case.status}")
    return {"maker": maker}


def _decide(decision: str):
    def execute(payload: Mapping[str, Any], approver: str) -> dict:
        case = services.decide_screening_case(
            case_id=int(payload["id"]),
            decision=decision,
            note=payload["reason"],
            proposed_by=payload["maker"],
            actor=approver,
        )
        return {"case": case.pk, "status": case.status, "account_id": case.account_id}

    return execute


for kind, label, decision in [
    (FALSE_POSITIVE, "Clear a screening case as a false positive", screening_cases.FALSE_POSITIVE),
    (CONFIRM, "Confirm a sanctions match", screening_cases.CONFIRM),
]:
    register_action(
        kind,
        roles=[COMPLIANCE_OFFICER],
        execute=_decide(decision),
        label=label,
        form=ScreeningCaseForm,
        target=lambda payload: f"screening_case:{payload['id']}",
        on_propose=_case_maker,
        describe=lambda payload, label=label: f"{label}: case {payload['id']}",
        reason_in_payload=True,
    )
