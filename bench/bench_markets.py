"""Benchmark of the market controller on a real Redis: ticks processed per second (one per
transaction, and 100 per transaction), state reads per second (the stored publication, and
a full recomputation), next to the same run's Redis round trip (PING, and HGETALL of a
market hash) -- the floor any tick or read through Redis pays.

Workload: the six demo instruments on Tuesday 24 November 2026 from 10:00 ET (regular
session), feed and book in turn, prices wobbling a cent around 100 (no breaker fires: the
steady state); one tick per second per instrument when posted one by one, batches of 100
ticks 100 ms apart (10 s of one instrument's feed) when batched. The notes count ticks
refused by rule (none expected). A write is WATCH +
HGETALL, the rules, then MULTI/HSET/EXEC of the changed fields: two round trips and the
LULD window (150 points here) parsed and rewritten.

Runs against ``BENCH_REDIS_URL`` if set, else a throw-away embedded Redis, never the
application's own Redis (it writes demo instruments' market hashes).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from bench.timing import per_call

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 New York
BATCH = 100


def _setup_django() -> None:
    import django
    from django.apps import apps

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")
    if not apps.ready:
        django.setup()


def _redis():
    from core import embedded_redis

    url = os.environ.get("BENCH_REDIS_URL")
    if url:
        return url, None
    port = embedded_redis.free_port()
    process = embedded_redis.start(Path(tempfile.mkdtemp()), port, persistent=False)
    return f"redis://127.0.0.1:{port}/0", process


class _Feed:
    """Ticks in time order per instrument: feed and book alternate, one second apart."""

    def __init__(
        self, symbols: list[str], start: datetime = START, step: timedelta = timedelta(seconds=1)
    ) -> None:
        from risk.markets.ticks import PriceTick, TickSource

        self.symbols = symbols
        self.start, self.step = start, step
        self.ignored = 0
        self.counter = itertools.count()
        self.prices = [Decimal("100.00"), Decimal("100.01")]
        self.sources = [TickSource.EXTERNAL, TickSource.BOOK]
        self.tick = PriceTick

    def next(self, size: int = 1):
        step = next(self.counter)
        symbol = self.symbols[step % len(self.symbols)]
        base = step // len(self.symbols) * size
        ticks = [
            self.tick(
                self.sources[(base + i) % 2],
                self.prices[(base + i) // 2 % 2],
                self.start + self.step * (base + i + 1),
            )
            for i in range(size)
        ]
        return symbol, ticks, ticks[-1].at


def _instant(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode().replace("Z", "+00:00"))


def _row(name: str, call, n: int, note: str, per: int = 1) -> dict:
    started = time.perf_counter()
    timing = per_call(call, n=n, warmup=max(200, n // 20))
    elapsed = time.perf_counter() - started
    ops = per * 1_000_000 / timing["median_us"] if timing["median_us"] else None
    return {
        "name": name,
        "median_us": timing["median_us"],
        "p99_us": timing["p99_us"],
        "ops_per_s": ops,
        "seconds": round(elapsed, 2),
        "n": n,
        "note": note,
    }


def run(quick: bool = False) -> list[dict]:
    _setup_django()
    import redis

    from risk import demo
    from risk.markets.controller import MarketController, MarketSnapshot
    from risk.markets.store import MemoryMarketStore, RedisMarketStore
    from risk.markets.ticks import PriceTick, TickSource

    n = 2_000 if quick else 20_000
    url, process = _redis()
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        snapshot = MarketSnapshot(MappingProxyType(demo.definitions()))
        symbols = sorted(snapshot.instruments)
        live = MarketController(RedisMarketStore(lambda: client), lambda: snapshot)
        for symbol in symbols:
            prior_close = START - timedelta(hours=23)
            live.apply_ticks(
                symbol, [PriceTick(TickSource.CLOSE, Decimal(100), prior_close)], START
            )
        rows = [_row("redis PING round trip", client.ping, n, "baseline: one round trip")]
        market_key = RedisMarketStore.hash_key(symbols[0])

        single = _Feed(symbols)

        def one_tick():
            symbol, ticks, now = single.next()
            single.ignored += len(live.apply_ticks(symbol, ticks, now).ignored)

        rows.append(_row("tick, one per transaction", one_tick, n, "Redis; ops = ticks/s"))
        rows[-1]["note"] += f"; {single.ignored} refused"
        rows.append(
            _row(
                "redis HGETALL of a market hash",
                lambda: client.hgetall(market_key),
                n,
                "baseline: the read every write and cold view starts with",
            )
        )
        after_single = START + timedelta(seconds=(n + 1000) // len(symbols) + 10)
        batched = _Feed(symbols, after_single, timedelta(milliseconds=100))

        def batch():
            symbol, ticks, now = batched.next(BATCH)
            batched.ignored += len(live.apply_ticks(symbol, ticks, now).ignored)

        rows.append(
            _row(
                f"ticks, {BATCH} per transaction",
                batch,
                max(50, n // 50),
                f"Redis; time per batch, ops = ticks/s ({BATCH} per call)",
                per=BATCH,
            )
        )
        rows[-1]["note"] += f"; {batched.ignored} refused"
        written = [
            (symbol, _instant(client.hget(RedisMarketStore.hash_key(symbol), "pub_at")))
            for symbol in symbols
        ]
        fresh = itertools.cycle(written).__next__

        def stored_read():
            symbol, at = fresh()
            return live.view(symbol, at)

        rows.append(
            _row(
                "state read, stored publication",
                stored_read,
                n,
                "HMGET of the pub_ fields, still exact: a GET /state before HTTP",
            )
        )
        reader = itertools.cycle(symbols).__next__
        last = max(at for _, at in written)
        later = last + timedelta(hours=2)
        rows.append(
            _row(
                "state read, recomputed",
                lambda: live.view(reader(), later),
                n,
                "HMGET, then HGETALL and a full recomputation (publication expired)",
            )
        )
        raw = {s: client.hgetall(RedisMarketStore.hash_key(s)) for s in symbols}
        rows.append(
            _row(
                "market_view from a fetched hash",
                lambda: live.view(symbols[0], last, raw[symbols[0]]),
                n,
                "no I/O: the pre-trade path after its own HGETALL/Lua read",
            )
        )
        memory = MarketController(MemoryMarketStore(), lambda: snapshot)
        for symbol in symbols:
            prior_close = START - timedelta(hours=23)
            memory.apply_ticks(
                symbol, [PriceTick(TickSource.CLOSE, Decimal(100), prior_close)], START
            )
        in_memory = _Feed(symbols)

        def memory_tick():
            symbol, ticks, now = in_memory.next()
            memory.apply_ticks(symbol, ticks, now)

        rows.append(_row("tick, in-memory store", memory_tick, n, "the replay's store: rules only"))
        return rows
    finally:
        client.close()
        if process is not None:
            process.kill()
            process.wait()
