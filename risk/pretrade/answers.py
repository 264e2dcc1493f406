"""The pre-trade answer (API.md "Pre-trade check"): what the stateless stage leaves for the
account step (the skeleton), and the contract body rendered from it and the step's verdict.
A first decision, its idempotent replay and the drained decision record are all rendered
from the same skeleton and codes, so they cannot disagree.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

import orjson

from core.clock import isoformat_z
from core.decimals import plain
from risk.pretrade import checks
from risk.pretrade.checks import Assessment, Order

REPLAYED = (
    "order_id",
    "reasons",
    "unless_reducing",
    "reservation",
    "policy_version",
    "evaluated_at",
)
"""What a repeat of an order is answered from (``render``); the drained record has it all."""


def fingerprint(body: dict) -> str:
    """What makes two submissions of one order_id the same order."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def skeleton(
    order: Order, print_: str, assessment: Assessment, policy_version: str, evaluated_at: str
) -> dict:
    """What the answer, its idempotent replay and the drained record are rendered from."""
    reasons = [r.as_contract() for r in assessment.reasons] + assessment.jurisdiction_reasons
    reservation = None
    if assessment.margin is not None:
        reservation = {
            "quantity": plain(order.quantity),
            "margin": checks.quote_amount(assessment.margin_micro),
        }
    return {
        "order_id": order.order_id,
        "account_id": order.account_id,
        "instrument": order.instrument,
        "side": order.side,
        "quantity": str(order.quantity),
        "price": None if order.price is None else str(order.price),
        "order_type": order.order_type,
        "reduce_only": order.reduce_only,
        "client_ip": order.client_ip,
        "reasons": reasons,
        "unless_reducing": assessment.unless_reducing,
        "reservation": reservation,
        "policy_version": policy_version,
        "evaluated_at": evaluated_at,
        "fp": print_,
        "lots": assessment.quantity_lots,
        "margin_micro": assessment.margin_micro,
    }


def decided(skeleton: dict, decision: str, codes: tuple[str, ...]) -> tuple[list, dict | None]:
    """The answer's reasons and reservation: the stateless stage's reasons, then the
    account step's codes in the order it answered them (``checks.CHECK_ORDER``)."""
    reasons = list(skeleton["reasons"])
    for code in codes:
        if code == checks.UNLESS_REDUCING:
            reasons.extend(skeleton["unless_reducing"])
        else:
            reasons.append(checks.account_step_reason(code))
    return reasons, skeleton["reservation"] if decision == "accept" else None


def _answer(order_id, decision, reasons, reservation, policy_version, evaluated_at, started):
    return {
        "order_id": order_id,
        "decision": decision,
        "reasons": reasons,
        "reservation": reservation,
        "policy_version": policy_version,
        "evaluated_at": evaluated_at,
        "latency_us": (time.perf_counter_ns() - started) // 1000,
    }


def render(skeleton: dict, decision: str, codes: tuple[str, ...], started: int) -> dict:
    """The contract answer from the skeleton and the account step's verdict."""
    reasons, reservation = decided(skeleton, decision, codes)
    return _answer(
        skeleton["order_id"],
        decision,
        reasons,
        reservation,
        skeleton["policy_version"],
        skeleton["evaluated_at"],
        started,
    )


def fail_closed(
    order_id: str, component: str, policy_version: str | None, now: datetime, started: int
) -> dict:
    """``DEGRADED_FAIL_CLOSED`` alone: the gate cannot decide without ``component``."""
    reason = checks.reason(checks.DEGRADED_FAIL_CLOSED, component=component)
    return _answer(
        order_id, "reject", [reason.as_contract()], None, policy_version, isoformat_z(now), started
    )


def idempotency_conflict(order_id: str) -> dict:
    return {
        "order_id": order_id,
        "error": {
            "code": "IDEMPOTENCY_CONFLICT",
            "message": "This order_id was already used with a different order.",
            "fields": {"order_id": ["Already used with a different order."]},
        },
    }
