"""The access check at the edge: snapshot + GeoIP + the pure decision + the durable record.

Fail closed (DESIGN.md): when the snapshot, GeoIP or the decision log is unavailable the
answer is ``deny`` with ``DEGRADED_FAIL_CLOSED`` — never an allow nobody can account for.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime

import redis
from django.conf import settings

from core.clock import isoformat_z
from core.policy import SnapshotUnavailable

from . import decision_log, geoip
from .access import decide
from .snapshot import holder

logger = logging.getLogger("gatehouse.access")


def fail_closed(component: str, error: Exception) -> dict:
    logger.error("access check failing closed: %s unavailable: %s", component, error)
    return {
        "effect": "deny",
        "reasons": [
            {
                "code": "DEGRADED_FAIL_CLOSED",
                "check": "availability",
                "message": f"The gate cannot decide: {component} is unavailable.",
                "detail": {"component": component},
            }
        ],
        "policy_version": None,
    }


def check_access(
    *,
    account_id: str | None,
    client_ip: str,
    product_class: str,
    action: str,
    requested_by: str,
    now: datetime,
) -> dict:
    """Decide, record and answer one access check in the contract's shape."""
    try:
        snapshot = holder.current()
    except (SnapshotUnavailable, redis.RedisError) as exc:
        return fail_closed("policy snapshot", exc)
    try:
        ip_facts = geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB).lookup(
            client_ip
        )
    except (OSError, geoip.GeoIpDatabaseError) as exc:
        return fail_closed("geoip", exc)
    profile = snapshot.profiles.get(account_id) if account_id else None
    decision = decide(
        snapshot.rulebook, profile, ip_facts, product_class, action, now, snapshot.defaults
    )
    answer = decision.as_contract()
    answer["policy_version"] = snapshot.policy_version
    record = {
        "decision_id": uuid.uuid4().hex,
        "decided_at": isoformat_z(now),
        "account_id": account_id,
        "client_ip": client_ip,
        "product_class": product_class,
        "action": action,
        "effect": answer["effect"],
        "reasons": answer["reasons"],
        "signals": {
            "ip": {
                "country": ip_facts.country,
                "subdivision": ip_facts.subdivision,
                "anonymizer": ip_facts.is_anonymizer,
            },
            "profile_known": profile is not None,
        },
        "policy_version": snapshot.policy_version,
        "requested_by": requested_by,
        "recorded_ns": time.time_ns(),
    }
    try:
        decision_log.append(record)
    except redis.RedisError as exc:
        return fail_closed("decision log", exc)
    answer["decision_id"] = record["decision_id"]
    return answer
