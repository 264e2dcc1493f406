"""The access check at the edge: snapshot + GeoIP + the pure decision + the durable record.

One Redis round trip in the common case: the Lua step ``record_access`` confirms that the
rulebook and the account's facts the decision used are as new as every acknowledged change
(``core.policy``) and appends the record to the bucket's stream. When they are not, the
stale part is reloaded and the request decided again (read-your-writes).

Fail closed (DESIGN.md): when the snapshot, GeoIP or the decision log is unavailable the
answer is ``deny`` with ``DEGRADED_FAIL_CLOSED`` — never an allow nobody can account for — and
so is a decision that raises (say, on facts no longer valid): the gate never answers a 500.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from pathlib import Path

import orjson
from django.conf import settings
from django.db import DatabaseError

from compliance import decision_log, geoip
from compliance.access import decide
from compliance.snapshot import ComplianceSnapshot, holder
from core import policy
from core.clock import isoformat_z
from core.group_commit import GroupCommit
from core.policy import SnapshotUnavailable
from core.redis_client import REDIS_ERRORS, add_wait, get_hot_redis
from core.scripts import Script, run_pipeline, text

logger = logging.getLogger("gatehouse.access")

_record_access = Script(Path(__file__).resolve().parent / "lua" / "record_access.lua")
ATTEMPTS = 4
"""Decisions made again when the policy moved meanwhile; beyond that, fail closed."""


def fail_closed(component: str, error: Exception | str) -> dict:
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


def _decide(snapshot: ComplianceSnapshot, account_id, ip_facts, product_class, action, now):
    profile = snapshot.profiles.get(account_id) if account_id else None
    decision = decide(
        snapshot.rulebook,
        profile,
        ip_facts,
        product_class,
        action,
        now,
        snapshot.defaults,
        anonymous=not account_id,
    )
    return profile, decision.as_contract()


def check_access(
    *,
    account_id: str | None,
    client_ip: str | None,
    product_class: str,
    action: str,
    requested_by: str,
    now: datetime,
) -> dict:
    """Decide, record and answer one access check in the contract's shape.

    ``client_ip=None`` (a custody movement that gave no address) is decided as an address
    with no location (``compliance.access.decide``)."""
    try:
        snapshot = holder.current()
        ip_facts = None
        if client_ip is not None:
            locator = geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB)
            ip_facts = locator.lookup(client_ip)
    except (SnapshotUnavailable, DatabaseError) as exc:
        return fail_closed("policy snapshot", exc)
    except (OSError, geoip.GeoIpDatabaseError) as exc:
        return fail_closed("geoip", exc)
    decision_id = uuid.uuid4().hex
    bucket = decision_log.bucket_of(account_id, decision_id)
    keys = [policy.policy_key(bucket), decision_log.stream(bucket)]
    account_field = policy.account_field(account_id) if account_id else ""
    try:
        client = get_hot_redis()
    except REDIS_ERRORS as exc:
        return fail_closed("decision log", exc)
    for _ in range(ATTEMPTS):
        try:
            profile, answer = _decide(snapshot, account_id, ip_facts, product_class, action, now)
        except Exception as exc:  # never a 500 from the gate (issue 14)
            logger.exception("access decision failed for %s", account_id)
            return fail_closed("decision", exc)
        answer["policy_version"] = snapshot.policy_version(account_id)
        record = _record(decision_id, account_id, client_ip, product_class, action, now)
        record.update(
            effect=answer["effect"],
            reasons=answer["reasons"],
            signals={
                "ip": None
                if ip_facts is None
                else {
                    "country": ip_facts.country,
                    "subdivision": ip_facts.subdivision,
                    "anonymizer": ip_facts.is_anonymizer,
                },
                "profile_known": profile is not None,
            },
            policy_version=answer["policy_version"],
            requested_by=requested_by,
        )
        try:
            reply, confirmed = _append(
                keys,
                [
                    snapshot.versions[policy.RULES],
                    account_field,
                    snapshot.profiles.seq(account_id),
                    orjson.dumps(record),
                ],
            )
            status = text(reply[0])
            if status == "ok" and not confirmed:
                return _void(client, keys[1], record)
            if status == "ok":
                answer["decision_id"] = decision_id
                return answer
            snapshot = _catch_up(snapshot, status, reply, account_id)
        except REDIS_ERRORS as exc:
            return fail_closed("decision log", exc)
        except (SnapshotUnavailable, DatabaseError) as exc:
            return fail_closed("policy snapshot", exc)
    return fail_closed("policy snapshot", "the policy kept changing while deciding")


def _append(keys: list[str], args: list) -> tuple[list, bool]:
    """The recording step, and with ``REDIS_MIN_REPLICAS`` a ``WAIT`` in the same pipeline:
    (the step's reply, whether enough replicas hold the record). Through this process's
    group commit, so access checks served at the same time share one pipeline."""
    if settings.GROUP_COMMIT:
        return _group.submit((keys, args))
    (appended,) = _append_all([(keys, args)])
    return appended


def _append_all(steps: list[tuple[list[str], list]]) -> list[tuple[list, bool]]:
    """Several recording steps in one pipeline (and one ``WAIT`` per primary written)."""
    client = get_hot_redis()
    replicas = settings.REDIS_MIN_REPLICAS

    def build(pipe) -> None:
        for keys, args in steps:
            _record_access(keys=keys, args=args, client=pipe)
        written = [key for keys, _ in steps for key in keys]
        add_wait(pipe, client, written, replicas, settings.REDIS_WAIT_TIMEOUT_MS)

    replies = run_pipeline(client, build)
    confirmed = all(int(count) >= replicas for count in replies[len(steps) :])
    return [(reply, confirmed) for reply in replies[: len(steps)]]


_group: GroupCommit[tuple[list[str], list], tuple[list, bool]] = GroupCommit(
    _append_all, lambda: settings.GROUP_COMMIT_US
)


def _void(client, stream: str, record: dict) -> dict:
    """A decision the replicas did not confirm: answered ``DEGRADED_FAIL_CLOSED``, and the
    stream gets the same decision as that answer (``void``), which the drain stores over the
    first record (``decision_log``): the log says what the caller was told."""
    answer = fail_closed("decision log replicas", "the replicas did not confirm the record")
    voided = {**record, "effect": answer["effect"], "reasons": answer["reasons"]}
    try:
        client.xadd(stream, {"d": orjson.dumps(voided), "void": "1"})
    except REDIS_ERRORS as exc:
        logger.error("access decision %s not voided: %s", record["decision_id"], exc)
    return answer


def _catch_up(snapshot, status, reply, account_id) -> ComplianceSnapshot:
    """Bring the snapshot up to what the Lua step announced (or restore the announcements
    of a Redis that lost them) before deciding again."""
    if status == "unpublished":
        if not policy.restore_if_needed():
            raise SnapshotUnavailable("policy announcements are being restored")
        return snapshot
    announced = policy.parse_announced(reply[1])
    if "r" in announced:
        snapshot = holder.at_least({policy.RULES: announced["r"]})
    if account_id and policy.account_field(account_id) in announced:
        snapshot.profiles.refresh(account_id, announced[policy.account_field(account_id)])
    return snapshot


def _record(decision_id, account_id, client_ip, product_class, action, now) -> dict:
    return {
        "decision_id": decision_id,
        "decided_at": isoformat_z(now),
        "account_id": account_id,
        "client_ip": client_ip,
        "product_class": product_class,
        "action": action,
        "recorded_ns": time.time_ns(),
    }
