"""The pre-trade check at the edge: snapshot, GeoIP, the stateless stage, the two atomic
Redis steps and the answer (DESIGN.md "The hot path").

Per batch, whatever its size: one round trip for the instrument steps (market hash and a
tentative open-interest reservation per order), one for the account steps (checked and
reserved in order, so orders of one account in one batch see each other's reservations)
and, only when some tentative reservation turned out unneeded, one to release those.
The response never waits on SQL: decisions reach the database through the bucket streams
written in the account step. Anything unavailable answers ``DEGRADED_FAIL_CLOSED``.

Read-your-writes (``core.policy``): the account step refuses to decide an order whose
stateless stage used older policy versions than announced (``stale``). Those orders are
checked again, once the stale part is rebuilt: their tentative open-interest reservations
are released and both steps run again for them alone. That costs two more round trips,
only in the batch right after a change.
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
from django.db import DatabaseError

from compliance import geoip
from compliance.access import decide
from compliance.snapshot import holder as compliance_holder
from core import policy
from core.clock import isoformat_z
from core.decimals import plain
from core.policy import SnapshotUnavailable
from core.redis_client import get_hot_redis, global_key
from core.scripts import run_pipeline, text
from risk.markets.view import PUBLICATION_FIELDS
from risk.pretrade import checks
from risk.pretrade import steps as atomic
from risk.pretrade.checks import Order
from risk.pretrade.terms import PretradeSnapshot, holder

logger = logging.getLogger("gatehouse.pretrade")

PRODUCT_OPEN, PRODUCT_REDUCE = "open", "reduce"

# Stateful codes of the account step → contract reasons.
_STATEFUL_MESSAGES = {
    checks.KILL_SWITCH: "The account's kill switch is engaged.",
    checks.RATE_LIMIT: "Too many orders for this account; slow down.",
    checks.REDUCE_ONLY_VIOLATION: "A reduce-only order would increase exposure.",
    checks.POSITION_LIMIT: "The position with open orders would exceed the account's limit.",
    checks.OPEN_INTEREST_LIMIT: "The platform's open-interest cap for this instrument is reached.",
    checks.INSUFFICIENT_MARGIN: "Initial margin exceeds the available collateral.",
}


@dataclass(slots=True)
class _Pending:
    """One order on its way through the check."""

    order: Order
    fingerprint: str
    terms: checks.InstrumentTerms | None = None
    assessment: checks.Assessment | None = None
    open_interest: str = "none"
    reserved_open_interest: bool = False
    skeleton: dict | None = None


def fingerprint(body: dict) -> str:
    """What makes two submissions of one order_id the same order."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def fail_closed(
    order_id: str, component: str, policy_version: str | None, now: datetime, started: int
) -> dict:
    reason = checks.Reason(
        checks.DEGRADED_FAIL_CLOSED,
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
            reasons.append(checks.Reason(code, _STATEFUL_MESSAGES[code]).as_contract())
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
    found = checks.AccessVerdicts(
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
    """What the answer, its idempotent replay and the drained record are rendered from."""
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


REPLAYED = (
    "order_id",
    "reasons",
    "unless_reducing",
    "reservation",
    "policy_version",
    "evaluated_at",
)
"""What a repeat of an order is answered from (``render``); the drained record has it all."""

ATTEMPTS = 4
"""Checks of one order when the policy moved meanwhile; beyond that, fail closed."""


def check_orders(orders: list[tuple[Order, str]], *, now: datetime) -> list[dict]:
    """Decide a batch of (order, fingerprint) in order; see the module docstring."""
    started = time.perf_counter_ns()
    try:
        batch = _Batch(orders, holder.current(), compliance_holder.current(), now, started)
    except (SnapshotUnavailable, DatabaseError) as exc:
        logger.error("pre-trade failing closed: policy snapshot unavailable: %s", exc)
        return [fail_closed(o.order_id, "policy snapshot", None, now, started) for o, _ in orders]
    try:
        return batch.run()
    except (redis.RedisError, geoip.GeoIpDatabaseError, OSError) as exc:
        component = "redis" if isinstance(exc, redis.RedisError) else "geoip"
        logger.error("pre-trade failing closed: %s unavailable: %s", component, exc)
        return batch.fail_all(component)
    except (SnapshotUnavailable, DatabaseError) as exc:
        logger.error("pre-trade failing closed: policy snapshot unavailable: %s", exc)
        return batch.fail_all("policy snapshot")


class _Batch:
    """One batch on its way through the check (see the module docstring)."""

    def __init__(self, orders, snapshot, compliance, now: datetime, started: int) -> None:
        self.items = [_Pending(order, print_) for order, print_ in orders]
        self.snapshot: PretradeSnapshot = snapshot
        self.compliance = compliance
        self.now, self.started = now, started
        self.now_ms = int(now.timestamp() * 1000)
        self.expires_ms = self.now_ms + int(settings.ORDER_TTL_SECONDS * 1000)
        self.window_ms = int(settings.PRETRADE_IDEMPOTENCY_SECONDS * 1000)
        self.evaluated_at = isoformat_z(now)
        self.client = get_hot_redis()
        self._access: dict = {}
        self._markets: dict[str, tuple] = {}

    def policy_version(self, account_id: str) -> str:
        return (
            f"{self.compliance.rulebook.version}.{self.snapshot.version}"
            f".a{self.compliance.profiles.seq(account_id)}"
        )

    def fail_all(self, component: str) -> list[dict]:
        return [
            fail_closed(i.order.order_id, component, None, self.now, self.started)
            for i in self.items
        ]

    def run(self) -> list[dict]:
        answers: dict[int, dict] = {}
        pending = list(range(len(self.items)))
        for _ in range(ATTEMPTS):
            self._instrument_round(pending)
            results = self._account_round(pending)
            stale = []
            for index, result in zip(pending, results, strict=True):
                if result.status in ("stale", "unpublished"):
                    stale.append((index, result))
                else:
                    answers[index] = self._final(self.items[index], result)
            if not stale:
                break
            self._catch_up(stale)
            pending = [index for index, _ in stale]
        else:
            for index in pending:
                answers[index] = fail_closed(
                    self.items[index].order.order_id,
                    "policy snapshot",
                    None,
                    self.now,
                    self.started,
                )
        self._release([item for item in self.items if item.reserved_open_interest])
        return [answers[index] for index in range(len(self.items))]

    # --- round trip 1: instruments, then the stateless stage -----------------------------

    def _instrument_round(self, indices: list[int]) -> None:
        """The instrument steps (stored market publication + tentative open interest) and
        the global kill switch; then every order's stateless stage. Reservations left from
        an earlier attempt are released first, in the same checks."""
        step, release = atomic.script("instrument_step"), atomic.script("release_open_interest")
        items = [self.items[index] for index in indices]
        leftovers = [item for item in items if item.reserved_open_interest]
        for item in items:
            item.terms = self.snapshot.terms(item.order.instrument)
            item.reserved_open_interest = False

        def build(pipe):
            for item in leftovers:
                self._release_one(release, item, pipe)
            # The market publication is read once per instrument per batch: every step runs
            # in the same pipeline, so all would read the same fields anyway.
            seen = set(self._markets)
            for item in items:
                if item.terms is None:
                    continue
                symbol = item.terms.symbol
                fields = () if symbol in seen else PUBLICATION_FIELDS
                seen.add(symbol)
                lots = self.snapshot.lots(item.terms, item.order.quantity)
                step(
                    keys=atomic.instrument_keys(symbol),
                    args=[
                        atomic.reservation_id(item.order.account_id, item.order.order_id),
                        0 if item.order.reduce_only else lots,
                        self.snapshot.open_interest_cap_lots(item.terms),
                        self.now_ms,
                        self.expires_ms,
                        *fields,
                    ],
                    client=pipe,
                )
            pipe.get(global_key("kill"))

        replies = run_pipeline(self.client, build)[len(leftovers) :]
        global_kill = bool(replies[-1])
        steps = iter(replies[:-1])
        for item in items:
            market, kill = None, False
            if item.terms is not None:
                verdict, values = next(steps)
                item.open_interest = text(verdict)
                item.reserved_open_interest = item.open_interest == "ok"
                market, kill = self._market(item.terms, values)
                if kill:
                    item.terms = self.snapshot.with_kill(item.terms)
            item.assessment = checks.assess(
                item.order,
                terms=item.terms,
                account=self.snapshot.standing(self.compliance, item.order.account_id),
                market=market,
                access=None if item.terms is None else self._access_of(item.order),
                global_kill=global_kill,
            )
            item.skeleton = _skeleton(
                item, self.snapshot, self.policy_version(item.order.account_id), self.evaluated_at
            )

    def _market(self, terms, values) -> tuple:
        symbol = terms.symbol
        if symbol not in self._markets:
            fields = {
                name: value.decode()
                for name, value in zip(PUBLICATION_FIELDS, values, strict=True)
                if value is not None
            }
            self._markets[symbol] = self.snapshot.market_conditions(
                terms, fields, self.now, self.client
            )
        return self._markets[symbol]

    def _access_of(self, order: Order):
        return _access(order, self.snapshot, self.compliance, self.now, self._access)

    # --- round trip 2: the account steps, in order -------------------------------------

    def _account_round(self, indices: list[int]) -> list[atomic.AccountStepResult]:
        step = atomic.script("account_step")
        items = [self.items[index] for index in indices]
        rules = self.compliance.versions[policy.RULES]
        instruments = self.snapshot.versions[policy.INSTRUMENTS]
        sessions = self.snapshot.versions[policy.SESSIONS]

        def build(pipe):
            for item in items:
                a, order = item.assessment, item.order
                step(
                    keys=atomic.account_step_keys(order.account_id, order.order_id),
                    args=[
                        self.now_ms,
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
                        self.expires_ms,
                        orjson.dumps(item.skeleton),
                        item.open_interest,
                        self.window_ms,
                        order.account_id,
                        atomic.account_prefix(order.account_id),
                        rules,
                        instruments,
                        sessions,
                        self.compliance.profiles.seq(order.account_id),
                        orjson.dumps({name: item.skeleton[name] for name in REPLAYED}),
                    ],
                    client=pipe,
                )

        return [atomic.AccountStepResult.parse(raw) for raw in run_pipeline(self.client, build)]

    def _catch_up(self, stale: list) -> None:
        """Rebuild what the account steps announced newer, or restore the announcements."""
        required: dict[str, int] = {}
        for index, result in stale:
            if result.status == "unpublished":
                if not policy.restore_if_needed():
                    raise SnapshotUnavailable("policy announcements are being restored")
                continue
            announced = policy.parse_announced(result.announced)
            for field, version in announced.items():
                if field in policy.COMPONENT_OF:
                    component = policy.COMPONENT_OF[field]
                    required[component] = max(required.get(component, 0), version)
                else:
                    account_id = self.items[index].order.account_id
                    self.compliance.profiles.refresh(account_id, version)
        if policy.RULES in required:
            self.compliance = compliance_holder.at_least(required)
        if policy.INSTRUMENTS in required or policy.SESSIONS in required:
            self.snapshot = holder.at_least(required)
        self._markets.clear()
        self._access.clear()

    def _final(self, item: _Pending, result: atomic.AccountStepResult) -> dict:
        keep = result.status == "new" and result.decision == "accept" and not result.reduces
        if keep:
            item.reserved_open_interest = False  # the order holds it now
        return _final(item, result, item.skeleton["policy_version"], self.now, self.started)

    # --- round trip 3 (only if needed): release open interest nobody needs ---------------

    def _release(self, items: list[_Pending]) -> None:
        if not items:
            return
        release = atomic.script("release_open_interest")

        def build(pipe):
            for item in items:
                self._release_one(release, item, pipe)

        run_pipeline(self.client, build)
        for item in items:
            item.reserved_open_interest = False

    @staticmethod
    def _release_one(release, item: _Pending, pipe) -> None:
        release(
            keys=atomic.open_interest_keys(item.order.instrument),
            args=[atomic.reservation_id(item.order.account_id, item.order.order_id), -1, 0],
            client=pipe,
        )


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
