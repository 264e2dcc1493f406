"""The pre-trade decisions page: search the durable record of every order check."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.paging import page_of
from console.risk import selectors
from console.risk.forms import PretradeFilterForm
from console.roles import officer_required


@require_GET
@officer_required()
def pretrade(request: HttpRequest) -> HttpResponse:
    form = PretradeFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    page = page_of(selectors.pretrade_decisions(**filters), request.GET)
    return render(request, "console/pretrade.html", {"form": form, "page": page})


@require_GET
@officer_required()
def pretrade_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.pretrade_decision(decision_id)
    if decision is None:
        raise Http404(f"no pre-trade decision {decision_id}")
    return render(
        request,
        "console/pretrade_detail.html",
        {"decision": decision, "collateral_asset": settings.PRETRADE_COLLATERAL_ASSET},
    )
