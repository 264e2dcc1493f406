"""The pre-trade check at the edge: snapshot, GeoIP, the stateless stage, the atomic Redis
step(s) and the answer (DESIGN.md "The hot path"; the check order is ``checks.CHECK_ORDER``).

On a standalone or Sentinel-watched Redis, a batch of any size is **one round trip** in the
common case: ``order_step`` per order, in order, each checking and reserving the account's
limits and the instrument's open interest together and recording the decision. The
stateless stage ran before it on this process's copy of the market publication and of the
global kill switch (``publications``); the step refuses to decide on a copy that is no
longer the stored one (``market``), and the order is judged again on what it answered.
An instrument this process has no usable copy of costs one round trip more (its
publication, and its whole hash when the publication no longer describes ``now``).

On a Redis Cluster the instrument's keys and the account's live in different slots, so a
batch takes two: the instrument steps (market publication and a tentative open-interest
reservation per order, the global kill switch), then the account steps (checked and reserved
in order, so orders of one account in one batch see each other's reservations) and, only
when some tentative reservation turned out unneeded, one to release those.

The response never waits on SQL: decisions reach the database through the bucket streams
written in the account's step. Anything unavailable answers ``DEGRADED_FAIL_CLOSED``; steps
sent whose reply never came (they may have reserved) are voided by the next batch
(``in_doubt``).

Worked out once per order: its lots, its account's profile (the standing and the
jurisdiction verdicts) and its policy version; once per instrument per batch: its market
conditions; once per snapshot: the open-interest cap in lots (``InstrumentTerms``).

Read-your-writes (``core.policy``): the account's step refuses to decide an order whose
stateless stage used older policy versions than announced (``stale``). Those orders are
checked again once the stale part is rebuilt, as are orders judged on a market copy that
was out of date. An order checked again is decided after the batch's other orders.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.conf import settings
from django.db import DatabaseError

from compliance import geoip
from compliance.snapshot import holder as compliance_holder
from core import clock, policy
from core.clock import isoformat_z
from core.group_commit import GroupCommit
from core.policy import SnapshotUnavailable
from core.redis_client import (
    REDIS_ERRORS,
    account_bucket,
    add_wait,
    bucket_key,
    get_hot_redis,
    instrument_key,
    is_cluster,
    lean_pipeline,
)
from core.scripts import run_pipeline, text
from risk.markets.snapshot import InstrumentSnapshot, InstrumentTerms, holder
from risk.markets.store import PUBLICATION_TOKEN
from risk.markets.view import PUBLICATION_FIELDS, view_from_hash, view_from_publication
from risk.pretrade import answers, checks, in_doubt, publications
from risk.pretrade import steps as atomic
from risk.pretrade.answers import fail_closed, fingerprint, render
from risk.pretrade.checks import Order
from risk.pretrade.jurisdiction import BatchVerdicts

__all__ = ["check_one", "check_orders", "fail_closed", "fingerprint", "render"]

logger = logging.getLogger("gatehouse.pretrade")

ATTEMPTS = 8
"""Checks of one order when the policy or its market moved meanwhile; beyond that, fail
closed."""


@dataclass(slots=True)
class _Order:
    """One order on its way through the check."""

    order: Order
    fingerprint: str
    terms: InstrumentTerms | None = None
    lots: int = 0
    facts_seq: int = 0
    open_interest: str = "none"
    reserved_open_interest: bool = False
    market_token: str = "-"  # noqa: S105 (not a secret) one step: the publication the stateless stage used
    global_kill: bool = False  # the global kill switch as the stateless stage saw it
    assessment: checks.Assessment | None = None
    skeleton: dict | None = None
    replay: bytes = b""  # the parts of the answer its record keeps for a repeat


def check_orders(orders: list[tuple[Order, str]], *, now: datetime) -> list[dict]:
    """Decide a batch of (order, fingerprint) in order; see the module docstring."""
    started = time.perf_counter_ns()
    try:
        batch = _Batch(orders, holder.current(), compliance_holder.current(), now, started)
    except (SnapshotUnavailable, DatabaseError) as exc:
        logger.error("pre-trade failing closed: policy snapshot unavailable: %s", exc)
        return [fail_closed(o.order_id, "policy snapshot", None, now, started) for o, _ in orders]
    except REDIS_ERRORS as exc:  # no client: a cluster none of whose nodes answered
        logger.error("pre-trade failing closed: redis unavailable: %s", exc)
        return [fail_closed(o.order_id, "redis", None, now, started) for o, _ in orders]
    try:
        return batch.run()
    except (*REDIS_ERRORS, geoip.GeoIpDatabaseError, OSError) as exc:
        component = "redis" if isinstance(exc, REDIS_ERRORS) else "geoip"
        logger.error("pre-trade failing closed: %s unavailable: %s", component, exc)
        return batch.fail_all(component)
    except (SnapshotUnavailable, DatabaseError) as exc:
        logger.error("pre-trade failing closed: policy snapshot unavailable: %s", exc)
        return batch.fail_all("policy snapshot")


def check_one(order: Order, fingerprint: str) -> dict:
    """One order (``POST /pretrade/check``): through this process's group commit, so checks
    served at the same time share a batch (``core.group_commit``), unless it is turned off.
    ``latency_us`` is then the request's own time, its wait for the batch included."""
    if not settings.GROUP_COMMIT:
        (answer,) = check_orders([(order, fingerprint)], now=clock.now())
        return answer
    started = time.perf_counter_ns()
    answer = _group.submit((order, fingerprint))
    if "latency_us" in answer:
        answer["latency_us"] = (time.perf_counter_ns() - started) // 1000
    return answer


