"""bench/bench_ledger.py runs its children against a Redis of its own.

Every committed ledger batch mirrors its client balances into Redis, so the ledger rows time
that mirror. The children used to inherit the environment's ``REDIS_URL``: the rows then
depended on whatever answered there (a developer's ``make run`` Redis, which they wrote
into) or, with nothing there, timed a refused connection logged on every batch.
"""

from bench import bench_ledger
from core import embedded_redis


def test_the_children_get_a_redis_that_answers_and_is_not_the_environments(monkeypatch):
    monkeypatch.delenv("BENCH_REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    seen = []

    def child(label, database_url, var, quick, redis_url):
        seen.append((label, redis_url, embedded_redis.answers(redis_url)))
        return [{"name": f"ledger_{label}"}]

    monkeypatch.setattr(bench_ledger, "_child", child)
    monkeypatch.setattr(bench_ledger, "_postgres_url", lambda: None)
    bench_ledger.run(quick=True)
    assert [(label, answered) for label, _, answered in seen] == [("sqlite", True)]
    assert seen[0][1] != "redis://127.0.0.1:1/0"
    assert not embedded_redis.answers(seen[0][1])  # stopped with the run
