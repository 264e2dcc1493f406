"""``make run`` as a new user runs it, for every configuration the README documents: a var
directory that does not exist yet, the embedded Redis or an external one, SQLite or
PostgreSQL. Each must migrate, load the demo, serve ``/readyz`` and answer the contract with
the printed key, then stop on SIGTERM. (Issue 12: with ``REDIS_URL`` set, ``migrate``
crashed with "unable to open database file" because ``var/`` was only made on the
embedded-Redis path.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import redis as redis_py
from django.conf import settings

from core import embedded_redis
from scripts import redis_topology

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.live_server_process, pytest.mark.once]


def _get(url: str, key: str | None = None):
    request = urllib.request.Request(url)  # noqa: S310 (our own server on loopback)
    if key:
        request.add_header("Authorization", f"Api-Key {key}")
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def _external_redis() -> str:
    """A logical database of the test Redis of its own, flushed before and after."""
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/12"
    redis_py.Redis.from_url(url).flushdb()
    return url


def _postgres_url(tmp_path) -> str | None:
    return os.environ.get("TEST_POSTGRES_URL")


def _make_run(var_dir: Path, extra: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = embedded_redis.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.dev",
        GATEHOUSE_VAR_DIR=str(var_dir),
        PORT=str(port),
        EMBEDDED_REDIS_PORT=str(embedded_redis.free_port()),
        WEB_WORKERS="2",
        WEB_THREADS="2",
        **extra,
    )
    env.pop("SIGNING_KEY_FILE", None)
    process = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    return process, port


def _wait_ready(process: subprocess.Popen, port: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"make run exited with {process.returncode}:\n{process.stdout.read()}"
            )
        try:
            if _get(f"http://127.0.0.1:{port}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("make run did not become ready")


def _stop(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return output


CONFIGURATIONS = [
    "embedded-redis",
    "external-redis",
    "external-redis-postgresql",
    "redis-cluster",
    "redis-sentinel",
]


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_make_run_starts_from_a_fresh_var_directory(tmp_path, configuration):
    var_dir = tmp_path / "not-yet" / "var"  # does not exist: a fresh clone has no var/
    extra: dict[str, str] = {}
    topology = None
    if configuration == "redis-cluster":  # README, "Scaling out": copy-paste settings
        topology = redis_topology.start_cluster(tmp_path / "cluster")
        extra.update(
            REDIS_MODE="cluster",
            REDIS_URL=topology.url(topology.names[0]),
            CELERY_BROKER_URL=_external_redis(),
        )
    elif configuration == "redis-sentinel":
        topology = redis_topology.start_sentinels(tmp_path / "sentinel", replicas=1)
        extra.update(
            REDIS_MODE="sentinel",
            REDIS_SENTINELS=redis_topology.sentinel_list(topology),
            REDIS_SENTINEL_MASTER="gatehouse",
            REDIS_URL="redis:///0",
            REDIS_MIN_REPLICAS="1",
        )
    elif configuration != "embedded-redis":
        extra["REDIS_URL"] = _external_redis()
    database = None
    if configuration.endswith("postgresql"):
        admin = os.environ.get("TEST_POSTGRES_URL") or settings.DATABASES["default"].get("NAME")
        assert os.environ.get("TEST_POSTGRES_URL"), "set TEST_POSTGRES_URL (CI does)"
        import psycopg

        database = f"gatehouse_make_run_{os.getpid()}"
        with psycopg.connect(
            admin.replace("postgres://", "postgresql://", 1), autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{database}"')
            c.execute(f'CREATE DATABASE "{database}"')
        extra["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + database
    process, port = _make_run(var_dir, extra)
    try:
        _wait_ready(process, port)
        credentials = json.loads((var_dir / "demo-credentials.json").read_text())
        base = f"http://127.0.0.1:{port}"
        status, whoami = _get(f"{base}/api/v1/auth/whoami", credentials["api_key"])
        assert status == 200 and "pretrade" in whoami["scopes"]
        status, account = _get(f"{base}/api/v1/accounts/acc-sg", credentials["api_key"])
        assert status == 200 and account["residence_country"] == "SG"
        # the shipped sanctions lists are loaded before the demo accounts are screened
        status, lists = _get(f"{base}/api/v1/screening/lists", credentials["api_key"])
        assert status == 200 and lists["lists"][0]["entries"] == 8976
        status, screened = _get(f"{base}/api/v1/accounts/acc-de", credentials["api_key"])
        assert status == 200 and screened["sanctions_status"] == "review"
        status, ready = _get(f"{base}/readyz")
        assert ready["redis"]["mode"] == extra.get("REDIS_MODE", "standalone")
        if topology is not None:  # the demo's state is on the topology's servers
            assert sum(topology.key_counts().values()) > 0
        _wait_for_demo_traders(base, credentials["api_key"])
    finally:
        output = _stop(process)
        if topology is not None:
            topology.stop()
        own = settings.REDIS_URL.rsplit("/", 1)[0] + "/12"
        for name in ("REDIS_URL", "CELERY_BROKER_URL"):
            if extra.get(name) == own:
                redis_py.Redis.from_url(own).flushdb()
        if database:
            import psycopg

            admin = os.environ["TEST_POSTGRES_URL"]
            with psycopg.connect(
                admin.replace("postgres://", "postgresql://", 1), autocommit=True
            ) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    where = output.find("Traceback")
    assert where < 0, output[max(0, where - 500) : where + 2500]
    _assert_it_speaks_plainly(output, credentials, var_dir)


def _wait_for_demo_traders(base: str, key: str, seconds: float = 90) -> None:
    """The demo feed runs: its traders' orders reach the pre-trade check (an order every
    3 s on average), so an ordinary trader soon has a reservation or a position."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for account in ("acc-sg", "acc-hk", "acc-gb"):
            status, risk = _get(f"{base}/api/v1/accounts/{account}/risk", key)
            if status == 200 and risk["instruments"]:
                return
        time.sleep(1)
    raise AssertionError("no demo trader's order reached the pre-trade check")


def _assert_it_speaks_plainly(output: str, credentials: dict, var_dir: Path) -> None:
    """Issue 18: one line per process started (name, pid, what it serves), then the
    console URL, the officers and the API key -- no Celery banners or warnings -- and each
    process's own output in var/log/<process>.log."""
    lines = output.splitlines()
    started = [line.split()[1] for line in lines if line.startswith("started ")]
    expected = ["web", "worker-realtime", "worker-default", "worker-reports", "beat", "demo-feed"]
    assert [name for name in started if name != "redis"] == expected, output
    assert all(" pid " in line for line in lines if line.startswith("started "))
    key_line = next(i for i, line in enumerate(lines) if "operator API key" in line)
    last_started = max(i for i, line in enumerate(lines) if line.startswith("started "))
    assert key_line > last_started and lines[key_line].endswith(credentials["api_key"])
    officers = next(line for line in lines if line.strip().startswith("officers:"))
    assert credentials["password"] in officers and credentials["checker_password"] in officers
    assert any(line.strip().startswith("console:  http://127.0.0.1:") for line in lines)
    for noise in ("-------------- ", "celery beat v", "SecurityWarning", "[tasks]"):
        assert noise not in output, noise
    for name in expected:
        assert (var_dir / "log" / f"{name}.log").exists(), name
    assert "demo feed on" in (var_dir / "log" / "demo-feed.log").read_text()
