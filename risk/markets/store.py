"""Where market records live: one hash per instrument and one stream of its transitions.

The controller works against :class:`MarketStore`, so the same code runs live on Redis and
in replay on a dict (``risk.markets.replay``). ``update`` is the only way to write a record:
it reads the hash, lets the caller compute the new fields from it, and writes them only if nobody
wrote in between -- on Redis with WATCH/MULTI/EXEC, retried on conflict, so two concurrent
tick posts to one instrument never lose an update. The transitions the caller reports are
appended to the instrument's stream in the same transaction (same hash slot:
``gh:{inst:<SYMBOL>}:transitions``), so a transition is recorded exactly when its state is.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from risk.markets.record import decode_hash
from risk.markets.state import Transition

T = TypeVar("T")
PUBLICATION_TOKEN = "pub_token"  # noqa: S105 (a field name, not a secret)
"""A field rewritten with a fresh random token by every write of a market hash: a reader
that keeps a copy of the publication (the pre-trade check) can ask Redis, inside its own
step, whether the copy is still the stored one. Random rather than counted, so a hash lost
with a flushed or restarted Redis and written again never repeats a token a copy holds."""
MAX_ATTEMPTS = 200
STREAM_MAXLEN = 100_000


class MarketContention(RuntimeError):
    """An update lost its optimistic race ``MAX_ATTEMPTS`` times in a row."""


@dataclass(frozen=True, slots=True)
class MarketWrite(Generic[T]):
    """What an update decided: fields to set (None: write nothing), transitions to append,
    and the value ``update`` returns."""

    fields: Mapping[str, str] | None
    transitions: tuple[Transition, ...] = ()
    result: Any = None


class MarketStore(Protocol):
    def read(self, symbol: str) -> dict[str, str]: ...

    def read_fields(self, symbol: str, names: tuple[str, ...]) -> dict[str, str]: ...

    def read_many(self, symbols: Iterable[str]) -> dict[str, dict[str, str]]: ...

    def update(self, symbol: str, change: Callable[[dict[str, str]], MarketWrite]) -> Any: ...

    def pending_transitions(self, symbol: str, limit: int) -> list[tuple[str, dict[str, str]]]: ...

    def acknowledge(self, symbol: str, ids: list[str]) -> None: ...


def new_token() -> str:
    return secrets.token_hex(8)


def _changed(current: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in fields.items() if current.get(name) != value}


class RedisMarketStore:
    """The live store. ``client`` is a callable so a test or a worker can swap the client."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client

    @staticmethod
    def hash_key(symbol: str) -> str:
        from core.redis_client import instrument_key

        return instrument_key(symbol, "market")

    @staticmethod
    def stream_key(symbol: str) -> str:
        from core.redis_client import instrument_key

        return instrument_key(symbol, "transitions")

    def read(self, symbol: str) -> dict[str, str]:
        return decode_hash(self._client().hgetall(self.hash_key(symbol)))

    def read_fields(self, symbol: str, names: tuple[str, ...]) -> dict[str, str]:
        """Only the named fields (HMGET): a state read needs the publication, not the
        LULD window that makes up most of the hash."""
        values = self._client().hmget(self.hash_key(symbol), names)
        return {name: value.decode() for name, value in zip(names, values, strict=True) if value}

    def read_many(self, symbols: Iterable[str]) -> dict[str, dict[str, str]]:
        symbols = list(symbols)
        pipe = self._client().pipeline(transaction=False)
        for symbol in symbols:
            pipe.hgetall(self.hash_key(symbol))
        return {
            symbol: decode_hash(raw) for symbol, raw in zip(symbols, pipe.execute(), strict=True)
        }

    def update(self, symbol: str, change: Callable[[dict[str, str]], MarketWrite]) -> Any:
        from redis.exceptions import WatchError

        key, stream = self.hash_key(symbol), self.stream_key(symbol)
        with self._client().pipeline(transaction=True) as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    current = decode_hash(pipe.hgetall(key))
                    write = change(current)
                    changed = _changed(current, write.fields or {})
                    if not changed and not write.transitions:
                        pipe.unwatch()
                        return write.result
                    pipe.multi()
                    if changed:
                        pipe.hset(key, mapping={**changed, PUBLICATION_TOKEN: new_token()})
                    for transition in write.transitions:
                        pipe.xadd(
                            stream, transition.to_dict(), maxlen=STREAM_MAXLEN, approximate=True
                        )
                    pipe.execute()
                    return write.result
                except WatchError:
                    continue
        raise MarketContention(f"{symbol}: {MAX_ATTEMPTS} conflicting writes in a row")

    def pending_transitions(self, symbol: str, limit: int) -> list[tuple[str, dict[str, str]]]:
        entries = self._client().xrange(self.stream_key(symbol), count=limit)
        return [(entry_id.decode(), decode_hash(fields)) for entry_id, fields in entries]

    def acknowledge(self, symbol: str, ids: list[str]) -> None:
        if ids:
            self._client().xdel(self.stream_key(symbol), *ids)


class MemoryMarketStore:
    """The replay store: the same fields and transitions, in a dict, under one lock."""

    def __init__(self) -> None:
        self._hashes: dict[str, dict[str, str]] = {}
        self._streams: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def read(self, symbol: str) -> dict[str, str]:
        with self._lock:
            return dict(self._hashes.get(symbol, {}))

    def read_fields(self, symbol: str, names: tuple[str, ...]) -> dict[str, str]:
        with self._lock:
            stored = self._hashes.get(symbol, {})
            return {name: stored[name] for name in names if name in stored}

    def read_many(self, symbols: Iterable[str]) -> dict[str, dict[str, str]]:
        with self._lock:
            return {symbol: dict(self._hashes.get(symbol, {})) for symbol in symbols}

    def update(self, symbol: str, change: Callable[[dict[str, str]], MarketWrite]) -> Any:
        with self._lock:
            current = self._hashes.setdefault(symbol, {})
            write = change(dict(current))
            current.update(_changed(current, write.fields or {}))
            stream = self._streams.setdefault(symbol, [])
            for transition in write.transitions:
                stream.append((f"{next(self._ids)}-0", transition.to_dict()))
            return write.result

    def pending_transitions(self, symbol: str, limit: int) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            return list(self._streams.get(symbol, [])[:limit])

    def acknowledge(self, symbol: str, ids: list[str]) -> None:
        with self._lock:
            gone = set(ids)
            stream = self._streams.get(symbol, [])
            self._streams[symbol] = [entry for entry in stream if entry[0] not in gone]
