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
    """One market: its state now, the chart of its reference, band, book price and state
    changes over the window asked for (``?hours=`` 1, 6, 24 or 72), and what may be
    proposed."""
    from risk.models import Instrument

    instrument = Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise Http404(f"no instrument {symbol}")
    now = clock.now()
    hours = charts.hours_of(request.GET.get("hours"))
    since = now - timedelta(hours=hours)
    samples, truncated, events = selectors.price_history(symbol, since=since, until=now)
    chart = {
        "data": charts.market_chart(
            symbol=symbol,
            tick=instrument.tick_size,
            samples=samples,
            events=events,
            start=since,
            end=now,
            hours=hours,
            truncated=truncated,
        ),
        "table": charts.market_table(samples, since, charts.TABLE_STEPS[hours]),
        "step_minutes": int(charts.TABLE_STEPS[hours].total_seconds() // 60),
        "hours": hours,
        "ranges": charts.RANGES,
    }
    board = selectors.market_board(now)
    view = next((row.view for row in board.rows if row.symbol == symbol), None)
    return render(
        request,
        "console/market_detail.html",
        {
            "instrument": instrument,
            "chart": chart,
            "events": list(reversed(events))[:50],
            "view": view,
            "problem": board.problem,
            "actions": change_kinds.actions(scope="market"),
            "proposals": list(selectors.proposals_for(f"market:{symbol}")[:10]),
        },
    )
