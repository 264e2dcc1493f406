"""The custody page: what the venue holds, where it disagrees with the custodian, and
whether client money is covered (DESIGN.md, "Console")."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import jobs
from console.custody import selectors
from console.job_kinds import PROOF_OF_RESERVES
from console.roles import officer_required
from core import clock


@require_GET
@officer_required()
def custody(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    return render(
        request,
        "console/custody.html",
        {
            "wallets": selectors.wallet_balances(),
            "assets": selectors.asset_positions(assets=selectors.assets_in_use(), now=now),
            "breaks": selectors.open_breaks(),
            "resolved_breaks": selectors.resolved_breaks(),
            "decided": selectors.decided_withdrawals(),
            "panel": jobs.panel(request.user, PROOF_OF_RESERVES),
            "held": selectors.held_withdrawals(
                now=now, alert_after_minutes=settings.HELD_WITHDRAWAL_ALERT_MINUTES
            ),
        },
    )
