"""Rebuild the pre-trade check's live state in Redis from the database, after Redis lost
data (or on demand): positions from fills, open reservations from accepted decisions that
were neither filled, cancelled nor expired, idempotency records from every decision, open
interest from both, collateral from the custody ledger, and the policy announcements
(``core.policy.restore``). Order records get the lifetimes the account step gives them:
records of orders whose idempotency window has passed are not written back at all.

While it runs every bucket's ``synced`` flag is down, so the account step answers
``unsynced`` and the check fails closed (``DEGRADED_FAIL_CLOSED``); the flags go up only
when everything is back. Used margin is the ledger's margin holds of each position (exact:
they hold what the fills charged); a position without holds gets a conservative estimate at
its last fill price and the instrument's regular leverage.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING

import orjson
from django.conf import settings

from core import policy
from core.clock import isoformat_z
from core.redis_client import ACCOUNT_BUCKETS, account_bucket, bucket_key, get_redis
from risk.models import Instrument, OrderCancel, OrderFill, PretradeDecision
from risk.positions import collateral
from risk.pretrade import decisions as decision_drain
from risk.pretrade import steps
from risk.pretrade.checks import QUOTE_SCALE

logger = logging.getLogger("gatehouse.resync")

_STATE_SUFFIXES = (":risk", ":open", ":expiry")
_STATE_PARTS = (":o:", ":f:")
_OPEN_GRACE = timedelta(hours=1)  # as SWEEP_GRACE_MS in risk/lua/_orders.lua


def synced_keys() -> list[str]:
    return [bucket_key(bucket, "synced") for bucket in range(ACCOUNT_BUCKETS)]


def is_synced() -> bool:
    # A pipeline of GETs, not MGET: the markers are one per bucket, in every slot of a
    # cluster (one round trip per node, in parallel; one in all on a standalone server).
    pipe = get_redis().pipeline(transaction=False)
    for key in synced_keys():
        pipe.get(key)
    return all(pipe.execute())


def mark_synced() -> None:
    pipe = get_redis().pipeline(transaction=False)
    for key in synced_keys():
        pipe.set(key, "1")
    pipe.execute()


@dataclass
class Summary:
    decisions: int = 0
    open_orders: int = 0
    fills: int = 0
    accounts: int = 0

    def __str__(self) -> str:
        return (
            f"{self.decisions} decisions, {self.open_orders} open orders, "
            f"{self.fills} fills, {self.accounts} accounts"
        )


def _wipe(client) -> None:
    client.delete(*synced_keys())
    for pattern in ("gh:{acct:*}:*", "gh:{inst:*}:oi*"):
        batch = []
        for key in client.scan_iter(match=pattern, count=1000):
            text = key.decode()
            state = text.endswith(_STATE_SUFFIXES) or any(part in text for part in _STATE_PARTS)
            if pattern.endswith(":oi*") or state:
                batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)


@dataclass
class _Fills:
    """What the fills say: lots filled per order, signed position per instrument and the
    last fill price per position."""

    filled: defaultdict = field(default_factory=lambda: defaultdict(int))
    positions: defaultdict = field(default_factory=lambda: defaultdict(int))
    last_price: dict = field(default_factory=dict)


def resync(*, now: datetime) -> Summary:
    client = get_redis()
    client.delete(*synced_keys())
    decision_drain.drain(max_seconds=300, claim_idle_ms=0)
    _wipe(client)
    summary = Summary()
    pipe = client.pipeline(transaction=False)
    fills = _restore_fills(pipe, now=now, summary=summary)
    open_interest: defaultdict = defaultdict(int)  # (instrument, "reserved"|"filled") -> lots
    accounts = _restore_orders(pipe, fills, open_interest, now=now, summary=summary)
    accounts |= _restore_positions(pipe, fills, open_interest)
    for (symbol, kind), lots in open_interest.items():
        pipe.hincrby(steps.open_interest_keys(symbol)[0], kind, lots)
    pipe.execute()
    collateral.sync_all(client=client)
    policy.restore()
    summary.accounts = len(accounts)
    mark_synced()
    logger.info("risk state resynchronised: %s", summary)
    return summary


def _restore_fills(pipe, *, now: datetime, summary: Summary) -> _Fills:
    """Sum the fills, and write back the idempotency records of those inside the window."""
    window = timedelta(seconds=settings.PRETRADE_IDEMPOTENCY_SECONDS)
    fills = _Fills()
    for fill in OrderFill.objects.order_by("filled_at", "pk").iterator(chunk_size=2000):
        sign = 1 if fill.side == "buy" else -1
        fills.filled[fill.account_id, fill.order_id] += fill.lots
        fills.positions[fill.account_id, fill.instrument] += sign * fill.lots
        fills.last_price[fill.account_id, fill.instrument] = fill.price
        if fill.filled_at + window > now:
            pipe.set(
                steps.fill_key(fill.account_id, fill.fill_id),
                orjson.dumps(
                    {
                        "fp": f"{fill.order_id}:{fill.quantity}:{fill.price}",
                        "old": "0",
                        "new": "0",
                        "left": "0",
                        "inst": fill.instrument,
                    }
                ),
                px=_ms(fill.filled_at + window) - _ms(now),
            )
        summary.fills += 1
    return fills


def _order_state(row, done: int, cancelled: set, *, expires: datetime, now: datetime):
    """An order's state from its decision, its fills and its cancel: (state, open lots,
    margin left reserved)."""
    if row.decision != "accept":
        return "rejected", 0, 0
    if (row.account_id, row.order_id) in cancelled:
        return "cancelled", 0, 0
    if done >= row.lots:
        return "filled", 0, 0
    if expires <= now:
        return "expired", 0, 0
    open_lots = row.lots - done
    margin_left = row.margin_micro * open_lots // row.lots if not row.reduces else 0
    return "open", open_lots, margin_left


def _restore_orders(pipe, fills: _Fills, open_interest, *, now: datetime, summary) -> set:
    """Write back each decision's order record (for as long as the account step would keep
    it) and, for open orders, their reservations and index entries; returns the accounts."""
    ttl = timedelta(seconds=settings.ORDER_TTL_SECONDS)
    window = timedelta(seconds=settings.PRETRADE_IDEMPOTENCY_SECONDS)
    cancelled = set(OrderCancel.objects.values_list("account_id", "order_id"))
    accounts = set()
    for row in PretradeDecision.objects.order_by("evaluated_at").iterator(chunk_size=2000):
        accounts.add(row.account_id)
        done = fills.filled[row.account_id, row.order_id]
        expires = row.evaluated_at + ttl
        state, open_lots, margin_left = _order_state(row, done, cancelled, expires=expires, now=now)
        answer = {
            "order_id": row.order_id,
            "reasons": row.reasons,
            "unless_reducing": [],
            "reservation": row.reservation,
            "policy_version": row.policy_version,
            "evaluated_at": isoformat_z(row.evaluated_at),
        }
        idem = row.evaluated_at + window
        lifetime = max(idem, expires + _OPEN_GRACE) if state == "open" else idem
        if lifetime > now:
            pipe.set(
                steps.order_key(row.account_id, row.order_id),
                orjson.dumps(
                    {
                        "fp": row.fingerprint,
                        "decision": row.decision,
                        "codes": "",
                        "reduces": int(row.reduces),
                        "record": orjson.dumps(answer).decode(),
                        "inst": row.instrument,
                        "side": row.side,
                        "lots": str(row.lots),
                        "open_lots": str(open_lots),
                        "margin_left": str(margin_left),
                        "filled_lots": str(done),
                        "state": state,
                        "expires": str(_ms(expires)),
                        "idem": str(_ms(idem)),
                    }
                ),
                px=_ms(lifetime) - _ms(now),
            )
        summary.decisions += 1
        if state == "open":
            _restore_open_order(pipe, row, open_lots, margin_left, _ms(expires), open_interest)
            summary.open_orders += 1
        if len(pipe) > 5000:
            pipe.execute()
    return accounts


def _restore_open_order(pipe, row, open_lots, margin_left, expires_ms, open_interest) -> None:
    risk_key = steps.risk_key(row.account_id)
    side_field = ("rb:" if row.side == "buy" else "rs:") + row.instrument
    pipe.hincrby(risk_key, side_field, open_lots)
    pipe.hincrby(risk_key, "m_res", margin_left)
    pipe.zadd(steps.open_orders_key(row.account_id), {row.order_id: expires_ms})
    member = f"{row.account_id}|{row.order_id}"
    pipe.zadd(steps.expiry_key(account_bucket(row.account_id)), {member: expires_ms})
    if not row.reduces and not row.reduce_only:
        reservation = steps.reservation_id(row.account_id, row.order_id)
        oi, oi_expiry = steps.open_interest_keys(row.instrument)
        pipe.hset(oi, f"r:{reservation}", open_lots)
        pipe.zadd(oi_expiry, {reservation: expires_ms})
        open_interest[row.instrument, "reserved"] += open_lots


def _restore_positions(pipe, fills: _Fills, open_interest) -> set:
    """Positions and their used margin (the ledger's holds, else an estimate at the last
    fill price and regular leverage); returns the accounts that hold one."""
    instruments = {row.symbol: row for row in Instrument.objects.all()}
    used = defaultdict(int)
    holds = margin_ledger_holds()
    for (account_id, symbol), lots in fills.positions.items():
        risk_key = steps.risk_key(account_id)
        pipe.hset(risk_key, f"p:{symbol}", lots)
        open_interest[symbol, "filled"] += abs(lots)
        instrument = instruments.get(symbol)
        if (account_id, symbol) in holds and lots:
            micro = holds[account_id, symbol]  # exact: the ledger holds what the fills charged
            pipe.hset(risk_key, f"mu:{symbol}", micro)
            used[account_id] += micro
        elif instrument is not None and lots:
            notional = abs(lots) * instrument.lot_size * fills.last_price[account_id, symbol]
            margin = notional / instrument.max_leverage * QUOTE_SCALE
            micro = int(margin.to_integral_value(ROUND_CEILING))
            pipe.hset(risk_key, f"mu:{symbol}", micro)
            used[account_id] += micro
    for account_id, micro in used.items():
        pipe.hset(steps.risk_key(account_id), "m_used", micro)
    return {account_id for account_id, _ in fills.positions}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def margin_ledger_holds() -> dict[tuple[str, str], int]:
    """The ledger's margin holds per (account, instrument), in micro-units."""
    from custody.selectors import margin_holds
    from risk.positions.margin import micro_of

    asset = collateral.quote_asset()
    return {key: micro_of(amount, asset) for key, amount in margin_holds(asset=asset).items()}


def ensure_synced(*, now: datetime) -> Summary | None:
    """Resync only when some bucket is not synced (Redis restarted empty): the service
    recovers by itself, failing closed until it has."""
    if is_synced():
        return None
    return resync(now=now)
