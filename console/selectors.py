"""Reads for the console's own pages: the audit log and its chain status, the proposal
queue, the schedule, the officers, and the market board."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet
from django_celery_beat.models import PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import Proposal, SignInThrottle
from console.roles import ROLES
from core import audit, clock
from core.models import AuditEntry
from core.redis_client import REDIS_ERRORS

logger = logging.getLogger("gatehouse.console")

CHAIN_STATUS_KEY = "console:audit-chain-status"


@dataclass(frozen=True)
class ChainStatus:
    ok: bool
    entries_checked: int
    checkpoints_checked: int
    head_seq: int
    problem: str | None
    checked_at: datetime


def audit_chain_status(*, fresh: bool = False) -> ChainStatus:
    """``verify_chain`` walks the whole chain, so the console keeps its answer for
    ``CONSOLE_AUDIT_STATUS_CACHE_SECONDS``; the audit page can ask for a fresh walk."""
    if not fresh:
        cached = cache.get(CHAIN_STATUS_KEY)
        if cached is not None:
            return cached
    report = audit.verify_chain()
    status = ChainStatus(
        ok=report.ok,
        entries_checked=report.entries_checked,
        checkpoints_checked=report.checkpoints_checked,
        head_seq=report.head_seq,
        problem=report.problem,
        checked_at=clock.now(),
    )
    cache.set(CHAIN_STATUS_KEY, status, settings.CONSOLE_AUDIT_STATUS_CACHE_SECONDS)
    return status


def audit_entries(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.order_by("-seq")
    if actor:
        entries = entries.filter(actor__icontains=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    return entries


def proposals(*, status: str = "", kind: str = "") -> QuerySet[Proposal]:
    found = Proposal.objects.all()
    if status:
        found = found.filter(status=status)
    if kind:
        found = found.filter(kind=kind)
    return found


def awaiting_decision() -> QuerySet[Proposal]:
    """Proposals a checker must decide, and emergency changes a second officer must review."""
    return Proposal.objects.filter(
        Q(status="proposed") | Q(emergency=True, status="executed", checker="")
    ).order_by("created_at")


def proposals_for(target_prefix: str) -> QuerySet[Proposal]:
    return Proposal.objects.filter(target__startswith=target_prefix)


def proposal_awaiting(target: str) -> Proposal | None:
    """The proposal awaiting a decision on exactly ``target`` (a prefix would take
    ``rule:x#r10``'s for ``rule:x#r1``)."""
    return Proposal.objects.filter(target=target, status="proposed").first()


def scheduled_tasks() -> QuerySet[PeriodicTask]:
    return PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked").order_by(
        "name"
    )


def scheduled_task(task_id: int) -> PeriodicTask | None:
    return scheduled_tasks().filter(pk=task_id).first()


@dataclass(frozen=True)
class OfficerRow:
    user: object
    roles: tuple[str, ...]
    enrolled: bool
    locked_until: datetime | None


def officers() -> list[OfficerRow]:
    """Every user with a console role or a TOTP device, with what an administrator checks."""
    users = (
        get_user_model()
        .objects.order_by("username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.filter(name__in=ROLES)))
    )
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    now = clock.now()
    locks = {
        row.username: row.locked_until
        for row in SignInThrottle.objects.filter(locked_until__gt=now)
    }
    return [
        OfficerRow(
            user=user,
            roles=tuple(sorted(group.name for group in user.groups.all())),
            enrolled=user.pk in enrolled,
            locked_until=locks.get(user.get_username()),
        )
        for user in users
    ]


@dataclass(frozen=True)
class BoardRow:
    symbol: str
    product_class: str
    view: object | None


@dataclass(frozen=True)
class MarketBoard:
    rows: list[BoardRow]
    at: datetime
    problem: str | None = None


def market_board(now: datetime | None = None) -> MarketBoard:
    """Every instrument with its live state (``risk.markets.controller``: one Redis round trip
    for all). If the live state cannot be read the board still lists the instruments and says why,
    rather than failing the dashboard."""
    from risk.markets import snapshot
    from risk.markets.live import live_controller
    from risk.models import Instrument

    now = now or clock.now()
    instruments = list(Instrument.objects.order_by("symbol").values_list("symbol", "product_class"))
    try:
        snapshot.verified()
        views = {
            view.symbol: view
            for view in live_controller().views([symbol for symbol, _ in instruments], now)
        }
        problem = None
    except (*REDIS_ERRORS, LookupError, ValueError, RuntimeError) as error:
        logger.warning("market board without live state: %s", error)
        views, problem = {}, f"live market state unavailable: {error}"
    return MarketBoard(
        rows=[BoardRow(symbol, product, views.get(symbol)) for symbol, product in instruments],
        at=now,
        problem=problem,
    )


def price_history(symbol: str, *, since: datetime, until: datetime):
    """The market chart's rows over [since, until]: the samples in time order (at most
    ``charts.MAX_SAMPLES_READ``, the newest, and whether older ones were left out) and the
    state changes. Two queries; the samples as plain tuples, not model instances."""
    from console.charts import MAX_SAMPLES_READ, SAMPLE_FIELDS, Sample
    from risk.models import MarketEvent, PriceSample

    newest_first = list(
        PriceSample.objects.filter(instrument=symbol, at__gte=since, at__lte=until)
        .order_by("-at")
        .values_list(*SAMPLE_FIELDS)[: MAX_SAMPLES_READ + 1]
    )
    truncated = len(newest_first) > MAX_SAMPLES_READ
    samples = [Sample(*row) for row in reversed(newest_first[:MAX_SAMPLES_READ])]
    events = list(
        MarketEvent.objects.filter(instrument=symbol, at__gte=since, at__lte=until).order_by(
            "at", "id"
        )
    )
    return samples, truncated, events
