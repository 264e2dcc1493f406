"""Risk monitors for officers (issue 8): market-state changes, reject-rate spikes, limit
breaches and near-breaches. Pure rules over counts plus thin services that raise alerts
(``oversight.alerts.raise_alert``, de-duplicated by key within the window)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q

from core.redis_client import get_redis
from oversight.alerts import raise_alert
from risk.markets.snapshot import holder
from risk.models import MarketEvent, PretradeDecision

ALERTING_STATES = {
    "halted": "critical",
    "paused": "warning",
    "limit_state": "warning",
    "close_only": "warning",
}
WINDOW = timedelta(minutes=5)
NEAR_BREACH = Decimal("0.9")


def announce_market_events(events: list[MarketEvent], *, now: datetime) -> int:
    """One alert per instrument, state and reason (repeats fold into it while it is
    unresolved), grouped by state and reason into one incident: ten instruments going
    stale together are one ``close_only (ORACLE_STALE)`` incident."""
    raised = 0
    for event in events:
        severity = ALERTING_STATES.get(event.to_status)
        if severity is None:
            continue
        raise_alert(
            key=f"market.{event.instrument}.{event.to_status}.{event.reason}",
            kind="market_state",
            severity=severity,
            title=f"{event.instrument} {event.from_status} → {event.to_status} ({event.reason})",
            detail={
                "instrument": event.instrument,
                "at": event.at.isoformat(),
                "until": event.until.isoformat() if event.until else None,
                "reason": event.reason,
                "actor": event.actor,
            },
            now=now,
            cause=f"{event.to_status}.{event.reason}",
            cause_title=f"Markets {event.to_status} ({event.reason})",
        )
        raised += 1
    return raised


def is_spike(rejects: int, total: int) -> bool:
    """A reject rate worth a look: at least ``REJECT_SPIKE_MIN_ORDERS`` orders in the window
    and at least ``REJECT_SPIKE_RATIO`` of them refused."""
    minimum = getattr(settings, "REJECT_SPIKE_MIN_ORDERS", 20)
    ratio = Decimal(str(getattr(settings, "REJECT_SPIKE_RATIO", "0.5")))
    return total >= minimum and rejects >= ratio * total


REJECT_SPIKES, LIMIT_BREACHES = "reject_spikes", "limit_breaches"
"""The causes these alerts are grouped by (``oversight.incidents``): every account's and every
reason's reject spike is one incident while they keep coming, and so is every attempt on a
limit, whichever account and instrument (a demo's traders on ten instruments opened ten
incidents; the alerts keep the account and the instrument)."""


def watch_rejects(*, now: datetime) -> int:
    """Reject-rate spikes per account and per reason, and every limit breach attempt, in the
    last window."""
    recent = PretradeDecision.objects.filter(evaluated_at__gte=now - WINDOW, evaluated_at__lt=now)
    raised = 0
    per_account = recent.values("account_id").annotate(
        total=Count("id"), rejects=Count("id", filter=Q(decision="reject"))
    )
    for row in per_account:
        if is_spike(row["rejects"], row["total"]):
            raise_alert(
                key=f"pretrade.reject_spike.{row['account_id']}",
                kind="reject_spike",
                cause=REJECT_SPIKES,
                cause_title="Reject-rate spikes",
                severity="warning",
                title=f"{row['account_id']}: {row['rejects']} of {row['total']} orders "
                f"rejected in {WINDOW.seconds // 60} min",
                detail={
                    "account_id": row["account_id"],
                    "rejects": row["rejects"],
                    "orders": row["total"],
                },
                now=now,
            )
            raised += 1
    total = recent.count()
    per_reason: dict[str, int] = {}
    for codes, n in (
        recent.filter(decision="reject")
        .values("reason_codes")
        .annotate(n=Count("id"))
        .values_list("reason_codes", "n")
    ):
        for code in filter(None, codes.split(",")):
            per_reason[code] = per_reason.get(code, 0) + n
    for code, n in sorted(per_reason.items()):
        if is_spike(n, total):
            raise_alert(
                key=f"pretrade.reason_spike.{code}",
                kind="reject_spike",
                cause=REJECT_SPIKES,
                cause_title="Reject-rate spikes",
                severity="warning",
                title=f"{n} of {total} orders rejected for {code} in {WINDOW.seconds // 60} min",
                detail={"reason": code, "rejects": n, "orders": total},
                now=now,
            )
            raised += 1
    breaches = (
        recent.filter(decision="reject")
        .filter(
            Q(reason_codes__contains="POSITION_LIMIT")
            | Q(reason_codes__contains="OPEN_INTEREST_LIMIT")
        )
        .values("account_id", "instrument")
        .annotate(n=Count("id"))
    )
    for row in breaches:
        raise_alert(
            key=f"pretrade.limit_breach.{row['account_id']}.{row['instrument']}",
            kind="limit_breach",
            cause=LIMIT_BREACHES,
            cause_title="Orders refused at a position or open-interest limit",
            severity="warning",
            title=f"{row['account_id']} tried to pass a limit on {row['instrument']} "
            f"({row['n']} orders refused)",
            detail={
                "account_id": row["account_id"],
                "instrument": row["instrument"],
                "refused": row["n"],
            },
            now=now,
        )
        raised += 1
    return raised


def near_breach(position_lots: int, cap_lots: int) -> bool:
    return cap_lots > 0 and abs(position_lots) >= NEAR_BREACH * cap_lots


def watch_positions(*, now: datetime) -> int:
    """Positions at or above 90% of the account's cap at the last reference price (the full
    cap, before any session fraction). Scans the accounts' live state in Redis."""
    from risk.markets import live

    snapshot = holder.verified()
    caps: dict[str, int] = {}
    for symbol, terms in snapshot.instruments.items():
        view = live.market_view(symbol, now)
        if view.reference_price:
            caps[symbol] = int(
                terms.max_position_notional / (view.reference_price * terms.lot_size)
            )
    raised = 0
    client = get_redis()
    for key in client.scan_iter(match="gh:{acct:*}:*:risk", count=1000):
        account_id = key.decode().split("}:", 1)[1].rsplit(":", 1)[0]
        for field, value in client.hgetall(key).items():
            name = field.decode()
            if not name.startswith("p:"):
                continue
            symbol, lots = name[2:], int(value)
            if symbol in caps and near_breach(lots, caps[symbol]):
                raise_alert(
                    key=f"pretrade.near_breach.{account_id}.{symbol}",
                    kind="near_breach",
                    severity="info",
                    title=f"{account_id} holds {abs(lots) * 100 // caps[symbol]}% of its "
                    f"{symbol} position limit",
                    detail={
                        "account_id": account_id,
                        "instrument": symbol,
                        "position_lots": lots,
                        "cap_lots": caps[symbol],
                    },
                    now=now,
                )
                raised += 1
    return raised
