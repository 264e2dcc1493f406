"""The pre-trade check at the edge: snapshot, GeoIP, the stateless stage, the two atomic
Redis steps and the answer (DESIGN.md "The hot path").

Per batch, whatever its size: one round trip for the instrument steps (market hash and a
tentative open-interest reservation per order), one for the account steps (checked and
reserved in order, so orders of one account in one batch see each other's reservations)
and, only when some tentative reservation turned out unneeded, one to release those.
The response never waits on SQL: decisions reach the database through the bucket streams
written in the account step. Anything unavailable answers ``DEGRADED_FAIL_CLOSED``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import orjson
import redis
from django.conf import settings

from compliance import geoip
from compliance.access import decide
from compliance.snapshot import holder as compliance_holder
from core.clock import isoformat_z
from core.decimals import plain
from core.policy import SnapshotUnavailable
from core.redis_client import get_hot_redis, global_key

from . import atomic, pipeline
from .market_view import PUBLICATION_FIELDS
from .pipeline import Order
from .pretrade_snapshot import PretradeSnapshot, holder

logger = logging.getLogger("gatehouse.pretrade")

PRODUCT_OPEN, PRODUCT_REDUCE = "open", "reduce"

# Stateful codes of the account step → contract reasons.
_STATEFUL_MESSAGES = {
    pipeline.KILL_SWITCH: "The account's kill switch is engaged.",
    pipeline.RATE_LIMIT: "Too many orders for this account; slow down.",
    pipeline.REDUCE_ONLY_VIOLATION: "A reduce-only order would increase exposure.",
    pipeline.POSITION_LIMIT: "The position with open orders would exceed the account's limit.",
    pipeline.OPEN_INTEREST_LIMIT: "The platform's open-interest cap for this instrument is "
    "reached.",
    pipeline.INSUFFICIENT_MARGIN: "Initial margin exceeds the available collateral.",
}


@dataclass(slots=True)
class _Pending:
    """One order on its way through the check."""

    order: Order
    fingerprint: str
    terms: pipeline.InstrumentTerms | None = None
    assessment: pipeline.Assessment | None = None
    open_interest: str = "none"
    reserved_open_interest: bool = False
    skeleton: dict | None = None
    result: dict | None = None


def fingerprint(body: dict) -> str:
    """What makes two submissions of one order_id the same order."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def fail_closed(
    order_id: str, component: str, policy_version: str | None, now: datetime, started: int
) -> dict:
    reason = pipeline.Reason(
        pipeline.DEGRADED_FAIL_CLOSED,
        f"The gate cannot decide: {component} is unavailable.",
        (("component", component),),
    )
    return _answer(
        order_id, "reject", [reason.as_contract()], None, policy_version, isoformat_z(now), started
    )


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
    """The contract answer from the stateless skeleton and the atomic step's verdict; the
    same function renders a first decision, its idempotent replay and the drained record."""
    reasons = list(skeleton["reasons"])
    for code in codes:
        if code == "UNLESS_REDUCING":
            reasons.extend(skeleton["unless_reducing"])
        else:
            reasons.append(pipeline.Reason(code, _STATEFUL_MESSAGES[code]).as_contract())
    reservation = skeleton["reservation"] if decision == "accept" else None
    return _answer(
        skeleton["order_id"],
        decision,
        reasons,
        reservation,
        skeleton["policy_version"],
        skeleton["evaluated_at"],
        started,
    )


def _access(order: Order, snapshot, compliance, now: datetime, cache: dict):
    """The jurisdiction gate's verdicts for opening and for reducing (cached per batch)."""
    key = (order.account_id, order.client_ip, snapshot.product_class(order.instrument))
    found = cache.get(key)
    if found is not None:
        return found
    profile = compliance.profiles.get(order.account_id)
    ip_facts = None
    if order.client_ip is not None:
        ip_facts = geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB).lookup(
            order.client_ip
        )
    product = key[2]
    opening = decide(
        compliance.rulebook, profile, ip_facts, product, PRODUCT_OPEN, now, compliance.defaults
    )
    reducing = decide(
        compliance.rulebook, profile, ip_facts, product, PRODUCT_REDUCE, now, compliance.defaults
    )
    found = pipeline.AccessVerdicts(
        opening.effect,
        tuple(r.as_contract() for r in opening.reasons),
        reducing.effect,
        tuple(r.as_contract() for r in reducing.reasons),
    )
    cache[key] = found
    return found


def _skeleton(
    item: _Pending, snapshot: PretradeSnapshot, policy_version: str, evaluated_at: str
) -> dict:
    assessment, order = item.assessment, item.order
    reasons = [r.as_contract() for r in assessment.reasons] + assessment.jurisdiction_reasons
    reservation = None
    if assessment.margin is not None:
        reservation = {
            "quantity": plain(order.quantity),
            "margin": snapshot.quote_amount(assessment.margin_micro),
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
        "fp": item.fingerprint,
        "lots": assessment.quantity_lots,
        "margin_micro": assessment.margin_micro,
    }


