"""What the gates say of a deposit or a withdrawal, asked without importing them.

Custody sits below compliance (the layers in pyproject.toml), so the gates register
themselves with ``core.registry.movement_gates`` (compliance registers the access gate) and
custody asks every registered one. Fail closed (DESIGN.md): no gate registered, a gate that
raises or answers an effect outside the contract is a ``deny`` with
``DEGRADED_FAIL_CLOSED``, never a withdrawal nobody judged.

For a movement the effects rank ``allow`` = ``close_only`` < ``review`` < ``deny``:
``close_only`` lets a customer withdraw (compliance.access), so it must not outrank another
gate's ``review``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

from core import registry
from core.registry import MovementCheck, MovementVerdict

logger = logging.getLogger("gatehouse.custody")

ALLOW, CLOSE_ONLY, REVIEW, DENY = "allow", "close_only", "review", "deny"
DEGRADED_FAIL_CLOSED = "DEGRADED_FAIL_CLOSED"
RANK = MappingProxyType({ALLOW: 0, CLOSE_ONLY: 0, REVIEW: 1, DENY: 2})


def fail_closed(component: str, error: object) -> MovementVerdict:
    logger.error("custody gate failing closed: %s: %s", component, error)
    return MovementVerdict(
        effect=DENY,
        reasons=(
            {
                "code": DEGRADED_FAIL_CLOSED,
                "check": "availability",
                "message": f"The gate cannot decide: {component} is unavailable.",
                "detail": {"component": component},
            },
        ),
    )


def combine(verdicts: Sequence[MovementVerdict]) -> MovementVerdict:
    """The most restrictive verdict decides; the reasons of every verdict that is not an
    allow follow, most restrictive first (a stable sort keeps each gate's own order)."""
    if not verdicts:
        return fail_closed("movement gate", "no gate is registered")
    ranked = sorted(verdicts, key=lambda verdict: -RANK[verdict.effect])
    deciding = ranked[0]
    reasons = tuple(
        reason for verdict in ranked if RANK[verdict.effect] > 0 for reason in verdict.reasons
    )
    return MovementVerdict(
        effect=deciding.effect,
        reasons=reasons,
        decision_id=deciding.decision_id,
        policy_version=deciding.policy_version,
    )


def consult(
    *,
    account_id: str,
    asset: str,
    action: str,
    client_ip: str | None,
    requested_by: str,
    now: datetime,
    address: str | None = None,
) -> MovementVerdict:
    """Ask every registered gate (in name order) about one movement."""
    check = MovementCheck(
        account_id=account_id,
        asset=asset,
        action=action,
        client_ip=client_ip,
        requested_by=requested_by,
        now=now,
        address=address,
    )
    verdicts = []
    for name, gate in registry.movement_gates.items().items():
        try:
            verdict = gate(check)
        except Exception as error:  # any failure of a gate fails closed
            logger.exception("movement gate %s raised", name)
            return fail_closed(f"movement gate {name}", error)
        if not isinstance(verdict, MovementVerdict) or verdict.effect not in RANK:
            return fail_closed(f"movement gate {name}", f"unexpected answer {verdict!r}")
        verdicts.append(verdict)
    return combine(verdicts)
