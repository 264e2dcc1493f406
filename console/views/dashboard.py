"""The dashboard and the market pages."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import change_kinds, charts, health, selectors
from console.compliance import selectors as compliance_selectors
from console.roles import officer_required
from core import clock


@require_GET
@officer_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    return render(
        request,
        "console/dashboard.html",
        {
            "board": selectors.market_board(now),
            "chain": selectors.audit_chain_status(),
            "rulebook": compliance_selectors.rulebook_summary(),
            "denials": compliance_selectors.restrictions_by_jurisdiction(
                since=now.replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            "awaiting": list(selectors.awaiting_decision()[:10]),
            "alerts": compliance_selectors.open_incidents_by_severity(),
            "rejects": health.rejects_by_reason(
                since=now.replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            "segregation": health.segregation_by_asset(now),
            "ledger": health.ledger_chain_status(now),
        },
    )


@require_GET
@officer_required()
def market_board(request: HttpRequest) -> HttpResponse:
    """The board alone, for htmx to poll (``hx-trigger="every 5s"``)."""
    return render(request, "console/_market_board.html", {"board": selectors.market_board()})


@require_GET
@officer_required()
def market_detail(request: HttpRequest, symbol: str) -> HttpResponse:
    from risk.models import Instrument

    instrument = Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise Http404(f"no instrument {symbol}")
    now = clock.now()
    hours = 24 if request.GET.get("hours") not in {"1", "6", "72"} else int(request.GET["hours"])
    since = now - timedelta(hours=hours)
    samples, events = charts.market_history(symbol, since=since)
    board = selectors.market_board(now)
    view = next((row.view for row in board.rows if row.symbol == symbol), None)
    return render(
        request,
        "console/market_detail.html",
        {
            "instrument": instrument,
            "view": view,
            "problem": board.problem,
            "chart": charts.market_chart(symbol, samples, events, now=now),
            "events": list(reversed(events))[:50],
            "hours": hours,
            "actions": change_kinds.actions(scope="market"),
            "proposals": list(selectors.proposals_for(f"market:{symbol}")[:10]),
        },
    )
