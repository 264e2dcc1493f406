"""The kill-switch page: every switch — the global one, one per instrument, those set for
accounts — with whether it is engaged, why, who changed it last and when (and on whose
proposal), whether Redis, which the pre-trade check reads, agrees; and every engagement and
release since the first (``KillSwitchEvent``).

The database holds the switch's position (``risk.markets.kill_switches``); Redis holds what
the check obeys, rewritten from the database by the sweeper once a minute. The page reads
both in one round trip and says so when they differ, or when Redis cannot be read: it never
shows a switch as off because the live state could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import change_kinds
from console.models import Proposal
from console.paging import page_of
from console.risk.actions import KILL_SWITCH_ENGAGE, KILL_SWITCH_RELEASE
from console.risk.forms import KillSwitchHistoryForm
from console.roles import officer_required
from core.redis_client import REDIS_ERRORS, get_redis
from risk.markets import kill_switches
from risk.markets.store import RedisMarketStore
from risk.models import Instrument, KillSwitch, KillSwitchEvent

PROPOSALS_READ = 500
"""The latest kill-switch proposals read to name who proposed each switch's last change."""


@dataclass(frozen=True)
class SwitchRow:
    scope: str
    target: str
    switch: KillSwitch | None
    in_force: bool | None
    """What Redis says (None: not read)."""
    last_change: Proposal | None
    pending: Proposal | None

    @property
    def engaged(self) -> bool:
        return bool(self.switch and self.switch.engaged)

    @property
    def disagrees(self) -> bool:
        """Redis does not enforce what the database says (or enforces what it does not)."""
        return self.in_force is not None and self.in_force != self.engaged

    @property
    def name(self) -> str:
        return f"{self.scope}:{self.target}" if self.target else self.scope


@dataclass(frozen=True)
class SwitchBoard:
    global_switch: SwitchRow
    instruments: list[SwitchRow]
    accounts: list[SwitchRow]
    problem: str | None


def _in_force(pairs: list[tuple[str, str]]) -> tuple[dict[tuple[str, str], bool], str | None]:
    """What the pre-trade check would obey for each switch, in one pipelined round trip."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        for scope, target in pairs:
            if scope == kill_switches.GLOBAL:
                pipe.exists(kill_switches.GLOBAL_KILL_KEY)
            elif scope == kill_switches.ACCOUNT:
                pipe.exists(kill_switches.account_kill_key(target))
            else:
                pipe.hget(RedisMarketStore.hash_key(target), "kill_status")
        answers = pipe.execute()
    except (*REDIS_ERRORS, OSError) as error:
        return {}, (
            f"Live state unavailable: Redis did not answer ({error}). The positions below are "
            "the database's; whether the pre-trade check obeys them could not be read."
        )
    found = {}
    for (scope, target), answer in zip(pairs, answers, strict=True):
        found[scope, target] = answer == b"halted" if scope == "instrument" else bool(answer)
    return found, None


def _proposals() -> tuple[dict[str, Proposal], dict[str, Proposal]]:
    """Per proposal target: the last carried-out change, and one awaiting a checker."""
    last, pending = {}, {}
    recent = Proposal.objects.filter(
        kind__in=(KILL_SWITCH_ENGAGE, KILL_SWITCH_RELEASE), status__in=("executed", "proposed")
    ).order_by("-created_at", "-id")[:PROPOSALS_READ]
    for proposal in recent:
        chosen = pending if proposal.status == "proposed" else last
        chosen.setdefault(proposal.target, proposal)
    return last, pending


def switch_board() -> SwitchBoard:
    switches = {(s.scope, s.target): s for s in KillSwitch.objects.all()}
    symbols = list(Instrument.objects.order_by("symbol").values_list("symbol", flat=True))
    accounts = sorted(target for scope, target in switches if scope == kill_switches.ACCOUNT)
    pairs = [
        (kill_switches.GLOBAL, ""),
        *((kill_switches.INSTRUMENT, symbol) for symbol in symbols),
        *((kill_switches.ACCOUNT, account) for account in accounts),
    ]
    in_force, problem = _in_force(pairs)
    last, pending = _proposals()

    def row(scope: str, target: str) -> SwitchRow:
        proposal_target = f"kill_switch:{scope}:{target}" if target else f"kill_switch:{scope}"
        return SwitchRow(
            scope=scope,
            target=target,
            switch=switches.get((scope, target)),
            in_force=in_force.get((scope, target)),
            last_change=last.get(proposal_target),
            pending=pending.get(proposal_target),
        )

    return SwitchBoard(
        global_switch=row(kill_switches.GLOBAL, ""),
        instruments=[row(kill_switches.INSTRUMENT, symbol) for symbol in symbols],
        accounts=[row(kill_switches.ACCOUNT, account) for account in accounts],
        problem=problem,
    )


def history(*, scope: str = "", target: str = "") -> QuerySet[KillSwitchEvent]:
    """Every engagement and release, newest first."""
    events = KillSwitchEvent.objects.order_by("-at", "-id")
    if scope:
        events = events.filter(scope=scope)
    if target:
        events = events.filter(target=target)
    return events


@require_GET
@officer_required()
def kill_switch_page(request: HttpRequest) -> HttpResponse:
    form = KillSwitchHistoryForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {name: value for name, value in filters.items() if value}
    return render(
        request,
        "console/kill_switches.html",
        {
            "board": switch_board(),
            "form": form,
            "page": page_of(history(**filters), request.GET),
            "may_engage": change_kinds.can_propose(request.user, KILL_SWITCH_ENGAGE),
            "may_release": change_kinds.can_propose(request.user, KILL_SWITCH_RELEASE),
        },
    )