_group: GroupCommit[tuple[Order, str], dict] = GroupCommit(
    lambda orders: check_orders(orders, now=clock.now()),
    lambda: settings.GROUP_COMMIT_US,
)


class _Batch:
    """One batch on its way through the check (see the module docstring)."""

    def __init__(self, orders, snapshot, compliance, now: datetime, started: int) -> None:
        self.items = [_Order(order, print_) for order, print_ in orders]
        self.snapshot: InstrumentSnapshot = snapshot
        self.compliance = compliance
        self.now, self.started = now, started
        self.now_ms = int(now.timestamp() * 1000)
        self.expires_ms = self.now_ms + int(settings.ORDER_TTL_SECONDS * 1000)
        self.window_ms = int(settings.PRETRADE_IDEMPOTENCY_SECONDS * 1000)
        self.evaluated_at = isoformat_z(now)
        self.client = get_hot_redis()
        self.one_step = not is_cluster(self.client)
        self._tokens: dict[str, str] = {}  # one step: symbol -> the publication used
        self.verdicts = BatchVerdicts(compliance, now)
        self._markets: dict[str, checks.MarketConditions] = {}
        self.unconfirmed = False
        self.unanswered: dict[int, dict] = {}  # index -> the answer of a step sent, unanswered

    def fail_all(self, component: str) -> list[dict]:
        return [
            self.unanswered.get(index)
            or fail_closed(item.order.order_id, component, None, self.now, self.started)
            for index, item in enumerate(self.items)
        ]

    def run(self) -> list[dict]:
        if in_doubt.waiting():
            in_doubt.settle(self.client, self.now_ms)
        answers_at: dict[int, dict] = {}
        pending = list(range(len(self.items)))
        for _ in range(ATTEMPTS):
            if self.one_step:
                self._market_round(pending)
            else:
                self._instrument_round(pending)
            results = self._account_round(pending)
            stale, moved, unconfirmed = [], [], []
            for index, result in zip(pending, results, strict=True):
                if result.status in ("stale", "unpublished"):
                    stale.append((index, result))
                elif result.status == "market":
                    moved.append((index, result))
                elif self.unconfirmed and result.status == "new" and result.decision == "accept":
                    unconfirmed.append(index)
                else:
                    answers_at[index] = self._final(self.items[index], result)
            if unconfirmed:
                answers_at.update(self._void(unconfirmed))
            if not stale and not moved:
                break
            if stale:
                self._catch_up(stale)
            if moved:
                self._market_moved(moved)
            pending = sorted(index for index, _ in stale + moved)
        else:
            for index in pending:
                answers_at[index] = fail_closed(
                    self.items[index].order.order_id,
                    "policy snapshot",
                    None,
                    self.now,
                    self.started,
                )
        self._release([item for item in self.items if item.reserved_open_interest])
        return [answers_at[index] for index in range(len(self.items))]

    # --- one step: markets from this process's copies, then the stateless stage ---------

    def _market_round(self, indices: list[int]) -> None:
        """Every order's market from this process's copy of its publication (Redis is asked
        only for those it has no usable copy of), then every order's stateless stage."""
        items = [self.items[index] for index in indices]
        for item in items:
            item.terms = self.snapshot.terms(item.order.instrument)
            item.lots = 0 if item.terms is None else item.terms.lots(item.order.quantity)
        unknown = []
        for symbol in {item.terms.symbol for item in items if item.terms is not None}:
            if symbol in self._markets:
                continue
            found = publications.conditions(
                symbol, self.snapshot.definitions[symbol], self.config, self.now
            )
            if found is None:
                unknown.append(symbol)
            else:
                self._tokens[symbol], self._markets[symbol] = found
        if unknown:
            self._fetch_markets(unknown)
        for item in items:
            item.market_token = "-" if item.terms is None else self._tokens[item.terms.symbol]
            bucket = account_bucket(item.order.account_id)
            self._assess(item, publications.global_kill(bucket))

    def _fetch_markets(self, symbols: list[str]) -> None:
        """The publications of ``symbols`` (kept as this process's copies) in one round trip;
        the whole hash of those whose publication no longer describes ``now`` in one more."""
        names = (*PUBLICATION_FIELDS, PUBLICATION_TOKEN)
        pipe = lean_pipeline(self.client)
        for symbol in symbols:
            pipe.execute_command("HMGET", instrument_key(symbol, "market"), *names)
        due = []
        for symbol, values in zip(symbols, pipe.execute(), strict=True):
            fields = {
                name: value.decode()
                for name, value in zip(names, values, strict=True)
                if value is not None
            }
            token = fields.pop(PUBLICATION_TOKEN, publications.NO_TOKEN)
            publications.remember(symbol, token, fields)
            found = publications.conditions(
                symbol, self.snapshot.definitions[symbol], self.config, self.now
            )
            if found is None:
                due.append(symbol)
            else:
                self._tokens[symbol], self._markets[symbol] = found
        if not due:
            return
        pipe = self.client.pipeline(transaction=False)
        for symbol in due:
            pipe.hgetall(instrument_key(symbol, "market"))
        for symbol, raw in zip(due, pipe.execute(), strict=True):
            fields = {key.decode(): value.decode() for key, value in raw.items()}
            self._tokens[symbol] = fields.get(PUBLICATION_TOKEN, publications.NO_TOKEN)
            definition = self.snapshot.definitions[symbol]
            view = view_from_hash(symbol, fields, definition, self.now, self.config)
            self._markets[symbol] = checks.MarketConditions.of(view)

    def _market_moved(self, moved: list) -> None:
        """Orders whose step found the market or the global kill switch newer than their
        stateless stage used: keep what the step answered, judge them again."""
        for index, result in moved:
            token, killed, *pairs = (text(value) for value in result.announced)
            item = self.items[index]
            publications.saw_global_kill(account_bucket(item.order.account_id), killed == "1")
            if item.terms is not None:
                symbol = item.terms.symbol
                fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
                publications.remember(symbol, token, fields)
                self._markets.pop(symbol, None)

    # --- two steps (a cluster), round trip 1: instruments, then the stateless stage -----

    def _instrument_round(self, indices: list[int]) -> None:
        """The instrument steps and the global kill switch, then every order's stateless
        stage. Reservations left from an earlier attempt are released first, in the same
        round trip."""
        items = [self.items[index] for index in indices]
        leftovers = [item for item in items if item.reserved_open_interest]
        for item in items:
            item.terms = self.snapshot.terms(item.order.instrument)
            item.lots = 0 if item.terms is None else item.terms.lots(item.order.quantity)
            item.reserved_open_interest = False
        buckets = sorted({account_bucket(item.order.account_id) for item in items})
        replies = run_pipeline(
            self.client, lambda pipe: self._steps(pipe, items, leftovers, buckets)
        )
        replies = replies[len(leftovers) :]
        killed = {b for b, on in zip(buckets, replies[-len(buckets) :], strict=True) if on}
        publications = {}
        for item, (verdict, values) in zip(
            (item for item in items if item.terms is not None),
            replies[: -len(buckets)],
            strict=True,
        ):
            item.open_interest = text(verdict)
            item.reserved_open_interest = item.open_interest == "ok"
            if values:
                publications[item.terms.symbol] = values
        self._read_markets(publications)
        for item in items:
            self._assess(item, account_bucket(item.order.account_id) in killed)

    def _steps(self, pipe, items: list[_Order], leftovers: list[_Order], buckets) -> None:
        release = atomic.script("release_open_interest")
        step = atomic.script("instrument_step")
        for item in leftovers:
            self._release_one(release, item, pipe)
        # The market publication is read once per instrument per batch: every step runs in
        # the same pipeline, so all would read the same fields anyway.
        seen = set(self._markets)
        for item in items:
            if item.terms is None:
                continue
            symbol = item.terms.symbol
            fields = () if symbol in seen else PUBLICATION_FIELDS
            seen.add(symbol)
            step(
                keys=atomic.instrument_keys(symbol),
                args=[
                    atomic.reservation_id(item.order.account_id, item.order.order_id),
                    0 if item.order.reduce_only else item.lots,
                    item.terms.open_interest_cap_lots,
                    self.now_ms,
                    self.expires_ms,
                    *fields,
                ],
                client=pipe,
            )
        for bucket in buckets:  # the global kill switch, as copied into each account bucket
            pipe.get(bucket_key(bucket, "kill"))

    def _read_markets(self, publications: dict[str, list]) -> None:
        """Each instrument's market at ``now``: from its stored publication while exact;
        the whole hashes of the others in one more pipelined round trip."""
        due = {}
        for symbol, values in publications.items():
            fields = {
                name: value.decode()
                for name, value in zip(PUBLICATION_FIELDS, values, strict=True)
                if value is not None
            }
            definition = self.snapshot.definitions[symbol]
            view = view_from_publication(symbol, fields, definition, self.now, self.config)
            if view is None:
                due[symbol] = definition
            else:
                self._markets[symbol] = checks.MarketConditions.of(view)
        if not due:
            return
        pipe = self.client.pipeline(transaction=False)
        for symbol in due:
            pipe.hgetall(instrument_key(symbol, "market"))
        for (symbol, definition), raw in zip(due.items(), pipe.execute(), strict=True):
            fields = {key.decode(): value.decode() for key, value in raw.items()}
            view = view_from_hash(symbol, fields, definition, self.now, self.config)
            self._markets[symbol] = checks.MarketConditions.of(view)

    @property
    def config(self):
        return self.snapshot.config

    def _assess(self, item: _Order, global_kill: bool) -> None:
        """The stateless stage of one order, and the skeleton its answers render from."""
        order, terms = item.order, item.terms
        item.global_kill = global_kill
        profile = self.compliance.profiles.get(order.account_id)
        access = None
        if terms is not None:
            access = self.verdicts.of(order, profile, terms.product_class)
        item.assessment = checks.assess(
            order,
            terms=terms,
            account=checks.AccountStanding.of(profile),
            market=None if terms is None else self._markets[terms.symbol],
            access=access,
            global_kill=global_kill,
            lots=item.lots,
        )
        item.facts_seq = self.compliance.profiles.seq(order.account_id)
        policy_version = (
            f"{self.compliance.rulebook.version}.{self.snapshot.version}.a{item.facts_seq}"
        )
        item.skeleton = answers.skeleton(
            order, item.fingerprint, item.assessment, policy_version, self.evaluated_at
        )

    # --- the account's steps, in order (one step: the only round trip) -------------------

    def _account_round(self, indices: list[int]) -> list[atomic.AccountStepResult]:
        one_step = self.one_step
        step = atomic.script("order_step" if one_step else "account_step")
        items = [self.items[index] for index in indices]
        rules = self.compliance.versions[policy.RULES]
        instruments = self.snapshot.versions[policy.INSTRUMENTS]
        sessions = self.snapshot.versions[policy.SESSIONS]

        for item in items:
            item.replay = orjson.dumps({name: item.skeleton[name] for name in answers.REPLAYED})

        def build(pipe):
            for item in items:
                a, order = item.assessment, item.order
                if one_step:
                    keys = atomic.order_step_keys(
                        order.account_id, order.order_id, order.instrument
                    )
                    terms = item.terms
                    open_interest = 0 if terms is None else terms.open_interest_cap_lots
                    market = (item.market_token, "1" if item.global_kill else "0")
                else:
                    keys = atomic.account_step_keys(order.account_id, order.order_id)
                    open_interest, market = item.open_interest, ()
                step(
                    keys=keys,
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
                        open_interest,
                        self.window_ms,
                        order.account_id,
                        atomic.account_prefix(order.account_id),
                        rules,
                        instruments,
                        sessions,
                        item.facts_seq,
                        item.replay,
                        *market,
                    ],
                    client=pipe,
                )
            add_wait(
                pipe,
                self.client,
                [atomic.risk_key(item.order.account_id) for item in items],
                settings.REDIS_MIN_REPLICAS,
                settings.REDIS_WAIT_TIMEOUT_MS,
            )

        try:
            replies = run_pipeline(self.client, build)
        except REDIS_ERRORS:
            self._unanswered(indices)
            raise
        confirmed = replies[len(items) :]
        self.unconfirmed = any(int(n) < settings.REDIS_MIN_REPLICAS for n in confirmed)
        return [atomic.AccountStepResult.parse(raw) for raw in replies[: len(items)]]

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
        self.verdicts.clear(self.compliance)

    def _final(self, item: _Order, result: atomic.AccountStepResult) -> dict:
        if result.status == "new" and result.decision == "accept" and not result.reduces:
            item.reserved_open_interest = False  # the order holds it now
        if result.status == "unsynced":
            return fail_closed(
                item.order.order_id,
                "risk state (resync pending)",
                item.skeleton["policy_version"],
                self.now,
                self.started,
            )
        if result.status == "conflict":
            return answers.idempotency_conflict(item.order.order_id)
        skeleton = orjson.loads(result.record) if result.status == "duplicate" else item.skeleton
        return render(skeleton, result.decision, result.codes, self.started)

    def _degraded(self, item: _Order, component: str) -> tuple[dict, dict]:
        """The ``DEGRADED_FAIL_CLOSED`` answer for an order whose step may have accepted it,
        and the decision record that says so."""
        answer = fail_closed(
            item.order.order_id,
            component,
            item.skeleton["policy_version"],
            self.now,
            self.started,
        )
        answer["evaluated_at"] = self.evaluated_at
        return answer, {**item.skeleton, "reasons": answer["reasons"], "unless_reducing": []}

    def _unanswered(self, indices: list[int]) -> None:
        """The account steps were sent but their replies never came: each may have been
        applied. Answered ``DEGRADED_FAIL_CLOSED`` and voided by a later batch (``in_doubt``)."""
        waiting = []
        for index in indices:
            item = self.items[index]
            self.unanswered[index], record = self._degraded(item, "redis")
            waiting.append(self._waiting(item, record))
        in_doubt.note(waiting)

    def _waiting(self, item: _Order, record: dict) -> in_doubt.Unanswered:
        item.reserved_open_interest = False  # the void releases it
        return in_doubt.Unanswered(
            account_id=item.order.account_id,
            order_id=item.order.order_id,
            instrument=item.order.instrument,
            fingerprint=item.fingerprint,
            record=orjson.dumps(record),
            replay=orjson.dumps({name: record[name] for name in answers.REPLAYED}),
            attempt=item.replay,
            window_end_ms=self.now_ms + self.window_ms,
        )

    def _void(self, indices: list[int]) -> dict[int, dict]:
        """Accepts the replicas did not confirm in time (``REDIS_MIN_REPLICAS``): answered
        ``DEGRADED_FAIL_CLOSED``, their reservations released and their records turned into
        that reject (``void_step``), so nothing a failover could lose was acknowledged. If
        Redis cannot take the void now, a later batch does (``in_doubt``)."""
        void, release = atomic.script("void_step"), atomic.script("release_open_interest")
        found, waiting = {}, {}
        for index in indices:
            found[index], record = self._degraded(self.items[index], "redis replicas")
            waiting[index] = self._waiting(self.items[index], record)

        def build(pipe):
            for index in indices:
                waiting[index].queue_void(void, pipe, self.now_ms, attempt=b"")
                self._release_one(release, self.items[index], pipe)

        try:
            run_pipeline(self.client, build)
        except REDIS_ERRORS as exc:
            logger.error("pre-trade: unconfirmed accepts not voided yet: %s", exc)
            in_doubt.note(list(waiting.values()))
        return found

    # --- round trip 3 (only if needed): release open interest nobody needs ---------------

    def _release(self, items: list[_Order]) -> None:
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
    def _release_one(release, item: _Order, pipe) -> None:
        release(
            keys=atomic.open_interest_keys(item.order.instrument),
            args=[atomic.reservation_id(item.order.account_id, item.order.order_id), -1, 0],
            client=pipe,
        )
