"""One clock for the whole service.

Domain code takes ``now`` as an argument; the edges (views, tasks, commands) take it from
here. Tests and the tape replay swap in a ``ManualClock`` and move it instead of sleeping.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, replay)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


_clock: SystemClock | ManualClock = SystemClock()


def now() -> datetime:
    """The current instant, aware and in UTC."""
    return _clock.now()


@contextmanager
def use_clock(clock: SystemClock | ManualClock):
    global _clock
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous


def isoformat_z(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as the contract writes timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
