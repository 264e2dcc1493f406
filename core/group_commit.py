"""Group commit: calls that arrive together in one process share one batch.

A web worker serves several requests at once (granian's blocking threads). On the hot path
each request would otherwise pay its own Redis round trip, and the client side of one (a
pipeline packed, a write and a read system call, the GIL handed over around them) is a good
part of what a request costs the worker's core. With a ``GroupCommit`` the first call to
arrive leads: it waits at most ``window_us()`` microseconds for others (0: not at all;
those that arrive while its batch is out join the next one anyway), takes every call queued
by then, in arrival order, and runs them as one batch. It then hands the lead to the first
call that queued meanwhile, so no request serves other people's batches for longer than its
own.

Bounded: a batch takes at most ``MAX_BATCH`` calls; a follower waits only for the batch it
is in. A batch that raises fails each call of that batch with the same exception; nobody
waits forever. Used by the pre-trade check (``risk.pretrade.check.check_one``) and the
access check's record step (``compliance.gate``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 256


@dataclass(slots=True)
class _Call:
    item: Any
    ready: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # handed the lead instead of a result
    result: Any = None
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """``submit(item)`` returns ``run_batch(items)[i]`` for the batch ``item`` joined."""

    def __init__(
        self, run_batch: Callable[[list[T]], list[R]], window_us: Callable[[], int]
    ) -> None:
        self._run_batch, self._window_us = run_batch, window_us
        self._lock = threading.Lock()
        self._queue: list[_Call] = []
        self._leading = False

    def submit(self, item: T) -> R:
        mine = _Call(item)
        with self._lock:
            self._queue.append(mine)
            leads = not self._leading
            self._leading = True
        if not leads:
            mine.ready.wait()
            if not mine.leads:
                return self._result(mine)
        else:
            window = self._window_us()
            if window > 0:
                time.sleep(window / 1_000_000)
        self._lead()
        return self._result(mine)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            results = self._run_batch([call.item for call in batch])
            for call, result in zip(batch, results, strict=True):
                call.result = result
        except BaseException as exc:  # every call of the batch gets it
            for call in batch:
                call.error = exc
        with self._lock:
            successor = self._queue[0] if self._queue else None
            self._leading = successor is not None
        if successor is not None:
            successor.leads = True
            successor.ready.set()
        for call in batch:
            call.ready.set()

    @staticmethod
    def _result(mine: _Call):
        if mine.error is not None:
            raise mine.error
        return mine.result
