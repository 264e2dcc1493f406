"""Account steps whose reply never came back.

A pipeline of account steps can reach Redis and be applied while its reply is lost: the
connection is reset, the socket times out, the primary is killed between the write and the
answer (and a replica that already holds the write is promoted). The client was answered
``DEGRADED_FAIL_CLOSED``; left alone, the reservation of an accept nobody was told about
would stay until the order expires, and the decision log would hold an accept that was
never given.

So each such order is remembered here, in the worker process, and the next batch that
reaches Redis voids it first (``void_step.lua`` in its in-doubt mode): its reservation and
open interest are released and its record becomes the reject that was answered. Only that
very attempt is voided: a record written by another attempt (a repeat on another worker),
or one a repeat has since been answered from, is kept (``account_step.lua`` marks those).

Bounded: at most ``LIMIT`` orders wait (about 1 KB each); past that, and once an order's
idempotency window is over, it is forgotten, and its reservation lapses with the order's
expiry — limits err on the safe side. A worker that dies forgets its list the same way.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass

from core.redis_client import REDIS_ERRORS
from core.scripts import run_pipeline, text
from risk.pretrade import steps

logger = logging.getLogger("gatehouse.pretrade")

LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Unanswered:
    """One order whose account step was sent and not answered."""

    account_id: str
    order_id: str
    instrument: str
    fingerprint: str
    record: bytes  # the decision record of the reject that was answered
    replay: bytes  # that reject's replayed parts
    attempt: bytes  # the replayed parts the unanswered step stored, if it was applied
    window_end_ms: int

    def queue_void(self, void, pipe, now_ms: int, *, attempt: bytes | None = None) -> None:
        """Queue this order's ``void_step`` on ``pipe``: in its in-doubt mode (only the record
        of this very attempt), or with ``attempt=b""`` whatever record the order has."""
        void(
            keys=steps.void_keys(self.account_id, self.order_id),
            args=[
                self.order_id,
                self.fingerprint,
                self.account_id,
                now_ms,
                self.record,
                self.replay,
                self.window_end_ms,
                self.attempt if attempt is None else attempt,
            ],
            client=pipe,
        )


_waiting: deque[Unanswered] = deque()
_lock = threading.Lock()


def note(orders: list[Unanswered]) -> None:
    with _lock:
        room = LIMIT - len(_waiting)
        if room < len(orders):
            logger.error(
                "pre-trade: %d unanswered orders forgotten (more than %d wait); their "
                "reservations lapse when the orders expire",
                len(orders) - max(room, 0),
                LIMIT,
            )
        _waiting.extend(orders[: max(room, 0)])


def waiting() -> int:
    return len(_waiting)


def settle(client, now_ms: int) -> int:
    """Void every waiting order still inside its idempotency window; returns how many were
    released. On a Redis error they wait for the next batch."""
    with _lock:
        batch = [order for order in _waiting if order.window_end_ms > now_ms]
        _waiting.clear()
    if not batch:
        return 0
    void = steps.script("void_step")
    release = steps.script("release_open_interest")

    def voids(pipe):
        for order in batch:
            order.queue_void(void, pipe, now_ms)

    def releases(pipe):
        for order in released:
            release(
                keys=steps.open_interest_keys(order.instrument),
                args=[steps.reservation_id(order.account_id, order.order_id), -1, 0],
                client=pipe,
            )

    try:
        outcomes = run_pipeline(client, voids)
        released = [
            order
            for order, (status, _) in zip(batch, outcomes, strict=True)
            if text(status) in ("voided", "absent")
        ]
        if released:
            run_pipeline(client, releases)
    except REDIS_ERRORS as exc:
        logger.error("pre-trade: %d unanswered orders not voided yet: %s", len(batch), exc)
        note(batch)
        return 0
    return len(released)
