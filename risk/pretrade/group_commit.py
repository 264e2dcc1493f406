"""Group commit: single checks that arrive together in one worker process share a batch.

A web worker serves several requests at once (granian's blocking threads). Each single
check would otherwise pay its own Redis round trip, and its client-side cost (a pipeline
packed, a write and a read system call, the GIL handed over around them) is most of what a
check costs the worker's core. Here the first check to arrive leads: it waits at most
``PRETRADE_GROUP_COMMIT_US`` microseconds for others (0: not at all; those that arrive
while its round trip is out join the next batch anyway), takes every check queued by then
and runs them as one batch (``check.check_orders``), in arrival order, so orders of one
account keep the order they came in. It then hands the lead to the first check that
queued meanwhile, so no request serves other people's batches for longer than its own.

Bounded: a batch takes at most ``MAX_BATCH`` checks; a follower waits only for the batch it
is in. A leader that fails (a bug, not a Redis error: those are answers) fails each check of
its batch with the same exception; nobody waits forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from risk.pretrade.checks import Order

MAX_BATCH = 256


@dataclass(slots=True)
class _Check:
    order: Order
    fingerprint: str
    started: int
    ready: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # handed the lead instead of an answer
    answer: dict | None = None
    error: BaseException | None = None


class GroupCommit:
    """One per process; ``check`` is what a single-check request calls."""

    def __init__(
        self,
        run_batch: Callable[[list[tuple[Order, str]], datetime], list[dict]],
        now: Callable[[], datetime],
        window_us: Callable[[], int],
    ) -> None:
        self._run_batch, self._now, self._window_us = run_batch, now, window_us
        self._lock = threading.Lock()
        self._queue: list[_Check] = []
        self._leading = False

    def check(self, order: Order, fingerprint: str) -> dict:
        mine = _Check(order, fingerprint, time.perf_counter_ns())
        with self._lock:
            self._queue.append(mine)
            leads = not self._leading
            self._leading = True
        if not leads:
            mine.ready.wait()
            if not mine.leads:
                return self._answer(mine)
        else:
            window = self._window_us()
            if window > 0:
                time.sleep(window / 1_000_000)
        self._lead()
        return self._answer(mine)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            answers = self._run_batch([(c.order, c.fingerprint) for c in batch], self._now())
            for each, answer in zip(batch, answers, strict=True):
                each.answer = answer
        except BaseException as exc:  # every check of the batch gets it
            for each in batch:
                each.error = exc
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._leading = successor is not None
        if successor is not None:
            successor.leads = True
            successor.ready.set()
        for each in batch:
            each.ready.set()

    @staticmethod
    def _answer(mine: _Check) -> dict:
        if mine.error is not None:
            raise mine.error
        answer = mine.answer
        assert answer is not None
        if "latency_us" in answer:  # the request's own time, its wait included
            answer["latency_us"] = (time.perf_counter_ns() - mine.started) // 1000
        return answer
