"""Kill switches: stop all trading, one account's, or one instrument's, at once.

RULES.md §3 (SEC Rule 15c3-5) lists kill switches among the controls a market-access gateway
keeps under its direct control. The durable record is ``KillSwitch`` (current position) with
``KillSwitchEvent`` (history) and the audit chain; what the pre-trade check reads is Redis,
written as the last step of the same transaction so an engagement is in force when the
request answers:

- ``global``: key ``gh:global:kill`` exists (its value: the instant it was engaged), and so
  does a copy in every account bucket, ``gh:{acct:<b>}:kill``: a check reads its own
  bucket's copy, so on a Redis Cluster no single node is visited by every check. All copies
  are written (one pipeline) before the engagement answers.
- ``account``: key ``account_key(id, "kill")`` exists -- in the account's slot, so the atomic
  pre-trade step reads it in the same Lua call.
- ``instrument``: field ``kill_status`` is ``halted`` in ``gh:{inst:<SYMBOL>}:market``; the
  market then publishes ``halted`` with reason ``KILL_SWITCH``.

If Redis is down the engagement fails (503) and nothing is recorded; the pre-trade check fails
closed meanwhile. ``sync_to_redis`` rewrites every switch from the database (the sweeper does
so once a minute), so a flushed Redis cannot silently release one.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction

from core import audit, clock
from core.errors import ValidationFailed
from core.redis_client import ACCOUNT_BUCKETS, account_key, bucket_key, get_redis, global_key
from risk.markets.live import live_controller
from risk.markets.ticks import format_instant
from risk.models import KILL_SWITCH_SCOPES, Instrument, KillSwitch, KillSwitchEvent

GLOBAL = "global"
ACCOUNT = "account"
INSTRUMENT = "instrument"
GLOBAL_KILL_KEY = global_key("kill")
_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")


def account_kill_key(account_id: str) -> str:
    return account_key(account_id, "kill")


def bucket_kill_key(bucket: int) -> str:
    """The global switch's copy in one account bucket (what the pre-trade check reads)."""
    return bucket_key(bucket, "kill")


GLOBAL_KILL_KEYS = (GLOBAL_KILL_KEY, *(bucket_kill_key(b) for b in range(ACCOUNT_BUCKETS)))


def _target(scope: str, target: str) -> str:
    """Field errors for a switch that names nothing real."""
    if scope not in KILL_SWITCH_SCOPES:
        raise ValidationFailed(
            f"scope: must be one of {', '.join(KILL_SWITCH_SCOPES)}",
            fields={"scope": [f"Must be one of {', '.join(KILL_SWITCH_SCOPES)}."]},
        )
    target = (target or "").strip()
    if scope == GLOBAL:
        if target not in ("", GLOBAL, "*"):
            raise ValidationFailed(
                "target: the global switch has no target",
                fields={"target": ['Leave it empty (or "global") for the global switch.']},
            )
        return ""
    if not _TARGET.match(target):
        raise ValidationFailed(
            f"target: required for scope {scope}",
            fields={"target": [f"An {scope} id (letters, digits, . _ : @ -) is required."]},
        )
    if scope == INSTRUMENT and not Instrument.objects.filter(symbol=target).exists():
        raise ValidationFailed(
            f"target: no instrument {target}", fields={"target": [f"No instrument {target}."]}
        )
    return target


def _mirror(scope: str, target: str, engaged: bool, now: datetime, reason: str) -> None:
    if scope == INSTRUMENT:
        live_controller().set_kill_switch(target, engaged, now, reason or None)
        return
    keys = GLOBAL_KILL_KEYS if scope == GLOBAL else (account_kill_key(target),)
    pipe = get_redis().pipeline(transaction=False)
    for key in keys:  # one command per key: a cluster spreads them over its nodes
        if engaged:
            pipe.set(key, format_instant(now))
        else:
            pipe.delete(key)
    pipe.execute()


def set_kill_switch(
    *, scope: str, target: str, engaged: bool, actor: str, reason: str = ""
) -> tuple[KillSwitch, bool]:
    """Engage or release a switch; returns (switch, changed). Setting it to the position it
    already has records nothing new but rewrites Redis (a repair, never a release)."""
    target = _target(scope, target)
    reason = reason.strip()
    with transaction.atomic():
        now = clock.now()
        row = KillSwitch.objects.select_for_update().filter(scope=scope, target=target).first()
        changed = row is None or row.engaged != engaged
        if changed:
            before = None if row is None else {"engaged": row.engaged, "reason": row.reason}
            if row is None:
                row = KillSwitch(scope=scope, target=target, version=0)
            row.engaged, row.reason = engaged, reason
            row.version += 1
            row.updated_at, row.updated_by = now, actor
            row.save()
            KillSwitchEvent.objects.create(
                scope=scope, target=target, engaged=engaged, reason=reason, at=now, actor=actor
            )
            audit.record(
                actor=actor,
                action="kill_switch.engage" if engaged else "kill_switch.release",
                object_type="kill_switch",
                object_id=f"{scope}:{target}" if target else scope,
                before=before,
                after={"engaged": engaged, "reason": reason},
            )
        _mirror(scope, target, engaged, now, reason)
    return row, changed


def engage(*, scope: str, target: str, actor: str, reason: str = "") -> KillSwitch:
    switch, _ = set_kill_switch(
        scope=scope, target=target, engaged=True, actor=actor, reason=reason
    )
    return switch


def release(*, scope: str, target: str, actor: str, reason: str = "") -> KillSwitch:
    switch, _ = set_kill_switch(
        scope=scope, target=target, engaged=False, actor=actor, reason=reason
    )
    return switch


def engaged_scopes(*, account_id: str | None = None, symbol: str | None = None) -> list[str]:
    """Which switches stop an order of ``account_id`` on ``symbol`` right now, read from
    Redis (one pipelined round trip): any of ``global``, ``account``, ``instrument``."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.exists(GLOBAL_KILL_KEY)
    pipe.exists(account_kill_key(account_id) if account_id else GLOBAL_KILL_KEY)
    if symbol:
        from risk.markets.store import RedisMarketStore

        pipe.hget(RedisMarketStore.hash_key(symbol), "kill_status")
    answers = pipe.execute()
    scopes = []
    if answers[0]:
        scopes.append(GLOBAL)
    if account_id and answers[1]:
        scopes.append(ACCOUNT)
    if symbol and answers[2] == b"halted":
        scopes.append(INSTRUMENT)
    return scopes


def sync_to_redis(now: datetime | None = None) -> int:
    """Rewrite every switch's position from the database into Redis; returns how many."""
    now = now or clock.now()
    rows = list(KillSwitch.objects.all())
    for row in rows:
        _mirror(row.scope, row.target, row.engaged, now, row.reason)
    return len(rows)
