"""The access decision log as a source of decisions to replay (``core.registry``).

An access decision's stored inputs are all there: account, client IP, product class,
action, what GeoIP said of the address (``signals.ip``: country, subdivision, anonymizer)
and the policy version (``rb<N>.a<seq>``). Rows are read by primary key after a cursor, a
chunk at a time, only the columns the replay needs.
"""

from __future__ import annotations

from datetime import datetime

from compliance.models import AccessDecision
from core.registry import DecisionSource, RecordedDecision

NAME = "access"
_COLUMNS = (
    "pk",
    "decision_id",
    "decided_at",
    "account_id",
    "client_ip",
    "product_class",
    "action",
    "effect",
    "deciding_rule",
    "signals",
    "policy_version",
)


def _window(start: datetime, end: datetime):
    return AccessDecision.objects.filter(decided_at__gte=start, decided_at__lt=end)


def count(start: datetime, end: datetime) -> int:
    return _window(start, end).count()


def _record(row: tuple) -> RecordedDecision:
    pk, decision_id, at, account_id, client_ip, product, action, effect, rule, signals, pv = row
    signals = signals or {}
    # A deny with no deciding rule is the gate failing closed (a void), not the rulebook's.
    recorded = effect if effect == "allow" or rule else None
    return RecordedDecision(
        source=NAME,
        position=pk,
        key=decision_id,
        at=at,
        account_id=account_id or None,
        anonymous=not account_id,
        client_ip=client_ip,
        location=signals.get("ip"),
        location_stored="ip" in signals,
        product_class=product,
        action=action,
        actions=(action,),
        policy_version=pv,
        profile_known=signals.get("profile_known"),
        recorded_effect=recorded,
    )


def read(start: datetime, end: datetime, after: int, limit: int) -> list[RecordedDecision]:
    rows = _window(start, end).filter(pk__gt=after).order_by("pk").values_list(*_COLUMNS)[:limit]
    return [_record(row) for row in rows]


SOURCE = DecisionSource(name=NAME, label="Access decisions", count=count, read=read)
