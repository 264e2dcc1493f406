"""The pre-trade decisions page: search the durable record of every order check."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import charts
from console.paging import page_of
from console.risk import selectors
from console.risk.forms import PretradeFilterForm
from console.roles import officer_required
from core import clock


@require_GET
@officer_required()
def pretrade(request: HttpRequest) -> HttpResponse:
    form = PretradeFilterForm(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    page = page_of(selectors.pretrade_decisions(**filters), request.GET)
    return render(
        request,
        "console/pretrade.html",
        {"form": form, "page": page, "rejects": rejects_today(clock.now())},
    )


def rejects_today(now) -> dict:
    """Today's (UTC) rejects by reason per 15-minute bucket, stacked, for the page's chart."""
    day = charts.day_start(now)
    step = timedelta(minutes=selectors.REJECT_BUCKET_MINUTES)
    groups, totals = selectors.rejects_per_quarter_hour(since=day, until=day + timedelta(days=1))
    stacked = charts.stacked_counts(
        groups,
        starts=charts.bucket_starts(day, day + timedelta(days=1), step),
        step=step,
        now=now,
        totals=totals,
    )
    return {
        "stacked": stacked,
        "data": stacked.to_json(title="Pre-trade rejects by reason", unit="rejects"),
        "day": day,
    }


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
