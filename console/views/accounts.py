"""The account pages: one account across the parts — its profile and access decisions
(compliance), its open risk (risk), its balances (custody) and its alerts (oversight)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.compliance import selectors
from console.compliance.forms import AccountSearchForm
from console.paging import page_of
from console.risk.selectors import account_risk
from console.roles import officer_required
from core import clock
from custody.money import from_minor
from custody.selectors import client_balances


@require_GET
@officer_required()
def accounts(request: HttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET or None)
    search = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = page_of(selectors.accounts(search=search), request.GET)
    return render(request, "console/accounts.html", {"form": form, "page": page})


@require_GET
@officer_required()
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    profile = selectors.account(account_id)
    if profile is None:
        raise Http404(f"no account {account_id}")
    risk, risk_unavailable = account_risk(account_id)
    return render(
        request,
        "console/account_detail.html",
        {
            "profile": profile,
            "history": list(selectors.account_history(account_id)),
            "decisions": list(selectors.access_decisions(account_id=account_id)[:20]),
            "alerts": list(selectors.account_alerts(account_id)[:20]),
            "screening_cases": list(selectors.screening_cases(account_id)[:50]),
            "risk": risk,
            "risk_unavailable": risk_unavailable,
            "collateral_asset": settings.PRETRADE_COLLATERAL_ASSET,
            "balances": [
                {
                    "asset": b.asset,
                    "total": from_minor(b.asset, b.view.total),
                    "reserved": from_minor(b.asset, b.view.reserved),
                    "available": from_minor(b.asset, b.view.available),
                }
                for b in client_balances(account_id=account_id, now=clock.now())
            ],
        },
    )