def check_orders(orders: list[tuple[Order, str]], *, now: datetime) -> list[dict]:
    """Decide a batch of (order, fingerprint) in order; see the module docstring."""
    started = time.perf_counter_ns()
    try:
        snapshot = holder.current()
        compliance = compliance_holder.current()
    except (SnapshotUnavailable, redis.RedisError) as exc:
        logger.error("pre-trade failing closed: policy snapshot unavailable: %s", exc)
        return [fail_closed(o.order_id, "policy snapshot", None, now, started) for o, _ in orders]
    policy_version = f"{snapshot.version}.{compliance.rulebook.version}"
    items = [_Pending(order, print_) for order, print_ in orders]
    client = get_hot_redis()
    try:
        return _check(items, snapshot, compliance, policy_version, client, now, started)
    except (redis.RedisError, geoip.GeoIpDatabaseError, OSError) as exc:
        component = "redis" if isinstance(exc, redis.RedisError) else "geoip"
        logger.error("pre-trade failing closed: %s unavailable: %s", component, exc)
        return [
            fail_closed(i.order.order_id, component, policy_version, now, started) for i in items
        ]


def _check(items, snapshot, compliance, policy_version, client, now, started) -> list[dict]:
    evaluated_at = isoformat_z(now)
    now_ms = int(now.timestamp() * 1000)

    # Round trip 1: every instrument step (stored market publication + tentative open
    # interest) and the global kill switch.
    step = atomic.script("instrument_step")
    for item in items:
        item.terms = snapshot.terms(item.order.instrument)

    def instrument_steps(pipe):
        # The market publication is read once per instrument per batch: every step of the
        # batch runs in the same pipeline, so all would read the same fields anyway.
        seen = set()
        for item in items:
            if item.terms is None:
                continue
            symbol = item.terms.symbol
            fields = () if symbol in seen else PUBLICATION_FIELDS
            seen.add(symbol)
            lots = snapshot.lots(item.terms, item.order.quantity)
            step(
                keys=atomic.instrument_keys(symbol),
                args=[
                    atomic.reservation_id(item.order.account_id, item.order.order_id),
                    0 if item.order.reduce_only else lots,
                    snapshot.open_interest_cap_lots(item.terms),
                    *fields,
                ],
                client=pipe,
            )
        pipe.get(global_key("kill"))

    replies = atomic.run_pipeline(client, instrument_steps)
    global_kill = bool(replies[-1])

    access_cache: dict = {}
    markets: dict[str, tuple] = {}
    replies_iter = iter(replies[:-1])
    for item in items:
        market, kill = None, False
        if item.terms is not None:
            verdict, values = next(replies_iter)
            item.open_interest = verdict.decode() if isinstance(verdict, bytes) else verdict
            item.reserved_open_interest = item.open_interest == "ok"
            symbol = item.terms.symbol
            if symbol not in markets:
                fields = {
                    name: value.decode()
                    for name, value in zip(PUBLICATION_FIELDS, values, strict=True)
                    if value is not None
                }
                markets[symbol] = snapshot.market_conditions(item.terms, fields, now, client)
            market, kill = markets[symbol]
            if kill:
                item.terms = snapshot.with_kill(item.terms)
        standing = snapshot.standing(compliance, item.order.account_id)
        access = (
            _access(item.order, snapshot, compliance, now, access_cache)
            if item.terms is not None
            else None
        )
        item.assessment = pipeline.assess(
            item.order,
            terms=item.terms,
            account=standing,
            market=market,
            access=access,
            global_kill=global_kill,
        )
        item.skeleton = _skeleton(item, snapshot, policy_version, evaluated_at)

    # Round trip 2: the account steps, in order.
    account_step = atomic.script("account_step")
    expires_ms = now_ms + int(settings.ORDER_TTL_SECONDS * 1000)

    def account_steps(pipe):
        for item in items:
            a, order = item.assessment, item.order
            account_step(
                keys=atomic.account_keys(order.account_id),
                args=[
                    now_ms,
                    order.order_id,
                    item.fingerprint,
                    order.instrument,
                    order.side,
                    a.quantity_lots,
                    a.margin_micro,
                    a.max_position_lots,
                    int(a.must_reduce),
                    int(order.reduce_only),
                    int(a.rejected),
                    settings.ORDER_RATE_INTERVAL_MS,
                    settings.ORDER_RATE_BURST,
                    expires_ms,
                    orjson.dumps(item.skeleton),
                    item.open_interest,
                ],
                client=pipe,
            )

    results = [
        atomic.AccountStepResult.parse(raw) for raw in atomic.run_pipeline(client, account_steps)
    ]

    # Round trip 3 (only if needed): release open interest nobody needs.
    release = atomic.script("release_open_interest")
    unneeded, answers = [], []
    for item, result in zip(items, results, strict=True):
        answers.append(_final(item, result, policy_version, now, started))
        keep = result.status == "new" and result.decision == "accept" and not result.reduces
        if item.reserved_open_interest and not keep:
            unneeded.append(item)
    if unneeded:

        def releases(pipe):
            for item in unneeded:
                release(
                    keys=atomic.instrument_keys(item.order.instrument)[1:],
                    args=[atomic.reservation_id(item.order.account_id, item.order.order_id), -1, 0],
                    client=pipe,
                )

        atomic.run_pipeline(client, releases)
    return answers


def _final(item, result, policy_version, now, started) -> dict:
    if result.status == "unsynced":
        return fail_closed(
            item.order.order_id, "risk state (resync pending)", policy_version, now, started
        )
    if result.status == "conflict":
        return {
            "order_id": item.order.order_id,
            "error": {
                "code": "IDEMPOTENCY_CONFLICT",
                "message": "This order_id was already used with a different order.",
                "fields": {"order_id": ["Already used with a different order."]},
            },
        }
    skeleton = orjson.loads(result.record) if result.status == "duplicate" else item.skeleton
    return render(skeleton, result.decision, result.codes, started)
